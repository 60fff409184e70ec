"""The ClickHouse writer: one call stores a batch's rows, retrying until it can.

Order matters for readers: facts (with their units and the tables boards
read, `insert_facts`) and raw events first, dead letters, then
the partition progress that `replay --wait` watches, so progress never runs
ahead of the rows it vouches for. Every table dedups a re-sent row, so a
batch stored twice (a retry after a lost answer, a redelivery after a
crash) is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_when_event_set, wait_exponential

from streams.clickhouse.queries import insert_facts
from streams.clickhouse.rows import (
    DEAD_LETTER_COLUMNS,
    PROGRESS_COLUMNS,
    RAW_EVENT_COLUMNS,
    SinkBatch,
)
from streams.clickhouse.sql import DATABASE, Engine

log = logging.getLogger(__name__)

T = TypeVar("T")


class SinkClosed(Exception):
    """The sink was closed (the worker is stopping) before the batch was stored."""


@dataclass
class SinkStats:
    batches: int = 0
    rows: int = 0
    failures: int = 0
    last_seconds: float = 0.0


class ClickHouseSink:
    """Stores batches through an Engine made by `connect` (re-made after errors)."""

    def __init__(
        self,
        connect: Callable[[], Engine],
        max_backoff: float = 10.0,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._connect = connect
        self._on_failure = on_failure
        self._engine: Engine | None = None
        self._max_backoff = max_backoff
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.stats = SinkStats()

    def close(self) -> None:
        """Stop retrying: a write waiting for ClickHouse gives up (SinkClosed) at
        once, so a worker told to stop during an outage stops. Its batch is not
        acknowledged and comes again to the next worker."""
        self._closing.set()

    def _connected(self) -> Engine:
        if self._engine is None:
            self._engine = self._connect()
        return self._engine

    def call(self, work: Callable[[Engine], T]) -> T:
        """Run `work` with the engine; one caller at a time (clients are not thread-safe)."""
        with self._lock:
            try:
                return work(self._connected())
            except Exception:
                self._engine = None
                raise

    async def acall(self, work: Callable[[Engine], T]) -> T:
        """`call` from the event loop, on a worker thread (the client blocks)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.call, work)

    async def awrite(self, batch: SinkBatch) -> None:
        """`write` from the event loop, on a worker thread."""
        await asyncio.get_running_loop().run_in_executor(None, self.write, batch)

    def _insert_all(self, batch: SinkBatch) -> None:
        engine = self._connected()
        insert_facts(engine, batch.facts)
        for table, columns, rows in (
            ("raw_events", RAW_EVENT_COLUMNS, batch.raw_events),
            ("dead_letters", DEAD_LETTER_COLUMNS, batch.dead_letters),
            ("partition_progress", PROGRESS_COLUMNS, batch.progress),
        ):
            if rows:
                engine.insert(f"{DATABASE}.{table}", columns, rows)

    def _failed(self, retry_state) -> None:  # tenacity hook
        self.stats.failures += 1
        self._on_failure()
        self._engine = None  # reconnect on the next attempt
        log.warning(
            "clickhouse write or read failed (attempt %d), retrying: %r",
            retry_state.attempt_number,
            retry_state.outcome.exception(),
        )

    def write(self, batch: SinkBatch) -> None:
        """Store the batch; blocks (retrying with backoff) until ClickHouse takes it."""
        began = time.perf_counter()
        with self._lock:
            self._retrying(lambda: self._insert_all(batch))
        self.stats.batches += 1
        self.stats.rows += len(batch)
        self.stats.last_seconds = time.perf_counter() - began

    def read(self, work: Callable[[Engine], T]) -> T:
        """`call`, retried like a write: what a batch must read before its rows
        can be stored (stored positions, histories) waits out an outage too."""
        with self._lock:
            return self._retrying(lambda: work(self._connected()))

    async def aread(self, work: Callable[[Engine], T]) -> T:
        """`read` from the event loop, on a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, self.read, work)

    def _retrying(self, work: Callable[[], T]) -> T:
        if self._closing.is_set():
            raise SinkClosed("the sink is closed")
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(Exception),
                wait=wait_exponential(multiplier=0.2, max=self._max_backoff),
                stop=stop_when_event_set(self._closing),  # else: until ClickHouse answers
                sleep=self._closing.wait,  # the backoff ends early when the sink closes
                before_sleep=self._failed,
                reraise=True,
            ):
                with attempt:
                    return work()
        except Exception as exc:
            if self._closing.is_set():
                raise SinkClosed(f"the sink closed before ClickHouse answered: {exc!r}") from exc
            raise
        raise AssertionError("unreachable")  # pragma: no cover
