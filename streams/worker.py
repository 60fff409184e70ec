"""The faust app: dossier-events → per-dossier state → ClickHouse.

Wiring only; the work is in `BatchProcessor` (pure) and `ClickHouseSink`.
At-least-once: a batch's offsets are acknowledged only after its rows are in
ClickHouse and its state/dead-letter messages are flushed to the broker; the
tables make a repeat harmless.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import weakref
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
import orjson
from faust.streams import _current_event  # see _as_current_event
from faust.types import TP

from reports.period import UnitKind
from schemas.settings import Settings
from streams.engines import DriverEngine
from streams.metrics import WorkerMetrics
from streams.processor import (
    BatchProcessor,
    Message,
    ProcessedBatch,
    progress_rows,
    read_dead_letter,
)
from streams.replay import stored_offsets
from streams.rollups import month_bounds, refresh_rollups
from streams.sink import ClickHouseSink, SinkBatch
from streams.store import Engine, dead_letter_row, delete_finished_open, report_rows
from streams.watcher import Watcher

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 60.0  # broker confirmation of a batch's state and dead letters


def _as_current_event(event: Any) -> None:
    # faust's RocksDB store files a key under the partition of the "current
    # event". In a batch that is the last event taken, which may belong to
    # another partition, so set it to the event the key comes from.
    _current_event.set(weakref.ref(event))


class _TableStore:
    """DossierStore over a faust Table, keeping each key with its event's partition."""

    def __init__(self, table: faust.Table, events: dict[Message, Any]) -> None:
        self.table = table
        self.events = events

    def get(self, dossier_id: str) -> bytes | None:
        value = self.table.get(dossier_id)
        if value is None or isinstance(value, bytes):
            return value
        # values recovered from the changelog into RocksDB come back JSON-decoded
        return orjson.dumps(value)

    def put(self, dossier_id: str, history: bytes, message: Message) -> None:
        _as_current_event(self.events[message])
        self.table[dossier_id] = history


