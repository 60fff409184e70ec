"""A batch of messages → ClickHouse, whatever consumer read it.

The live worker (faust, `streams.worker`) and the backfill (plain aiokafka
batches, `streams.backfill`) hand their messages here, so both use the same
pure rules, the same stored progress as the only truth of what is stored,
and the same order of writes: dead letters confirmed by the broker, then
ClickHouse (progress last). Only the transport differs: how a batch is
read, how a partition is sought and how a dead letter is sent.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Awaitable, Callable, Iterable
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from functools import partial

from schemas.settings import Settings
from streams.clickhouse.queries import stored_dossier_ids, stored_payloads, stored_positions
from streams.clickhouse.rows import SinkBatch, stored_batch, stored_time
from streams.clickhouse.sink import ClickHouseSink
from streams.histories import DossierHistories
from streams.kafka.clients import sample_logs
from streams.rules.positions import Partition, Position, Verdict, judge_log, position_row
from streams.rules.processor import BatchProcessor, Message, ProcessedBatch, dead_letter_batch

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 60.0  # broker confirmation of a batch's dead letters

Seek = Callable[[Partition, int], Awaitable[None]]
# sends one dead letter (key, value); the awaitable it returns resolves once the broker has it
SendDeadLetter = Callable[[bytes, bytes], Awaitable[Awaitable[object]]]


async def _nothing_in_flight() -> None:
    return None


class OwnedPartitions:
    """The partitions this process may write for, and where each resumes.

    Fencing: a revocation waits on `lock`, which every batch holds from
    reading its messages to storing its rows, and then drops the revoked
    partitions; a batch keeps only messages of partitions it still owns. So
    nothing of a revoked partition is written once the rebalance that hands
    it to another worker has gone on (the group cannot finish it before
    this worker's revocation returns).

    Resuming: the first batch of a newly assigned partition first checks
    the broker's log against the stored position (`judge_log`), starts a
    new epoch when the log is another one (and says so), and seeks the
    partition to the stored position itself (`seek`: the consumer's own).
    """

    def __init__(
        self,
        seek: Seek,
        settings: Settings,
        sink: ClickHouseSink,
        processor: BatchProcessor,
        histories: DossierHistories,
    ) -> None:
        self.seek_to, self.settings, self.sink = seek, settings, sink
        self.progress = processor.progress
        self.histories = histories
        self.topics = (settings.events_topic, settings.dead_letter_topic)
        self.lock = asyncio.Lock()
        self.owned: set[Partition] = set()
        # the write in flight, awaited before partitions change (BatchStore.written)
        self.settle: Callable[[], Awaitable[None]] = _nothing_in_flight

    async def revoke(self, revoked: Iterable) -> None:
        """Given the consumer's topic-partitions (with .topic and .partition)."""
        async with self.lock:
            await self.settle()
            gone = {(tp.topic, tp.partition) for tp in revoked}
            self.owned -= gone
            self.progress.forget(gone)
            self.histories.clear()  # its other workers' writes are not seen here

    async def assign(self, assigned: Iterable) -> None:
        async with self.lock:
            await self.settle()
            new = {(tp.topic, tp.partition) for tp in assigned if tp.topic in self.topics}
            self.owned |= new
            log.info("partitions assigned: %s", ", ".join(f"{t}[{p}]" for t, p in sorted(new)))
            self.progress.forget(new)  # checked again at its first batch
            self.histories.clear()

    async def unstored(self, messages: list[Message]) -> list[Message]:
        """The batch's messages this worker owns and has not stored (under `lock`)."""
        mine = [m for m in messages if (m.topic, m.partition) in self.owned]
        unchecked = {(m.topic, m.partition) for m in mine} - self.progress.positions.keys()
        if unchecked:
            first: dict[Partition, int] = {}
            for m in mine:
                first.setdefault((m.topic, m.partition), m.offset)
            await self.seek_to_stored(unchecked, first)
        return self.progress.unstored(mine)

    async def seek_to_stored(
        self, partitions: set[Partition], fetched_from: dict[Partition, int] | None = None
    ) -> None:
        """`resume` them, then seek each to its stored position unless the
        consumer already reads from there (`fetched_from`); under `lock`."""
        await self.resume(partitions)
        for key in partitions:
            at = self.progress.positions[key].next
            if (fetched_from or {}).get(key) != at:
                await self._seek(key, at)

    async def resume(self, partitions: set[Partition]) -> None:
        """Judge each partition's log against its stored position and set progress."""
        stored: dict[Partition, Position] = {}
        for topic in {t for t, _ in partitions}:
            rows = await self.sink.aread(partial(stored_positions, topic=topic))
            for t, p in partitions:
                if t == topic:
                    epoch, offset, digest = rows.get(p, (0, -1, ""))
                    stored[(t, p)] = Position(epoch, offset, digest)
        wanted = {key: position.offset for key, position in stored.items()}
        samples = await asyncio.to_thread(sample_logs, self.settings, wanted)
        rebased = []
        for key, position in stored.items():
            sample = samples[key]
            judged = judge_log(position, sample.log_start, sample.found)
            self.progress.set(key, judged.position)
            if judged.verdict is not Verdict.SAME_LOG:
                say = log.info if judged.verdict is Verdict.NOTHING_STORED else log.warning
                say(
                    "%s[%d]: %s (stored: epoch %d, offset %d; the log starts at %d, "
                    "holds %s there): resuming at offset %d, epoch %d",
                    *key, judged.verdict.value, position.epoch, position.offset,
                    sample.log_start, sample.found, judged.position.next, judged.position.epoch,
                )  # fmt: skip
            if judged.rebased:
                rebased.append(position_row(key, judged.position, stored_time(datetime.now(UTC))))
        if rebased:  # at once, so `replay --wait` no longer counts the old log's offsets
            log.warning(
                "the broker's log is not the one the stored progress belongs to: progress "
                "re-based for %s; dossier histories are read from ClickHouse raw_events",
                ", ".join(f"{t}[{p}]" for t, p, *_ in rebased),
            )
            await self.sink.awrite(SinkBatch(progress=rebased))

    async def reread(self, gaps: dict[Partition, int]) -> None:
        for (topic, partition), offset in gaps.items():
            log.warning("re-reading %s[%d] from %d (skipped)", topic, partition, offset)
            await self._seek((topic, partition), offset)

    async def _seek(self, key: Partition, offset: int) -> None:
        # A failed seek (the partition leaving mid-rebalance) loses nothing:
        # progress stays put, so the next batch shows the gap again, and a new
        # assignment seeks from the stored position anyway.
        try:
            await self.seek_to(key, offset)
        except Exception as exc:
            log.warning("seek %s[%d] to %d failed: %r", *key, offset, exc)


class BatchStore:
    """Judges and stores batches of the events and dead-letter topics.

    With `overlap` (the backfill), a batch's write runs while the next batch
    is read and judged, with at most one write in flight, so ClickHouse
    works on one core while this process judges on the other. What that
    must not break: writes stay in batch order (the next starts only after
    the last is stored); a dossier finished in a batch leaves the cache only
    once that batch is stored and the next has not touched it (else a later
    event would read a `raw_events` history missing the write in flight);
    and a rebalance waits for the write in flight (`OwnedPartitions.settle`).
    """

    def __init__(
        self,
        owned: OwnedPartitions,
        processor: BatchProcessor,
        histories: DossierHistories,
        sink: ClickHouseSink,
        send_dead_letter: SendDeadLetter,
        timed: Callable[[], AbstractContextManager] = nullcontext,
        overlap: bool = False,
    ) -> None:
        self.owned, self.processor, self.histories = owned, processor, histories
        self.sink, self.send_dead_letter = sink, send_dead_letter
        self.timed = timed  # around each batch's write (the worker's metric)
        self.overlap = overlap
        self._writing: asyncio.Future | None = None
        self._finished: set[str] = set()  # finished in the batch being written
        owned.settle = self.written

    async def events(self, messages: list[Message]) -> ProcessedBatch:
        """Messages of the events topic: judged and stored (raises SinkClosed when
        stopping); with `overlap`, stored once the next call or `written` returns."""
        async with self.owned.lock:  # a revocation waits for the batch's write
            fresh = await self.owned.unstored(messages)
            await read_histories(self.sink, self.histories, fresh)
            processed = self.processor.process(fresh, self.histories)
            await self.owned.reread(processed.gaps)
            await self.written(keep={f.dossier_id for f in processed.facts})
            self._finished = {f.dossier_id for f in processed.facts if f.end_at is not None}
            self._writing = asyncio.ensure_future(self._store(processed))
            if not self.overlap:
                await self.written()
        return processed

    async def written(self, keep: AbstractSet[str] = frozenset()) -> None:
        """Wait until the write in flight is stored (raises what it raised); the
        dossiers it finished then leave the cache, but those in `keep` (judged
        again since, by a batch not stored yet)."""
        writing = self._writing
        if writing is not None:
            await writing  # whoever else waits (a rebalance) waits for the same write
            if self._writing is writing:
                self._writing = None
            self.histories.drop(self._finished - keep)
            self._finished = set()

    async def dead_letters(self, messages: list[Message]) -> ProcessedBatch:
        """Messages of the dead-letter topic: the same gap-checked progress as events."""
        async with self.owned.lock:
            await self.written()
            fresh = await self.owned.unstored(messages)
            stored = dead_letter_batch(fresh, self.processor.progress, datetime.now(UTC))
            await self.sink.awrite(stored_batch(stored))
            await self.owned.reread(stored.gaps)
        return stored

    async def _store(self, processed: ProcessedBatch) -> None:
        """Dead letters confirmed by the broker, then ClickHouse (progress last).

        The order matters after a kill -9: progress in ClickHouse says "done",
        so the dead letters it covers must already be on their topic. A crash
        before ClickHouse stored the progress replays the batch (stored again,
        harmlessly).
        """
        with self.timed():
            sent = []
            for letter in processed.dead_letters:
                key, value = letter.dead_letter_id.encode(), letter.to_bytes()
                sent.append(await self.send_dead_letter(key, value))
            await asyncio.wait_for(asyncio.gather(*sent), SEND_TIMEOUT_S)
            await self.sink.awrite(stored_batch(processed))
        if processed.dead_letters:
            log.warning("dead letters", extra={"count": len(processed.dead_letters)})


async def read_histories(
    sink: ClickHouseSink, histories: DossierHistories, messages: list[Message]
) -> None:
    """Bring the stored histories of the batch's dossiers into the cache."""
    if not histories.known_loaded:
        histories.load_known(await sink.aread(stored_dossier_ids))
    keys = {m.key.decode("utf-8", "replace") for m in messages if m.key is not None}
    wanted = histories.to_read(keys)
    for i in range(0, len(wanted), 2000):
        chunk = wanted[i : i + 2000]
        histories.fill(chunk, await sink.aread(partial(stored_payloads, dossier_ids=chunk)))


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)


def return_freed_memory() -> None:
    """Give the memory a batch freed back to the OS: glibc keeps freed heap
    pages, so the worker's size followed its largest 10k-event batch rather
    than its state. Called once the batch's objects are garbage; with 100k
    open dossiers that was 228 MiB of resident size instead of 310-350 MiB
    (bench/memory.py). Takes well under a millisecond. A no-op without glibc."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
