"""The faust app: dossier-events → per-dossier state → ClickHouse.

Wiring only; the work is in `BatchProcessor` (pure), `DossierHistories`,
`streams.rules.positions` and `ClickHouseSink`. ClickHouse is the only durable
state: a dossier's history is its `raw_events`, a partition's progress is
`partition_progress` (gap-checked, tied to its log by a fingerprint). The
worker seeks its partitions there itself; faust's committed offsets never
decide what is skipped. A batch is stored in ClickHouse (progress last)
after its dead letters are confirmed by the broker, then acknowledged; the
tables make a repeat harmless.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
from faust.types import TP

from schemas.settings import Settings
from streams.clickhouse.engines import connect
from streams.clickhouse.queries import (
    delete_finished_open,
    report_rows,
    stored_dossier_ids,
    stored_payloads,
    stored_positions,
)
from streams.clickhouse.rollups import month_bounds, refresh_rollups
from streams.clickhouse.rows import SinkBatch, stored_batch, stored_time
from streams.clickhouse.sink import ClickHouseSink, SinkClosed
from streams.clickhouse.sql import Engine
from streams.histories import DossierHistories
from streams.kafka.clients import sample_logs
from streams.kafka.config import faust_options
from streams.metrics import WorkerMetrics
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind
from streams.rules.positions import Partition, Position, Verdict, judge_log, position_row
from streams.rules.processor import BatchProcessor, Message, ProcessedBatch, dead_letter_batch
from streams.watcher import Watcher

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 60.0  # broker confirmation of a batch's dead letters


@dataclass
class WorkerParts:
    """What the worker's agents, handlers and timers share (built once in make_app)."""

    app: faust.App
    settings: Settings
    sink: ClickHouseSink
    processor: BatchProcessor
    histories: DossierHistories
    metrics: WorkerMetrics
    owned: OwnedPartitions
    dead_topic: faust.TopicT


def make_app(settings: Settings, connect: Any = None) -> faust.App:
    """The worker app; `connect` makes the ClickHouse Engine (tests pass their own)."""
    app = faust.App(
        settings.app_id,
        **faust_options(settings),
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=settings.batch_max_events,
        broker_commit_interval=settings.commit_interval,
        stream_wait_empty=False,
        web_enabled=False,
        datadir=settings.data_dir,
    )
    processor = BatchProcessor(working_calendar(settings), source=settings.events_topic)
    histories = DossierHistories(settings.cached_histories)
    metrics = WorkerMetrics()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_host)
    sink = ClickHouseSink(
        connect or (lambda: _driver(settings)), on_failure=metrics.sink_failures.inc
    )
    parts = WorkerParts(
        app,
        settings,
        sink,
        processor,
        histories,
        metrics,
        OwnedPartitions(app, settings, sink, processor, histories),
        app.topic(settings.dead_letter_topic, key_serializer="raw", value_serializer="raw"),
    )
    _consume_events(parts)
    _consume_dead_letters(parts)
    _follow_rebalances(parts)
    _watch(parts)
    _keep_tables(parts)
    return app


def _consume_events(p: WorkerParts) -> None:
    """The events agent: a batch is read, judged, stored (progress last), then acked."""
    topic = p.app.topic(
        p.settings.events_topic, key_serializer="raw", value_serializer="raw", internal=False
    )

    async def handle(stream: faust.StreamT, batch: list[Any]) -> None:
        try:
            async with p.owned.lock:  # a revocation waits for the batch's write
                messages = await p.owned.unstored([_message(e) for e in batch])
                await _read_histories(p.sink, p.histories, messages)
                processed = p.processor.process(messages, p.histories)
                with p.metrics.sink_seconds.time():
                    await _store(p.sink, p.dead_topic, processed)
                p.histories.drop(f.dossier_id for f in processed.facts if f.end_at is not None)
                await p.owned.reread(processed.gaps)
            _count(p.metrics, p.app, processed, batch)
        except SinkClosed:
            return  # stopping: the batch stays unacknowledged and comes again
        except Exception:
            _die("unexpected error in a batch")
        for event in batch:
            await stream.ack(event)

    @p.app.agent(topic)
    async def process(stream: faust.StreamT) -> None:
        take = stream.noack_take(p.settings.batch_max_events, p.settings.batch_max_seconds)
        async for batch in take:
            await handle(stream, batch)
            del batch  # the batch's objects are garbage only now, so trimming helps
            _return_freed_memory()