def make_app(settings: Settings, connect: Any = None) -> faust.App:
    """The worker app; `connect` makes the ClickHouse Engine (tests pass their own)."""
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{b}" for b in settings.bootstrap_servers.split(",")],
        broker_credentials=settings.broker_credentials(),
        store=settings.state_store,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=settings.broker_session_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        broker_rebalance_timeout=settings.broker_rebalance_timeout,
        broker_commit_every=settings.batch_max_events,
        broker_commit_interval=settings.commit_interval,
        stream_wait_empty=False,
        web_enabled=False,
        datadir=settings.data_dir,
        table_cleanup_interval=3600.0,
    )
    events_topic = app.topic(
        settings.events_topic, key_serializer="raw", value_serializer="raw", internal=False
    )
    dead_topic = app.topic(settings.dead_letter_topic, key_serializer="raw", value_serializer="raw")
    table = app.Table(
        "dossiers",
        default=None,
        partitions=settings.topic_partitions,
        schema=faust.Schema(
            key_type=str, value_type=bytes, key_serializer="raw", value_serializer="raw"
        ),
        use_partitioner=True,  # changelog partition = hash(dossier_id), as on the events topic
        options=_rocksdb_options(settings) if settings.state_store.startswith("rocksdb") else None,
    )
    processor = BatchProcessor(settings.calendar, source=settings.events_topic)
    metrics = WorkerMetrics()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_host)
    sink = ClickHouseSink(
        connect or (lambda: _driver(settings)), on_failure=metrics.sink_failures.inc
    )

    async def handle(stream: faust.StreamT, batch: list[Any]) -> None:
        events = {_message(e): e for e in batch}
        try:
            await _know_stored_progress(processor, sink, list(events))
            processed = processor.process(list(events), _TableStore(table, events))
            changelog = _buffered_sends(app)  # the batch's state writes, not yet sent
            with metrics.sink_seconds.time():
                await _store(app, sink, dead_topic, processed, changelog)
            for (topic, partition), offset in processed.gaps.items():
                log.warning("re-reading %s[%d] from %d (skipped)", topic, partition, offset)
                await app.consumer.seek(TP(topic, partition), offset)
            _count(metrics, app, processed, events)
        except Exception:
            _die("unexpected error in a batch")
        for event in batch:
            await stream.ack(event)

    @app.agent(events_topic)
    async def process(stream: faust.StreamT) -> None:
        async for batch in stream.noack_take(settings.batch_max_events, settings.batch_max_seconds):
            await handle(stream, batch)
            del batch  # the batch's objects are garbage only now, so trimming helps
            _return_freed_memory()

    @app.on_rebalance_complete.connect
    async def resume_from_stored(sender: Any = None, **_: Any) -> None:
        """Resume every partition right after what ClickHouse holds.

        faust acks (and may commit) messages it skips while a rebalance is in
        progress, so its committed offsets can run ahead of what was stored.
        The stored progress is the truth: commit it back just before faust
        seeks its partitions to the committed offsets. Re-reading a few
        stored messages is harmless; skipping one is not.
        """
        topics = (settings.events_topic, settings.dead_letter_topic)
        assigned = [tp for tp in app.consumer.assignment() if tp.topic in topics]
        if not assigned:
            return
        stored = {topic: await sink.acall(partial(stored_offsets, topic=topic)) for topic in topics}
        offsets = {tp: stored[tp.topic].get(tp.partition, -1) + 1 for tp in assigned}
        processor.progress.reset({(tp.topic, tp.partition): o for tp, o in offsets.items()})
        # faust's own commit path, with our offsets
        if await app.consumer._commit(offsets):
            log.warning("resuming from stored offsets: %s", offsets)
        else:  # the group moved on: the next rebalance runs this again
            log.warning("could not commit stored offsets %s (rebalancing again?)", offsets)

    alerts_topic = app.topic(settings.alerts_topic, key_serializer="raw", value_serializer="raw")

    async def send_alert(key: str, value: bytes) -> Any:
        return await alerts_topic.send(key=key.encode(), value=value, force=True)

    async def events_end_offsets() -> dict[int, int]:
        tps = [TP(settings.events_topic, p) for p in range(settings.topic_partitions)]
        listed = await app.consumer.highwaters(*tps)
        # Tansu lists a partition's end as its last batch's base offset + 1; the
        # fetch responses of the partitions this worker reads carry the true end
        return {tp.partition: max(end, _fetched_end(app, tp) or 0) for tp, end in listed.items()}

    watcher = Watcher(settings, sink, send_alert, events_end_offsets)

    @app.timer(settings.watch_interval, on_leader=True)
    async def watch_deadlines_and_hotspots() -> None:
        try:
            step = await watcher.step()
        except Exception as exc:  # the next tick runs the same step again
            metrics.watch_failures.inc()
            log.warning("watch step failed", extra={"error": repr(exc)})
            return
        if step is not None:
            metrics.observe_watch(step.alerts, step.due_soon)

    @app.timer(settings.rollup_interval)
    async def refresh_current_month() -> None:
        cal = settings.calendar
        today = cal.local(datetime.now(UTC))
        start, end = month_bounds(today.year, today.month, cal)

        def refresh(engine: Engine) -> int:
            return refresh_rollups(engine, start, end, cal, settings.province)

        def month_so_far(engine: Engine) -> list:
            return report_rows(engine, start, datetime.now(UTC), UnitKind.AGENCY, cal)

        try:
            await sink.acall(refresh)
            rows = await sink.acall(month_so_far)
            metrics.set_month(rows)
        except Exception as exc:  # the next tick tries again; never stop the worker for it
            log.warning("rollup refresh failed", extra={"error": repr(exc)})

    @app.timer(settings.open_cleanup_interval, on_leader=True)
    async def drop_finished_from_open() -> None:
        try:
            await sink.acall(delete_finished_open)
        except Exception as exc:  # only the table's size depends on it: try next time
            log.warning("open_dossiers cleanup failed", extra={"error": repr(exc)})

    @app.agent(dead_topic)
    async def store_dead_letters(stream: faust.StreamT) -> None:
        async for batch in stream.noack_take(settings.batch_max_events, settings.batch_max_seconds):
            now = datetime.now(UTC)
            messages = [_message(e) for e in batch]
            try:
                rows = [dead_letter_row(read_dead_letter(m, now)) for m in messages]
                stored = SinkBatch(dead_letters=rows, progress=progress_rows(messages, now))
                await sink.awrite(stored)
            except Exception:
                _die("unexpected error storing dead letters")
            for event in batch:
                await stream.ack(event)

    return app


