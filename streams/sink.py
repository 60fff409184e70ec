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
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_never, wait_exponential

from streams.store import (
    DATABASE,
    DEAD_LETTER_COLUMNS,
    PROGRESS_COLUMNS,
    RAW_EVENT_COLUMNS,
    Engine,
    insert_facts,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class SinkBatch:
    facts: list[tuple] = field(default_factory=list)
    raw_events: list[tuple] = field(default_factory=list)
    dead_letters: list[tuple] = field(default_factory=list)
    progress: list[tuple] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.facts) + len(self.raw_events) + len(self.dead_letters)


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
        self.stats = SinkStats()

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

    async def aread(self, work: Callable[[Engine], T]) -> T:
        """`acall` retried with backoff until ClickHouse answers: for the reads a
        batch cannot go on without (stored positions, histories). An outage is
        waited out like a write's, never a reason to exit."""
        return await asyncio.get_running_loop().run_in_executor(None, self._read_retrying, work)

    def _read_retrying(self, work: Callable[[Engine], T]) -> T:
        for attempt in self._retrying():
            with attempt, self._lock:
                return work(self._connected())
        raise AssertionError("unreachable: retried until it succeeds")

    def _retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.2, max=self._max_backoff),
            stop=stop_never,
            before_sleep=self._failed,
            reraise=True,
        )

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
            "clickhouse call failed (attempt %d), retrying: %r",
            retry_state.attempt_number,
            retry_state.outcome.exception(),
        )

    def write(self, batch: SinkBatch) -> None:
        """Store the batch; blocks (retrying with backoff) until ClickHouse takes it."""
        began = time.perf_counter()
        with self._lock:
            self._write_retrying(batch)
        self.stats.batches += 1
        self.stats.rows += len(batch)
        self.stats.last_seconds = time.perf_counter() - began

    def _write_retrying(self, batch: SinkBatch) -> None:
        for attempt in self._retrying():
            with attempt:
                self._insert_all(batch)
