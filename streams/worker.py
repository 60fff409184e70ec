"""The faust app: dossier-events → per-dossier state → ClickHouse.

Wiring only; the work is in `streams.pipeline` (what a batch does, shared
with the backfill), `BatchProcessor` (pure) and `ClickHouseSink`. ClickHouse is the only durable
state: a dossier's history is its `raw_events`, a partition's progress is
`partition_progress` (gap-checked, tied to its log by a fingerprint). The
worker seeks its partitions there itself; faust's committed offsets never
decide what is skipped. A batch is stored in ClickHouse (progress last)
after its dead letters are confirmed by the broker, then acknowledged; the
tables make a repeat harmless.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import TP

from schemas.settings import Settings
from streams.clickhouse.engines import connect
from streams.clickhouse.queries import delete_finished_open, report_rows
from streams.clickhouse.rollups import month_bounds, refresh_rollups
from streams.clickhouse.sink import ClickHouseSink, SinkClosed
from streams.clickhouse.sql import Engine
from streams.histories import DossierHistories
from streams.kafka.config import faust_options
from streams.metrics import WorkerMetrics
from streams.pipeline import BatchStore, OwnedPartitions, return_freed_memory
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind
from streams.rules.positions import Partition
from streams.rules.processor import BatchProcessor, Message, ProcessedBatch
from streams.watcher import Watcher

log = logging.getLogger(__name__)


@dataclass
class WorkerParts:
    """What the worker's agents, handlers and timers share (built once in make_app)."""

    app: faust.App
    settings: Settings
    sink: ClickHouseSink
    metrics: WorkerMetrics
    owned: OwnedPartitions
    store: BatchStore


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
    dead_topic = app.topic(settings.dead_letter_topic, key_serializer="raw", value_serializer="raw")

    async def seek(key: Partition, offset: int) -> None:
        await app.consumer.seek(TP(*key), offset)

    async def send_dead_letter(key: bytes, value: bytes) -> Any:
        # force: not attached to the current event (faust would send it at ack)
        return await dead_topic.send(key=key, value=value, force=True)

    owned = OwnedPartitions(seek, settings, sink, processor, histories)
    store = BatchStore(
        owned, processor, histories, sink, send_dead_letter, timed=metrics.sink_seconds.time
    )
    parts = WorkerParts(app, settings, sink, metrics, owned, store)
    _consume_events(parts)
    _consume_dead_letters(parts, dead_topic)
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
            processed = await p.store.events([_message(e) for e in batch])
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
            return_freed_memory()


def _consume_dead_letters(p: WorkerParts, dead_topic: faust.TopicT) -> None:
    """The dead-letter agent: the same gap-checked progress as the events."""

    @p.app.agent(dead_topic)
    async def store_dead_letters(stream: faust.StreamT) -> None:
        take = stream.noack_take(p.settings.batch_max_events, p.settings.batch_max_seconds)
        async for batch in take:
            try:
                await p.store.dead_letters([_message(e) for e in batch])
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


def _driver(settings: Settings) -> Engine:
    return connect(settings, "writer")