def _count(
    metrics: WorkerMetrics, app: faust.App, processed: ProcessedBatch, events: dict[Message, Any]
) -> None:
    metrics.events.labels("new").inc(processed.new_events)
    metrics.events.labels("duplicate").inc(processed.duplicates)
    metrics.events.labels("dead_letter").inc(len(processed.dead_letters))
    metrics.batches.inc()
    metrics.last_batch.set_to_current_time()
    last: dict[int, Any] = {}
    for message, event in events.items():
        last[message.partition] = event.message.tp, message.offset
    for partition, (tp, offset) in last.items():
        end = _fetched_end(app, tp)
        if end is not None:
            metrics.lag.labels(str(partition)).set(max(0, end - offset - 1))


def _fetched_end(app: faust.App, tp: TP) -> int | None:
    """The partition's end offset from this worker's last fetch response."""
    try:
        return app.consumer.highwater(tp)
    except Exception:  # unknown before the first fetch response, or not assigned here
        return None


async def _know_stored_progress(
    processor: BatchProcessor, sink: ClickHouseSink, messages: list[Message]
) -> None:
    """Partitions seen for the first time start from what ClickHouse holds,
    so a batch that begins past it shows up as a gap and is re-read."""
    unknown = {(m.topic, m.partition) for m in messages} - processor.progress.next.keys()
    for topic in {t for t, _ in unknown}:
        stored = await sink.acall(partial(stored_offsets, topic=topic))
        first = {(t, p): stored.get(p, -1) + 1 for t, p in unknown if t == topic}
        log.warning("first unstored offsets: %s", first)
        processor.progress.reset(first)


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


async def _store(
    app: faust.App,
    sink: ClickHouseSink,
    dead_topic: faust.TopicT,
    processed: ProcessedBatch,
    changelog: list[asyncio.Future],
) -> None:
    """State changelog and dead letters confirmed by the broker, then ClickHouse.

    The order matters after a kill -9: rows and stream progress in ClickHouse
    say "done", so whatever they cover must already be durable elsewhere. A
    crash after the broker confirmed but before ClickHouse stored just
    replays the batch (duplicates are stored again, harmlessly).
    """
    sent = list(changelog)
    for letter in processed.dead_letters:
        # force: not attached to the current event (faust would send it at ack)
        key, value = letter.dead_letter_id.encode(), letter.to_bytes()
        sent.append(await dead_topic.send(key=key, value=value, force=True))
    await app.producer.flush()
    await asyncio.wait_for(asyncio.gather(*sent), SEND_TIMEOUT_S)
    await sink.awrite(processed.sink)
    if processed.dead_letters:
        log.warning("dead letters", extra={"count": len(processed.dead_letters)})


def _buffered_sends(app: faust.App) -> list[asyncio.Future]:
    """The messages waiting in faust's producer buffer (table changelog writes).

    A table write only queues its changelog message, and `producer.flush()`
    gives up after 0.1 s with messages still queued, so the batch waits on
    the queued messages' own futures (resolved when the broker confirms).
    `process` runs without yielding to the loop, so every changelog message
    of the batch is still in the queue when this is called right after it.
    """
    return list(app.producer.buffer.pending._queue)


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


def _rocksdb_options(settings: Settings) -> dict[str, int]:
    """Memory bounds of each table partition's RocksDB (faust's RocksDBOptions)."""
    mib = 1024 * 1024
    return {
        "write_buffer_size": settings.rocksdb_write_buffer_mib * mib,
        "block_cache_size": settings.rocksdb_block_cache_mib * mib,
    }


def _driver(settings: Settings) -> Engine:
    return DriverEngine(
        host=settings.clickhouse_host,
        port=settings.clickhouse_port,
        user=settings.clickhouse_writer_user,
        password=settings.clickhouse_writer_password.get_secret_value(),
    )
