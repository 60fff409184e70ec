"""The shipped DDL and queries, unchanged, on both engines: Debian's
ClickHouse 18.16 server and the current engine (chdb), each checked against
the offline report computed in Python from the same events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reports.offline import states_at
from streams.clickhouse.migrations import migrate
from streams.clickhouse.queries import report_rows
from streams.clickhouse.rollups import month_bounds, refresh_rollups, stored_rollup
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import UnitKind, period_report
from tests.conftest import facts_of
from tests.conftest import load_facts as load
from tests.histories import TZ, random_province

pytestmark = pytest.mark.integration

CAL = WorkingCalendar()
START = datetime(2026, 1, 5, tzinfo=TZ)
EVENTS = random_province(seed=11, dossiers=400, start=START)
PERIODS = [
    (datetime(2026, 2, 1, tzinfo=TZ), datetime(2026, 3, 1, tzinfo=TZ)),
    (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ)),
    (datetime(2026, 1, 1, tzinfo=TZ), datetime(2026, 7, 1, tzinfo=TZ)),
    (datetime(2026, 2, 16, 9, 30, tzinfo=TZ), datetime(2026, 2, 27, 15, 0, tzinfo=TZ)),
]


@pytest.fixture(scope="module")
def migrated(engine):
    assert migrate(engine) == list(range(1, 14))
    assert migrate(engine) == []  # idempotent
    return engine


def load_facts(engine, events, computed_at: datetime) -> int:
    return load(engine, events, computed_at, CAL)


def test_report_from_chdb_equals_offline_report(migrated) -> None:
    engine = migrated
    now = datetime(2026, 11, 1, tzinfo=UTC)
    half = len(EVENTS) // 2
    # an early, partial view of every dossier, then the full one: FINAL keeps the newest
    load_facts(engine, EVENTS[:half], now - timedelta(hours=1))
    assert load_facts(engine, EVENTS, now) == 400
    load_facts(engine, EVENTS, now)  # a re-sent batch changes nothing
    for start, end in PERIODS:
        for by in UnitKind:
            expected = period_report(states_at(EVENTS, end, CAL), start, end, by, CAL)
            got = report_rows(engine, start, end, by, CAL)
            assert [r.as_record() for r in got] == [r.as_record() for r in expected], (start, by)


def test_rollups_store_the_report_of_a_month(migrated) -> None:
    engine = migrated
    load_facts(engine, EVENTS, datetime(2026, 11, 1, tzinfo=UTC))
    start, end = month_bounds(2026, 3, CAL)
    assert (start, end) == (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ))
    written = refresh_rollups(engine, start, end, CAL)
    refresh_rollups(engine, start, end, CAL)  # a refresh supersedes, never adds
    assert written == sum(len(report_rows(engine, start, end, k, CAL)) for k in UnitKind)
    for kind in UnitKind:
        expected = period_report(states_at(EVENTS, end, CAL), start, end, kind, CAL)
        got = stored_rollup(engine, start, end, kind, CAL)
        assert [r.as_record() for r in got] == [r.as_record() for r in expected], kind
    assert month_bounds(2026, 12, CAL)[1] == datetime(2027, 1, 1, tzinfo=TZ)


def test_watch_reads_back_facts_that_raise_the_same_alerts(migrated) -> None:
    """Facts stored and read back (`read_watch_facts`) give the alerts and
    hotspots of the facts computed in Python from the same events."""
    from streams.clickhouse.alerts import read_watch_facts
    from streams.rules.hotspots import HotspotConfig, HotspotTracker
    from streams.rules.watch import WatchConfig, watch_step, watch_window_start

    engine = migrated
    load_facts(engine, EVENTS, datetime(2026, 11, 1, tzinfo=UTC))
    computed = facts_of(EVENTS, CAL)
    config = WatchConfig(hotspots=HotspotConfig(min_total=5), hotspot_every=timedelta(days=1))
    since, until = datetime(2026, 2, 2, tzinfo=TZ), datetime(2026, 2, 16, tzinfo=TZ)
    stored = read_watch_facts(engine, watch_window_start(since, config), until)
    relevant = [
        f
        for f in computed
        if f.received_at < until
        and (f.end_at is None or f.end_at >= watch_window_start(since, config))
    ]
    assert sorted(f.dossier_id for f in stored) == sorted(f.dossier_id for f in relevant)

    def run(facts):
        tracker = HotspotTracker(config=config.hotspots)
        return watch_step(facts, since, until, tracker, CAL, config)

    want, got = run(relevant), run(stored)
    assert len(want.alerts) > 50  # the history does raise alerts in those weeks
    assert [(a.key, a.at, a.hours_late) for a in got.alerts] == [
        (a.key, a.at, a.hours_late) for a in want.alerts
    ]
    assert got.hotspots == want.hotspots
    assert got.due_soon == want.due_soon


def test_report_as_todays_units_from_sql_equals_the_rule(migrated) -> None:
    """METRICS.md §8: the stored rows of recorded units, mapped through the
    directory's successors, equal the rule on the dossiers (2025 dossiers of
    merged communes, loaded beside the 2026 province: no period overlaps)."""
    from reports.sources import ClickHouseSource, FileSource
    from streams.rules.units import UnitView
    from tests.unit.rules.test_units_rows import HISTORIES
    from tests.unit.rules.units_fixture import DIRECTORY

    events = [e for history in HISTORIES for e in history]
    load_facts(migrated, events, datetime(2026, 11, 2, tzinfo=UTC))
    stored = ClickHouseSource(migrated, CAL, ("H44", "Tỉnh Phú Thọ"))
    offline = FileSource([], CAL, ("H44", "Tỉnh Phú Thọ"), print, events=events)
    periods = [
        (datetime(2025, 6, 1, tzinfo=TZ), datetime(2025, 7, 1, tzinfo=TZ)),
        (datetime(2025, 7, 1, tzinfo=TZ), datetime(2025, 8, 1, tzinfo=TZ)),
        (datetime(2025, 6, 1, tzinfo=TZ), datetime(2025, 8, 1, tzinfo=TZ)),
    ]
    for start, end in periods:
        for at in (end, datetime(2026, 2, 1, tzinfo=TZ)):
            view = UnitView.as_units_at(DIRECTORY, at)
            for by in (UnitKind.AGENCY, UnitKind.COMMUNE, UnitKind.AREA):
                want = offline.rows(start, end, by, units=view)
                got = stored.rows(start, end, by, units=view)
                assert [r.as_record() for r in got] == [r.as_record() for r in want], (
                    start,
                    at,
                    by,
                )
                assert len(got) > 0


def test_hotspot_records_of_every_cell_kind_restore_their_trackers(migrated) -> None:
    """Migration 0012: a hotspot row says its cell kind; each kind's tracker is
    restored from its own open cells (a district and a commune cell share no
    state even when their codes do)."""
    from streams.clickhouse.alerts import HOTSPOT_COLUMNS, hotspot_row, stored_tracker
    from streams.clickhouse.sql import DATABASE
    from streams.rules.hotspots import CellKind, HotspotChange, HotspotConfig
    from streams.rules.watch import WatchConfig

    at = datetime(2025, 9, 1, 2, tzinfo=UTC)

    def change(kind: CellKind, place: str, state: str = "opened") -> HotspotChange:
        return HotspotChange(state, "DD", place, at, 5, 5, 0.56, 0.5, f"{kind}:{place}", kind)

    rows = [change(CellKind.COMMUNE, "X1"), change(CellKind.DISTRICT, "H44.D01"),
            change(CellKind.AREA, "K9")]  # fmt: skip
    migrated.insert(f"{DATABASE}.hotspots", HOTSPOT_COLUMNS, [hotspot_row(c) for c in rows])
    config = WatchConfig(
        hotspots=HotspotConfig(min_total=5), hotspot_kinds=(CellKind.DISTRICT, CellKind.COMMUNE)
    )
    watch = stored_tracker(migrated, config)
    open_cells = {t.config.by: set(t.open_cells) for t in watch.trackers}
    assert open_cells[CellKind.COMMUNE] == {("DD", "X1")}
    assert ("DD", "H44.D01") in open_cells[CellKind.DISTRICT]
    assert ("DD", "X1") not in open_cells[CellKind.DISTRICT]
    assert CellKind.AREA not in open_cells  # not run: its record stays, unused
