"""The backfill: a backlog of dossier events → ClickHouse in large batches.

faust hands an agent one event at a time through its stream machinery,
which costs ~90 µs of CPU per event before any work is done (bench/peers.py;
a bare aiokafka read costs ~3). A province-year cannot pass through that in
ten minutes, so a backlog is read here with aiokafka's `getmany` in batches
of `backfill_batch_events` and handed to the same `streams.pipeline.BatchStore`
as the live worker's: the same rules, the same gap-checked progress in
ClickHouse as the only truth of what is stored, the same fencing, the same
order of writes. A backfill and the worker store identical facts
(tests/integration/test_backfill.py).

Where it resumes, and where a worker started after it resumes, is the
stored progress, so it has a consumer group of its own (`<app_id>-backfill`:
a group keeps the protocol of its first members, and faust's is another).
Run it while the workers are stopped: running both, each would store the
same events (harmless to the tables, wasted work). It stops once every
partition it holds is stored up to its end, unless told to follow. No
timers run here: the watch, the rollups and the open-dossier cleanup are
the worker's.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from schemas.settings import Settings
from streams.clickhouse.engines import connect as connect_engine
from streams.clickhouse.sink import ClickHouseSink, SinkClosed
from streams.clickhouse.sql import Engine
from streams.collector import tune_collector
from streams.histories import DossierHistories
from streams.kafka.config import aiokafka_options
from streams.pipeline import BatchStore, OwnedPartitions, return_freed_memory
from streams.rules.calendar import working_calendar
from streams.rules.positions import Partition
from streams.rules.processor import BatchProcessor, Message

log = logging.getLogger(__name__)
# a partition's share of a 50k-event batch is ~8 MB (4 partitions, ~600 B an event)
FETCH_BYTES_PER_PARTITION = 16 * 1024 * 1024


@dataclass
class BackfillResult:
    events: int = 0  # events topic messages stored (new and repeated)
    new_events: int = 0
    duplicates: int = 0
    dead_letters: int = 0  # messages turned into dead letters
    letters_stored: int = 0  # dead-letter topic messages stored
    batches: int = 0
    seconds: float = 0.0


class _Rebalance(ConsumerRebalanceListener):
    """Fencing: aiokafka awaits these before the group moves on."""

    def __init__(self, owned: OwnedPartitions) -> None:
        self.owned = owned
        self.revocations = 0  # a batch being topped up starts again after one

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.revocations += 1
        await self.owned.revoke(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.owned.assign(assigned)


class Backfill:
    def __init__(
        self,
        settings: Settings,
        connect: Callable[[], Engine] | None = None,
        follow: bool = False,
        on_batch: Callable[[BackfillResult], None] = lambda result: None,
    ) -> None:
        self.settings, self.follow, self.on_batch = settings, follow, on_batch
        self.sink = ClickHouseSink(connect or (lambda: connect_engine(settings, "writer")))
        self.processor = BatchProcessor(working_calendar(settings), source=settings.events_topic)
        self.histories = DossierHistories(settings.cached_histories)
        options = aiokafka_options(settings)
        self.consumer = AIOKafkaConsumer(
            **options,
            group_id=f"{settings.app_id}-backfill",
            enable_auto_commit=False,  # where to resume is ClickHouse's progress
            auto_offset_reset="earliest",
            max_poll_records=settings.backfill_batch_events,
            max_partition_fetch_bytes=FETCH_BYTES_PER_PARTITION,
            session_timeout_ms=int(settings.broker_session_timeout * 1000),
            heartbeat_interval_ms=int(settings.broker_heartbeat_interval * 1000),
            rebalance_timeout_ms=int(settings.broker_rebalance_timeout * 1000),
        )
        self.producer = AIOKafkaProducer(**options, acks="all")
        self.owned = OwnedPartitions(
            self._seek, settings, self.sink, self.processor, self.histories
        )
        self.store = BatchStore(
            self.owned,
            self.processor,
            self.histories,
            self.sink,
            self._send_dead_letter,
            overlap=True,  # a batch's write runs while the next is judged
        )
        self.rebalance = _Rebalance(self.owned)
        self.stopping = asyncio.Event()
        self.result = BackfillResult()

    async def _seek(self, key: Partition, offset: int) -> None:
        self.consumer.seek(TopicPartition(*key), offset)

    async def _send_dead_letter(self, key: bytes, value: bytes) -> Any:
        return await self.producer.send(self.settings.dead_letter_topic, value=value, key=key)

    def stop(self) -> None:
        """Stop after the batch in flight (a write waiting for ClickHouse gives up)."""
        self.stopping.set()
        self.sink.close()

    async def run(self) -> BackfillResult:
        began = time.monotonic()
        await self.producer.start()
        try:
            await self.consumer.start()
            try:
                topics = [self.settings.events_topic, self.settings.dead_letter_topic]
                self.consumer.subscribe(topics, listener=self.rebalance)
                await self._consume()
            finally:
                await self.consumer.stop()
        finally:
            await self.producer.stop()
        self.result.seconds = time.monotonic() - began
        return self.result

    async def _consume(self) -> None:
        try:
            await self._batches()
            await self.store.written()
        except SinkClosed:
            return  # stopping: what was not stored is read again next time

    async def _batches(self) -> None:
        while not self.stopping.is_set():
            fetched = await self._fetch()
            if not fetched:
                if not self.follow and await self._caught_up():
                    return
                continue
            await self._store(fetched)
            self.on_batch(self.result)
            del fetched
            return_freed_memory()

    async def _fetch(self) -> dict[TopicPartition, list[Any]]:
        """Up to a batch's events, topped up for at most `batch_max_seconds`:
        `getmany` answers with whatever is fetched already, a few thousand
        records while a publisher is still sending, and each batch costs its
        inserts and its folds of the dossiers it touches."""
        wanted = self.settings.backfill_batch_events
        wait_s = self.settings.batch_max_seconds
        fetched = await self.consumer.getmany(timeout_ms=int(wait_s * 1000), max_records=wanted)
        count = sum(map(len, fetched.values()))
        deadline = time.monotonic() + wait_s
        while fetched and count < wanted and not self.stopping.is_set():
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                break
            revocations = self.rebalance.revocations
            more = await self.consumer.getmany(timeout_ms=left_ms, max_records=wanted - count)
            if self.rebalance.revocations != revocations:
                # what came before may be another owner's now, and a partition
                # kept reads again from its stored position: start again
                fetched, count = {}, 0
            for tp, records in more.items():
                fetched.setdefault(tp, []).extend(records)
                count += len(records)
            if not more:
                break
        return fetched

    async def _store(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        # aiokafka's records have Message's fields: handed on as they are
        events: list[Message] = []
        letters: list[Message] = []
        for tp, records in fetched.items():
            (events if tp.topic == self.settings.events_topic else letters).extend(records)
        if events:
            processed = await self.store.events(events)
            self.result.events += processed.new_events + processed.duplicates
            self.result.new_events += processed.new_events
            self.result.duplicates += processed.duplicates
            self.result.dead_letters += len(processed.dead_letters)
        if letters:
            stored = await self.store.dead_letters(letters)
            self.result.letters_stored += len(stored.letters)
        self.result.batches += 1

    async def _caught_up(self) -> bool:
        """Every partition held is stored up to the end its last fetch showed."""
        await self.store.written()  # what progress says is stored, is
        owned = set(self.owned.owned)
        if not owned:
            return False  # not joined yet
        unknown = owned - self.owned.progress.positions.keys()
        if unknown:  # nothing fetched since the assignment: read where it stands
            async with self.owned.lock:
                await self.owned.seek_to_stored(unknown)
            return False
        tps = [TopicPartition(*key) for key in owned]
        listed = await self.consumer.end_offsets(tps)
        for tp in tps:
            # the larger of the listed end and the last fetch response's: Tansu
            # lists a partition's end as its last batch's base offset + 1, and a
            # fetch may predate the dead letters this backfill just sent
            end = max(listed[tp], self.consumer.highwater(tp) or 0)
            if self.owned.progress.positions[(tp.topic, tp.partition)].next < end:
                return False
        return True


def run_backfill(
    settings: Settings,
    follow: bool = False,
    on_batch: Callable[[BackfillResult], None] = lambda result: None,
) -> BackfillResult:
    """Run a backfill until caught up (or, following, until SIGINT/SIGTERM)."""

    tune_collector()

    async def main() -> BackfillResult:
        backfill = Backfill(settings, follow=follow, on_batch=on_batch)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, backfill.stop)
        return await backfill.run()

    return asyncio.run(main())
