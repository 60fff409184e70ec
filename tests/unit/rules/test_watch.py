"""Hand-worked examples of a watch step (streams/rules/watch.py): deadline alerts
over a span, the same alerts however the span is cut, hotspots on the grid.

Real calendar, hours 07:00-11:30 and 13:30-17:00 (8 h a day). Mon 2026-03-02
to Fri 03-06 are ordinary working days.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DossierFacts, dossier_facts
from streams.rules.hotspots import HotspotConfig, HotspotTracker
from streams.rules.watch import WatchConfig, grid_instants, watch_step
from tests.unit.helpers import ev, t

CAL = WorkingCalendar()
CONFIG = WatchConfig(hotspots=HotspotConfig(min_total=5), hotspot_every=timedelta(hours=1))
LAND = {"field_code": "DD", "field_name": "Đất đai", "procedure_code": "1.003003"}


def open_dossier(n: int, district: str = "D01") -> DossierFacts:
    """Received Mon 08:00, due Wed 08:00, never finished."""
    dossier = f"H44.100-260302-{n:04d}"
    received = ev(
        "received",
        t(2026, 3, 2, 8),
        dossier_id=dossier,
        due_at=t(2026, 3, 4, 8),
        district_code=district,
        **LAND,
    )
    facts = dossier_facts([received], CAL)
    assert facts is not None
    return facts


def resolved_dossier(n: int, district: str = "D02") -> DossierFacts:
    """Same due, resolved Mon 10:00 (on time, before its due-soon instant)."""
    dossier = f"H44.105-260302-{n:04d}"
    events = [
        ev("received", t(2026, 3, 2, 8), dossier_id=dossier, due_at=t(2026, 3, 4, 8),
           district_code=district, **LAND),
        ev("resolved", t(2026, 3, 2, 10), dossier_id=dossier),
    ]  # fmt: skip
    facts = dossier_facts(events, CAL)
    assert facts is not None
    return facts


def step(facts, since, until, tracker=None):
    return watch_step(
        facts, since, until, tracker or HotspotTracker(config=CONFIG.hotspots), CAL, CONFIG
    )


def test_deadline_alerts_of_one_open_dossier_over_a_week() -> None:
    # due soon: 8 working hours before Wed 08:00 = Wed 07-08 (1 h) + Tue 13:30-17:00
    # (3.5 h) + Tue 08:00-11:30 (3.5 h) → Tue 08:00. Overdue at the due. Reminders at
    # 08:00 on each following working day: Thu (Wed 08:00-17:00 = 7 h, + Thu 07-08 =
    # 8 h late) and Fri (16 h late).
    result = step([open_dossier(1)], t(2026, 3, 2), t(2026, 3, 6, 9))
    got = [(a.kind, a.at, a.hours_late) for a in result.alerts]
    assert got == [
        ("due_soon", t(2026, 3, 3, 8), 0.0),
        ("overdue", t(2026, 3, 4, 8), 0.0),
        ("overdue_reminder", t(2026, 3, 5, 8), 8.0),
        ("overdue_reminder", t(2026, 3, 6, 8), 16.0),
    ]
    overdue = result.alerts[1]
    assert (overdue.dossier_id, overdue.agency_name, overdue.district_code) == (
        "H44.100-260302-0001",
        "UBND Phường Việt Trì",
        "D01",
    )
    assert (overdue.field_name, overdue.procedure_code, overdue.due) == (
        "Đất đai",
        "1.003003",
        t(2026, 3, 4, 8),
    )
    assert result.hotspots == []  # one dossier is under the minimum volume


def test_the_same_alerts_however_the_span_is_cut() -> None:
    facts = [open_dossier(1)]
    whole = step(facts, t(2026, 3, 2), t(2026, 3, 6, 9)).alerts
    cuts = [t(2026, 3, 2), t(2026, 3, 3, 12), t(2026, 3, 4, 8), t(2026, 3, 6, 9)]
    pieces = [a for s, u in itertools.pairwise(cuts) for a in step(facts, s, u).alerts]
    assert [a.key for a in pieces] == [a.key for a in whole]
    # the boundary instant belongs to the step that starts there
    assert [a.kind for a in step(facts, t(2026, 3, 3, 12), t(2026, 3, 4, 8)).alerts] == []


def test_a_dossier_finished_before_its_due_soon_raises_nothing() -> None:
    assert step([resolved_dossier(1)], t(2026, 3, 2), t(2026, 3, 6)).alerts == []


def test_hotspot_opens_on_the_first_grid_hour_after_the_cell_turns_late() -> None:
    # DD in D01: 5 open dossiers, overdue from Wed 08:00. DD in D02: 5 on time.
    # At Wed 08:00 the standing just before is still within due, so the first
    # grid instant with 5/5 late is Wed 09:00. Wilson lower bound of 5/5 at
    # z = 1.96: (1 + z²/10 - z·sqrt(z²/100)) / (1 + z²/5) = 1 / 1.76829 = 0.5655,
    # above the field's province share 5/10 = 0.5.
    facts = [open_dossier(n) for n in range(5)] + [resolved_dossier(n) for n in range(5)]
    tracker = HotspotTracker(config=CONFIG.hotspots)
    result = step(facts, t(2026, 3, 2), t(2026, 3, 4, 12), tracker)
    [opened] = result.hotspots
    assert (opened.kind, opened.field_code, opened.district_code) == ("opened", "DD", "D01")
    assert opened.at == t(2026, 3, 4, 9)
    assert (opened.total, opened.late, opened.baseline) == (5, 5, 0.5)
    assert round(opened.wilson_lower, 4) == 0.5655
    [hotspot] = [a for a in result.alerts if a.kind == "hotspot"]
    assert hotspot.detail == (
        "5/5 hồ sơ trễ hạn (100%); cận dưới Wilson 57% so với tỷ lệ trễ toàn tỉnh của lĩnh vực 50%."
    )
    assert (hotspot.field_name, hotspot.district_name) == ("Đất đai", "Thành phố Việt Trì")
    kinds = sorted(a.kind for a in result.alerts)
    assert kinds == ["due_soon"] * 5 + ["hotspot"] + ["overdue"] * 5
    # still hot later: nothing new, from the same tracker or one rebuilt from the records
    assert step(facts, t(2026, 3, 4, 12), t(2026, 3, 4, 15), tracker).hotspots == []
    rebuilt = HotspotTracker.from_changes(result.hotspots, CONFIG.hotspots)
    assert step(facts, t(2026, 3, 4, 12), t(2026, 3, 4, 15), rebuilt).hotspots == []


def test_grid_instants_are_aligned_on_local_midnight() -> None:
    got = list(grid_instants(t(2026, 3, 2, 7, 30), t(2026, 3, 2, 10), timedelta(hours=1), CAL))
    assert got == [t(2026, 3, 2, 8), t(2026, 3, 2, 9), t(2026, 3, 2, 10)]


def test_the_wall_clock_watch_settles_behind_now() -> None:
    """Live, a step ends `watch_settle_seconds` before now: the events of an
    instant (a restart moving the due) are stored before the watch passes it."""
    import asyncio
    from datetime import UTC, datetime

    from schemas.settings import Settings
    from streams.watcher import Watcher

    now = datetime(2026, 3, 4, 1, 0, 30, tzinfo=UTC)
    settings = Settings(watch_clock="wall", watch_settle_seconds=5)
    watcher = Watcher(settings, None, None, None, wall=lambda: now)  # type: ignore[arg-type]
    assert asyncio.run(watcher._clock()) == datetime(2026, 3, 4, 1, 0, 25, tzinfo=UTC)


def test_a_catch_up_push_leaves_out_due_soon_made_redundant_by_overdue() -> None:
    from streams.rules.alerts import InspectorAlert
    from streams.rules.watch import for_alertmanager

    due, later = datetime(2026, 3, 4, 1, tzinfo=UTC), datetime(2026, 3, 9, 1, tzinfo=UTC)
    alerts = [
        InspectorAlert("due_soon", "a-soon", due, dossier_id="A", due=due),
        InspectorAlert("overdue", "a-over", due, dossier_id="A", due=due),
        InspectorAlert("due_soon", "a-soon-new", due, dossier_id="A", due=later),  # a new due
        InspectorAlert("due_soon", "b-soon", due, dossier_id="B", due=due),
        InspectorAlert("hotspot", "h", due),
    ]
    assert [a.key for a in for_alertmanager(alerts)] == ["a-over", "h", "a-soon-new", "b-soon"]