def _consume_dead_letters(p: WorkerParts) -> None:
    """The dead-letter agent: the same gap-checked progress as the events."""

    @p.app.agent(p.dead_topic)
    async def store_dead_letters(stream: faust.StreamT) -> None:
        take = stream.noack_take(p.settings.batch_max_events, p.settings.batch_max_seconds)
        async for batch in take:
            now = datetime.now(UTC)
            try:
                async with p.owned.lock:
                    messages = await p.owned.unstored([_message(e) for e in batch])
                    stored = dead_letter_batch(messages, p.processor.progress, now)
                    await p.sink.awrite(stored_batch(stored))
                    await p.owned.reread(stored.gaps)
            except SinkClosed:
                return  # stopping: not acknowledged, stored by the next worker
            except Exception:
                _die("unexpected error storing dead letters")
            for event in batch:
                await stream.ack(event)


def _follow_rebalances(p: WorkerParts) -> None:
    """Fencing and seeking: partitions are ours only between assignment and revocation."""

    @p.app.on_before_shutdown.connect
    async def stop_writing(sender: Any = None, **_: Any) -> None:
        # A batch waiting out a ClickHouse outage would hold the stop (and the
        # revocation, which waits for its lock) for as long as the outage lasts.
        p.sink.close()

    @p.app.on_partitions_revoked.connect
    async def fence_revoked(sender: Any = None, revoked: Any = (), **_: Any) -> None:
        await p.owned.revoke(revoked)

    @p.app.on_partitions_assigned.connect
    async def take_assigned(sender: Any = None, assigned: Any = (), **_: Any) -> None:
        await p.owned.assign(assigned)


def _watch(p: WorkerParts) -> None:
    """The inspectors' watch on the leader: alerts topic, Alertmanager, hotspots."""
    settings, app = p.settings, p.app
    alerts_topic = app.topic(settings.alerts_topic, key_serializer="raw", value_serializer="raw")

    async def send_alert(key: str, value: bytes) -> Any:
        return await alerts_topic.send(key=key.encode(), value=value, force=True)

    async def events_end_offsets() -> dict[int, int]:
        tps = [TP(settings.events_topic, n) for n in range(settings.topic_partitions)]
        listed = await app.consumer.highwaters(*tps)
        # Tansu lists a partition's end as its last batch's base offset + 1; the
        # fetch responses of the partitions this worker reads carry the true end
        return {tp.partition: max(end, _fetched_end(app, tp) or 0) for tp, end in listed.items()}

    watcher = Watcher(settings, p.sink, send_alert, events_end_offsets)

    @app.timer(settings.watch_interval, on_leader=True)
    async def watch_deadlines_and_hotspots() -> None:
        try:
            step = await watcher.step()
        except Exception as exc:  # the next tick runs the same step again
            p.metrics.watch_failures.inc()
            log.warning("watch step failed", extra={"error": repr(exc)})
            return
        if step is not None:
            p.metrics.observe_watch(step.alerts, step.due_soon)


def _keep_tables(p: WorkerParts) -> None:
    """Upkeep timers: the month's rollups and metrics, open_dossiers' size."""
    settings = p.settings

    @p.app.timer(settings.rollup_interval)
    async def refresh_current_month() -> None:
        cal = working_calendar(settings)
        today = cal.local(datetime.now(UTC))
        start, end = month_bounds(today.year, today.month, cal)

        def refresh(engine: Engine) -> int:
            return refresh_rollups(engine, start, end, cal, settings.province)

        def month_so_far(engine: Engine) -> list:
            return report_rows(engine, start, datetime.now(UTC), UnitKind.AGENCY, cal)

        try:
            await p.sink.acall(refresh)
            rows = await p.sink.acall(month_so_far)
            p.metrics.set_month(rows)
        except Exception as exc:  # the next tick tries again; never stop the worker for it
            log.warning("rollup refresh failed", extra={"error": repr(exc)})

    @p.app.timer(settings.open_cleanup_interval, on_leader=True)
    async def drop_finished_from_open() -> None:
        try:
            await p.sink.acall(delete_finished_open)
        except Exception as exc:  # only the table's size depends on it: try next time
            log.warning("open_dossiers cleanup failed", extra={"error": repr(exc)})


