"""Runs the inspectors' watch (streams/rules/watch.py) against ClickHouse, the
alerts topic and Alertmanager. Wiring only.

One step: read how far the watch got (`watch_position`) and the clock
(wall time live, `watch_settle_seconds` behind now so that an instant's
events are stored before the step passes it; in event mode the latest
stored event time, and only once the workers have stored everything on the
events topic, so a replay is judged on complete histories), read the facts
the span needs, compute, then store the alert and hotspot rows, send the
alerts topic, push Alertmanager, and only then move the position. A step
that fails is run again whole: the rows, messages and Alertmanager alerts
carry stable keys, so a repeat adds nothing, and a restart resumes at the
stored position (nothing re-sent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import orjson

from schemas.settings import Settings
from streams.alertmanager import push_alerts
from streams.clickhouse.alerts import (
    ALERT_COLUMNS,
    HOTSPOT_COLUMNS,
    alert_row,
    event_clock,
    first_receipt,
    hotspot_row,
    position_row,
    read_watch_facts,
    stored_tracker,
    watch_position,
)
from streams.clickhouse.findings import read_findings
from streams.clickhouse.sink import ClickHouseSink
from streams.clickhouse.sql import DATABASE, Engine
from streams.progress import stored_offsets
from streams.rules.alerts import InspectorAlert, description, summary
from streams.rules.calendar import working_calendar
from streams.rules.watch import (
    WatchStep,
    for_alertmanager,
    integrity_alert,
    watch_config,
    watch_step,
    watch_window_start,
)

log = logging.getLogger(__name__)
POSITION = "inspectors"


def alert_message(a: InspectorAlert, tz: tzinfo) -> bytes:
    """The alerts topic's record: codes, times, Vietnamese texts; no personal data."""
    return orjson.dumps(
        {
            "alert_id": a.key,
            "kind": a.kind,
            "at": a.at.isoformat(),
            "dossier_id": a.dossier_id or None,
            "agency_code": a.agency_code or None,
            "district_code": a.district_code or None,
            "commune_code": a.commune_code or None,  # METRICS.md §8
            "commune_name": a.commune_name or None,
            "area_code": a.area_code or None,
            "area_name": a.area_name or None,
            "field_code": a.field_code or None,
            "procedure_code": a.procedure_code or None,
            "due": a.due.isoformat() if a.due else None,
            "hours_late": round(a.hours_late, 2),
            "ends_at": a.ends_at.isoformat() if a.ends_at else None,
            "summary": summary(a, tz),
            "description": description(a, tz),
        }
    )


@dataclass
class Span:
    since: datetime
    until: datetime


class Watcher:
    def __init__(
        self,
        settings: Settings,
        sink: ClickHouseSink,
        send: Callable[[str, bytes], Awaitable[Any]],
        end_offsets: Callable[[], Awaitable[dict[int, int]]],
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.tz = working_calendar(settings).tz
        self.sink = sink
        self.send = send  # (key, value) → awaitable confirmed by the broker
        self.end_offsets = end_offsets  # events topic: partition → next offset
        self.wall = wall
        self.config = watch_config(settings)
        # event clock: the stored progress last seen, and since when (monotonic s)
        self._last_stored: tuple[dict[int, int], float] | None = None

    async def _clock(self) -> datetime | None:
        if self.settings.watch_clock == "wall":
            return self.wall() - timedelta(seconds=self.settings.watch_settle_seconds)
        stored = await self.sink.acall(lambda e: stored_offsets(e, self.settings.events_topic))
        for partition, end in (await self.end_offsets()).items():
            if end > 0 and stored.get(partition, -1) < end - 1:
                return None  # not everything is stored yet: wait
        # a listed end can fall short of the log's (Tansu lists a batch's base
        # offset + 1): the clock moves only once the stored progress has held
        # still for `watch_settle_seconds`, so a step never judges a replay
        # whose tail is still being stored
        now = time.monotonic()
        if self._last_stored is None or self._last_stored[0] != stored:
            self._last_stored = (stored, now)
        if now - self._last_stored[1] < self.settings.watch_settle_seconds:
            return None
        return await self.sink.acall(event_clock)

    async def _span(self) -> Span | None:
        until = await self._clock()
        if until is None:
            return None
        since = await self.sink.acall(lambda e: watch_position(e, POSITION))
        if since is None:
            since = (
                until - timedelta(hours=self.settings.watch_lookback_hours)
                if self.settings.watch_clock == "wall"
                else await self.sink.acall(first_receipt)
            )
        if since is None or until <= since:
            return None
        until = min(until, since + timedelta(days=self.settings.watch_max_step_days))
        return Span(since, until)

    async def step(self) -> WatchStep | None:
        """One watch step; None when there is nothing to do yet."""
        span = await self._span()
        if span is None:
            return None
        # the open hotspots as stored, each step: another worker may have led meanwhile
        tracker = await self.sink.acall(lambda e: stored_tracker(e, self.config))
        start = watch_window_start(span.since, self.config)
        facts = await self.sink.acall(lambda e: read_watch_facts(e, start, span.until))
        result = await asyncio.get_running_loop().run_in_executor(
            None,
            watch_step,
            facts,
            span.since,
            span.until,
            tracker,
            working_calendar(self.settings),
            self.config,
        )
        findings = await self.sink.acall(lambda e: read_findings(e, span.since, span.until))
        result.alerts = sorted(
            [*result.alerts, *(integrity_alert(f, self.tz) for f in findings)],
            key=lambda a: (a.at, a.key),
        )
        await self.sink.acall(lambda e: _store_alerts(e, result, self.tz))
        sent = [await self.send(a.key, alert_message(a, self.tz)) for a in result.alerts]
        await asyncio.gather(*sent)
        if self.settings.alertmanager_url and result.alerts:
            s = self.settings
            alerts = for_alertmanager(result.alerts)
            await push_alerts(s.alertmanager_url, alerts, self.tz, s.board_url)
        # last, the hotspot records and the position: until both are stored, a
        # failed step re-derives the same changes (same ids) and sends them again
        now = self.wall()
        await self.sink.acall(lambda e: _store_progress(e, result, span.until, now))
        if result.alerts:  # routine: what the watch is for
            log.info(
                "inspector alerts",
                extra={"count": len(result.alerts), "until": span.until.isoformat()},
            )
        return result


def _store_alerts(engine: Engine, result: WatchStep, tz: tzinfo) -> None:
    deadline = [alert_row(a, tz) for a in result.alerts if a.kind != "hotspot"]
    if deadline:
        engine.insert(f"{DATABASE}.alerts", ALERT_COLUMNS, deadline)


def _store_progress(engine: Engine, result: WatchStep, until: datetime, now: datetime) -> None:
    if result.hotspots:
        rows = [hotspot_row(c) for c in result.hotspots]
        engine.insert(f"{DATABASE}.hotspots", HOTSPOT_COLUMNS, rows)
    engine.insert(
        f"{DATABASE}.watch_position",
        ("name", "until", "updated_at"),
        [position_row(POSITION, until, now)],
    )
