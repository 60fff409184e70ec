"""The inspectors' watch: deadline alerts and hotspots over a span of time
(METRICS.md §5–6). Pure: the worker hands in stored facts and the span.

A watch step covers [since, until) of the watch clock (wall time live,
event time on replay) and yields:
- every deadline alert whose instant lies in the span (`deadline_alerts`, the
  list `motcua alerts` prints too: `alerts_between` fixes each alert's
  instant and key from the facts alone, each judged with the due in force
  then, so steps of any length, repeated or resumed after a restart, give
  the same alerts, and a step that sees only the events stored up to its
  clock sends what the complete history lists for its span);
- the hotspot changes at each instant of a fixed grid (`hotspot_every`,
  aligned on local midnight) inside (since, until], so a replay evaluates
  hotspots at the same simulated instants however its steps fall.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from schemas.events import parse_local_datetime
from schemas.settings import Settings
from streams.rules.alerts import InspectorAlert
from streams.rules.calendar import WorkingCalendar
from streams.rules.deadlines import Alert, AlertConfig, alerts_between
from streams.rules.facts import DossierFacts, due_in_force, standing_at
from streams.rules.hotspots import (
    CellKind,
    HotspotChange,
    HotspotConfig,
    HotspotTracker,
    HotspotWatch,
)
from streams.rules.integrity import FINDING_NAMES_VI, Finding, FindingKind
from streams.rules.lifecycle import Standing
from streams.rules.units import commune_of, is_two_tier, recorded_area


@dataclass(frozen=True)
class WatchConfig:
    alerts: AlertConfig = field(default_factory=AlertConfig)
    hotspots: HotspotConfig = field(default_factory=HotspotConfig)
    hotspot_every: timedelta = timedelta(hours=1)
    # the cell kinds the live watch runs (settings.hotspot_cells; METRICS.md §8)
    hotspot_kinds: tuple[CellKind, ...] = (CellKind.DISTRICT,)

    def hotspot_watch(self, changes: Iterable[HotspotChange] = ()) -> HotspotWatch:
        """A tracker per kind, restored from stored `changes` (open cells stay open)."""
        return HotspotWatch.from_changes(changes, self.hotspots, self.hotspot_kinds)


def watch_config(settings: Settings) -> WatchConfig:
    return WatchConfig(
        alerts=AlertConfig(
            due_soon=timedelta(hours=settings.due_soon_hours),
            overdue_reminder=settings.overdue_reminder,
            reminder_every_working_day=settings.reminder_every_working_day,
        ),
        hotspots=HotspotConfig(
            window_days=settings.hotspot_window_days, min_total=settings.hotspot_min_total
        ),
        hotspot_every=timedelta(minutes=settings.hotspot_every_minutes),
        hotspot_kinds=tuple(dict.fromkeys(CellKind(k) for k in settings.hotspot_cells)),
    )


@dataclass
class WatchStep:
    alerts: list[InspectorAlert]
    hotspots: list[HotspotChange]
    due_soon: dict[str, int]  # per agency: in progress, due within the horizon, at `until`


def deadline_alert(alert: Alert, facts: DossierFacts) -> InspectorAlert:
    r = facts.received
    commune, area = commune_of(r), recorded_area(r)
    return InspectorAlert(
        kind=alert.kind,
        key=alert.alert_key,
        at=alert.at,
        dossier_id=facts.dossier_id,
        agency_code=r.agency_code or "",
        agency_name=r.agency_name or "",
        district_code=r.district_code or "",
        district_name=r.district_name or "",
        field_code=r.field_code or "",
        field_name=r.field_name or "",
        procedure_code=r.procedure_code or "",
        procedure_name=r.procedure_name or "",
        commune_code=commune[0],
        commune_name=commune[1] if commune[0] else "",
        area_code=area[0],
        area_name=area[1] if area[0] else "",
        two_tier=is_two_tier(r.at),
        due=alert.due,
        hours_late=alert.hours_late,
    )


def hotspot_alert(change: HotspotChange, names: dict[str, str]) -> InspectorAlert:
    """An opened hotspot fires; a closed one resolves the same alert (same key).

    A commune cell's alert carries the commune and, for routing, its area in
    the district fields (the area its latest dossier was recorded under); a
    district or area cell's carries the place as district and area.
    """
    share = change.late / change.total if change.total else 0.0
    detail = (
        f"{change.late}/{change.total} hồ sơ trễ hạn ({share:.0%}); cận dưới Wilson "
        f"{change.wilson_lower:.0%} so với tỷ lệ trễ toàn tỉnh của lĩnh vực {change.baseline:.0%}."
    )
    place = change.district_code
    if change.cell_kind is CellKind.COMMUNE:
        area = names.get(f"area-of:{place}", "")
        commune = (place, names.get(f"commune:{place}", place))
    else:
        area, commune = place, ("", "")
    area_name = names.get(area, area)
    return InspectorAlert(
        kind="hotspot",
        key=f"hotspot|{change.hotspot_id}",
        at=change.at,
        district_code=area,
        district_name=area_name,
        field_code=change.field_code,
        field_name=names.get(change.field_code, change.field_code),
        commune_code=commune[0],
        commune_name=commune[1],
        area_code=area,
        area_name=area_name,
        two_tier=is_two_tier(change.at),
        detail=detail,
        ends_at=change.at if change.kind == "closed" else None,
    )


def for_alertmanager(alerts: list[InspectorAlert]) -> list[InspectorAlert]:
    """A step's alerts as pushed to Alertmanager: a due soon whose dossier is
    overdue under the same due in the same push is left out; overdue first.

    Alertmanager's inhibition (overdue mutes due soon) is not enough for a
    push that catches up: it sends a group whose alerts are older than its
    group_wait at once, racing the inhibitor, so both would reach the
    inspectors. The alerts table, the topic and `motcua alerts` keep every
    alert; live, a due soon goes out hours before its overdue anyway.
    """
    overdue = {(a.dossier_id, a.due) for a in alerts if a.kind in ("overdue", "overdue_reminder")}
    kept = [a for a in alerts if not (a.kind == "due_soon" and (a.dossier_id, a.due) in overdue)]
    return sorted(kept, key=lambda a: a.kind == "due_soon")


def integrity_alert(f: Finding, tz: tzinfo) -> InspectorAlert:
    """A finding for inspectors (METRICS.md §9), once per dossier and kind."""
    return InspectorAlert(
        kind="integrity",
        key=f"integrity|{f.key}",
        at=f.observed_at,
        dossier_id=f.dossier_id,
        agency_code=f.agency_code,
        district_code=f.district_code,
        field_code=f.field_code,
        procedure_code=f.procedure_code,
        detail=f"{FINDING_NAMES_VI[f.kind]}: {_change(f, tz)}.",
    )


_STATUS_VI = {
    "received": "đã tiếp nhận",
    "processing": "đang xử lý",
    "supplement_requested": "chờ bổ sung",
    "payment_requested": "chờ thực hiện nghĩa vụ tài chính",
    "resolved": "đã giải quyết",
    "returned": "đã trả kết quả",
    "rejected": "dừng xử lý",
    "withdrawn": "rút hồ sơ",
}


def _change(f: Finding, tz: tzinfo) -> str:
    if f.kind is FindingKind.LATE_WITHOUT_APOLOGY:
        return f"hạn giải quyết {_shown(f.old, tz)}"
    return f"{_shown(f.old, tz)} → {_shown(f.new, tz)}"


def _shown(value: str, tz: tzinfo) -> str:
    """A rewritten value as a supervisor reads it: local time, or the status in Vietnamese."""
    try:
        moment = parse_local_datetime(value)
    except ValueError:
        return _STATUS_VI.get(value, value or "—")
    return f"{moment.astimezone(tz):%H:%M %d/%m/%Y}"


def grid_instants(
    since: datetime, until: datetime, every: timedelta, cal: WorkingCalendar
) -> Iterator[datetime]:
    """Instants g with since < g ≤ until on a grid of `every` from local midnight."""
    local = cal.local(since)
    g = datetime.combine(local.date(), datetime.min.time(), local.tzinfo)
    while g <= since:
        g += every
    while g <= until:
        yield g
        g += every


def _names(facts: Iterable[DossierFacts]) -> dict[str, str]:
    """Names of fields and districts/areas by code; `commune:X` the commune's
    name and `area-of:X` its area (as on its latest dossier)."""
    names: dict[str, str] = {}
    latest: dict[str, datetime] = {}
    for f in facts:
        r = f.received
        if r.field_code and r.field_name:
            names.setdefault(r.field_code, r.field_name)
        if r.district_code and r.district_name:
            names.setdefault(r.district_code, r.district_name)
        code, name = commune_of(r)
        if code and (code not in latest or r.at > latest[code]):
            latest[code] = r.at
            names[f"commune:{code}"] = name
            names[f"area-of:{code}"] = r.district_code or ""
    return names


def watch_step(
    facts: list[DossierFacts],
    since: datetime,
    until: datetime,
    tracker: HotspotTracker | HotspotWatch,
    cal: WorkingCalendar,
    config: WatchConfig,
) -> WatchStep:
    """Alerts in [since, until) and hotspot changes on the grid in (since, until].

    `facts` must hold every dossier received before `until` that was not
    finished before `watch_window_start(since, config)`.
    """
    alerts = deadline_alerts(facts, since, until, cal, config.alerts)
    changes: list[HotspotChange] = []
    names = _names(facts)
    for g in grid_instants(since, until, config.hotspot_every, cal):
        changes += tracker.update(facts, g)
    alerts += [hotspot_alert(c, names) for c in changes]
    alerts.sort(key=lambda a: (a.at, a.key))
    return WatchStep(alerts, changes, due_soon_by_agency(facts, until, cal, config.alerts))


def deadline_alerts(
    facts: Iterable[DossierFacts],
    since: datetime,
    until: datetime,
    cal: WorkingCalendar,
    config: AlertConfig,
) -> list[InspectorAlert]:
    """Every due soon, overdue and reminder with `at` in [since, until), by (at, key).

    `facts` must hold every dossier received before `until` and not finished
    before `since`; others may be there too (they raise nothing in the span).
    """
    alerts: list[InspectorAlert] = []
    for f in facts:
        if f.end_at is None or f.end_at >= since:
            found = alerts_between(f, since, until, cal, config)
            alerts += [deadline_alert(a, f) for a in found]
    alerts.sort(key=lambda a: (a.at, a.key))
    return alerts


def due_soon_by_agency(
    facts: Iterable[DossierFacts], at: datetime, cal: WorkingCalendar, config: AlertConfig
) -> dict[str, int]:
    """Dossiers within due at `at` whose remaining working time (to the due in
    force then) is at most `due_soon`."""
    counts: dict[str, int] = {}
    for f in facts:
        standing = standing_at(f, at)
        due = due_in_force(f, at)
        if standing is None or standing[0] is not Standing.WITHIN_DUE or due is None:
            continue
        if cal.working_time_between(at, due) <= config.due_soon:
            agency = f.received.agency_code or ""
            counts[agency] = counts.get(agency, 0) + 1
    return counts


def watch_window_start(since: datetime, config: WatchConfig) -> datetime:
    """The earliest end a dossier may have and still matter to a step."""
    return config.hotspots.window_start(since)