def _count(
    metrics: WorkerMetrics, app: faust.App, processed: ProcessedBatch, batch: list[Any]
) -> None:
    metrics.events.labels("new").inc(processed.new_events)
    metrics.events.labels("duplicate").inc(processed.duplicates)
    metrics.events.labels("dead_letter").inc(len(processed.dead_letters))
    metrics.batches.inc()
    metrics.last_batch.set_to_current_time()
    last: dict[TP, int] = {}
    for event in batch:
        last[event.message.tp] = event.message.offset
    for tp, offset in last.items():
        end = _fetched_end(app, tp)
        if end is not None:
            metrics.lag.labels(str(tp.partition)).set(max(0, end - offset - 1))


def _fetched_end(app: faust.App, tp: TP) -> int | None:
    """The partition's end offset from this worker's last fetch response."""
    try:
        return app.consumer.highwater(tp)
    except Exception:  # unknown before the first fetch response, or not assigned here
        return None


class OwnedPartitions:
    """The partitions this worker may write for, and where each resumes.

    Fencing: a revocation waits on `lock`, which every batch holds from
    reading its messages to storing its rows, and then drops the revoked
    partitions; a batch keeps only messages of partitions it still owns. So
    nothing of a revoked partition is written once the rebalance that hands
    it to another worker has gone on (the group cannot finish it before
    this worker's revocation returns).

    Resuming: the first batch of a newly assigned partition first checks
    the broker's log against the stored position (`judge_log`), starts a
    new epoch when the log is another one (and says so), and seeks the
    partition to the stored position itself.
    """

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        sink: ClickHouseSink,
        processor: BatchProcessor,
        histories: DossierHistories,
    ) -> None:
        self.app, self.settings, self.sink = app, settings, sink
        self.progress = processor.progress
        self.histories = histories
        self.topics = (settings.events_topic, settings.dead_letter_topic)
        self.lock = asyncio.Lock()
        self.owned: set[Partition] = set()

    async def revoke(self, revoked: Any) -> None:
        async with self.lock:
            gone = {(tp.topic, tp.partition) for tp in revoked}
            self.owned -= gone
            self.progress.forget(gone)
            self.histories.clear()  # its other workers' writes are not seen here

    async def assign(self, assigned: Any) -> None:
        async with self.lock:
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
            await self._resume(unchecked)
            first: dict[Partition, int] = {}
            for m in mine:
                first.setdefault((m.topic, m.partition), m.offset)
            for key in unchecked:
                at = self.progress.positions[key].next
                if first[key] != at:
                    await self._seek(key, at)
        return self.progress.unstored(mine)

    async def _resume(self, partitions: set[Partition]) -> None:
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
            await self.app.consumer.seek(TP(*key), offset)
        except Exception as exc:
            log.warning("seek %s[%d] to %d failed: %r", *key, offset, exc)


async def _read_histories(
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


def _die(what: str) -> None:
    """Exit at once, leaving the batch unacknowledged: a supervisor restarts the
    worker and the batch is delivered again (a faust agent that crashes would
    otherwise sit idle while the process looks alive)."""
    log.exception("%s; exiting for a restart", what)
    logging.shutdown()
    os._exit(70)


def _message(event: Any) -> Message:
    m = event.message
    return Message(m.topic, m.partition, m.offset, m.key, m.value)


async def _store(sink: ClickHouseSink, dead_topic: faust.TopicT, processed: ProcessedBatch) -> None:
    """Dead letters confirmed by the broker, then ClickHouse (progress last).

    The order matters after a kill -9: progress in ClickHouse says "done",
    so the dead letters it covers must already be on their topic. A crash
    before ClickHouse stored the progress replays the batch (stored again,
    harmlessly).
    """
    sent = []
    for letter in processed.dead_letters:
        # force: not attached to the current event (faust would send it at ack)
        key, value = letter.dead_letter_id.encode(), letter.to_bytes()
        sent.append(await dead_topic.send(key=key, value=value, force=True))
    await asyncio.wait_for(asyncio.gather(*sent), SEND_TIMEOUT_S)
    await sink.awrite(stored_batch(processed))
    if processed.dead_letters:
        log.warning("dead letters", extra={"count": len(processed.dead_letters)})


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)


def _return_freed_memory() -> None:
    """Give the memory a batch freed back to the OS: glibc keeps freed heap
    pages, so the worker's size followed its largest 10k-event batch rather
    than its state. Called once the batch's objects are garbage; with 100k
    open dossiers that was 228 MiB of resident size instead of 310-350 MiB
    (bench/memory.py). Takes well under a millisecond. A no-op without glibc."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def _driver(settings: Settings) -> Engine:
    return connect(settings, "writer")
