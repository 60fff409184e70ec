"""The tables boards and reports read (`dossier_periods`, `open_dossiers`),
on both engines: filled by ClickHouse from each fact insert (migration 0013's
views) into the right periods, filled from the facts of earlier releases by the migration,
kept exact when a reordered event moves a dossier's end back, and unchanged
in what they report when finished dossiers are dropped from `open_dossiers`.
Expected numbers come from the offline report (Python, from the events) or
by hand."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reports.offline import states_at
from streams.clickhouse.migrations import MIGRATIONS_DIR, migrate
from streams.clickhouse.queries import delete_finished_open, insert_facts, report_rows
from streams.clickhouse.rows import FACT_COLUMNS, fact_row, stored_time
from streams.clickhouse.sql import DATABASE, NEVER, sql_time
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import UnitKind, period_report
from tests.conftest import facts_of, load_facts
from tests.histories import TZ, random_province
from tests.unit.helpers import ev, t

pytestmark = pytest.mark.integration

CAL = WorkingCalendar()
EVENTS = random_province(seed=23, dossiers=300, start=datetime(2026, 1, 5, tzinfo=TZ))
PERIODS = [
    (datetime(2026, 2, 1, tzinfo=TZ), datetime(2026, 3, 1, tzinfo=TZ)),
    (datetime(2026, 1, 1, tzinfo=TZ), datetime(2026, 7, 1, tzinfo=TZ)),
    (datetime(2026, 2, 16, 9, 30, tzinfo=TZ), datetime(2026, 2, 27, 15, 0, tzinfo=TZ)),
]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def fresh(engine):
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    return engine


def assert_reports_match_offline(engine, events) -> None:
    for start, end in PERIODS:
        for by in (UnitKind.PROVINCE, UnitKind.AGENCY, UnitKind.DISTRICT):
            expected = period_report(states_at(events, end, CAL), start, end, by, CAL)
            got = report_rows(engine, start, end, by, CAL)
            assert [r.as_record() for r in got] == [r.as_record() for r in expected], (start, by)


def open_rows(engine) -> tuple[int, int, int]:
    """open_dossiers as stored (no FINAL): rows, dossiers, rows of finished ones."""
    [(rows, dossiers, finished)] = engine.rows(
        f"SELECT count(), uniqExact(dossier_id), countIf(end_at != {sql_time(NEVER)}) "
        f"FROM {DATABASE}.open_dossiers"
    )
    return int(rows), int(dossiers), int(finished)


def wait_for_mutations(engine, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    sql = f"SELECT count() FROM system.mutations WHERE database = '{DATABASE}' AND is_done = 0"
    while engine.rows(sql)[0][0]:
        assert time.monotonic() < deadline, "mutation still running"
        time.sleep(0.2)


MARCH_2026 = (2026 - 1970) * 12 + 2  # months since January 1970, January = 0


def fact(received: datetime, end: datetime | None, last_event: datetime, dossier: str) -> tuple:
    """A stored fact row with these times (the rest from a real dossier's facts)."""
    events = [
        ev("received", t(2026, 3, 20, 8), due_at=t(2026, 4, 10, 17)),
        ev("resolved", t(2026, 3, 30, 10)),
    ]
    row = dict(zip(FACT_COLUMNS, fact_row(facts_of(events, CAL)[0], NOW), strict=True))
    row.update(
        dossier_id=dossier,
        received_at=stored_time(received),
        end_at=stored_time(end),
        last_event_at=stored_time(last_event),
    )
    return tuple(row[c] for c in FACT_COLUMNS)


def stored_periods(engine, dossier: str) -> list[int]:
    return [
        int(p)
        for (p,) in engine.rows(
            f"SELECT period FROM {DATABASE}.dossier_periods "
            f"WHERE dossier_id = '{dossier}' ORDER BY period"
        )
    ]


def test_a_finished_dossier_is_stored_in_every_period_to_its_latest_event(fresh) -> None:
    engine = fresh
    migrate(engine)
    received = datetime(2026, 3, 20, 1, tzinfo=UTC)
    ended = datetime(2026, 3, 30, 9, tzinfo=UTC)
    may = datetime(2026, 5, 2, 1, tzinfo=UTC)  # an event after the end, in May
    # 31 March 17:00 UTC is 1 April 00:00 in Vietnam: April's, not March's
    april_vn = datetime(2026, 3, 31, 17, tzinfo=UTC)
    rows = [
        fact(received, ended, may, "D-MAY"),
        fact(received, ended, ended, "D-MARCH"),
        fact(april_vn, april_vn, april_vn, "D-APRIL"),
        fact(received, None, may, "D-OPEN"),
    ]
    insert_facts(engine, rows)

    assert stored_periods(engine, "D-MAY") == [MARCH_2026, MARCH_2026 + 1, MARCH_2026 + 2]
    assert stored_periods(engine, "D-MARCH") == [MARCH_2026]
    assert stored_periods(engine, "D-APRIL") == [MARCH_2026 + 1]
    assert stored_periods(engine, "D-OPEN") == []
    # each period row and each open_dossiers row is the fact row as inserted
    cols = ", ".join(FACT_COLUMNS)
    facts = engine.rows(f"SELECT {cols} FROM {DATABASE}.dossier_facts ORDER BY dossier_id")
    assert len(facts) == 4
    in_open = engine.rows(f"SELECT {cols} FROM {DATABASE}.open_dossiers ORDER BY dossier_id")
    assert in_open == facts
    in_periods = engine.rows(
        f"SELECT DISTINCT {cols} FROM {DATABASE}.dossier_periods ORDER BY dossier_id"
    )
    assert in_periods == [f for f in facts if f[0] != "D-OPEN"]


def test_migration_fills_them_from_facts_stored_before_it(fresh, tmp_path: Path) -> None:
    engine = fresh
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("000[1-5]_*.sql")):
        shutil.copy(path, earlier)
    assert migrate(engine, earlier) == [1, 2, 3, 4, 5]
    # facts as release 0005 wrote them: no last_event_at nor dues, no derived tables
    facts = facts_of(EVENTS, CAL)
    before = FACT_COLUMNS.index("last_event_at")
    rows = [fact_row(f, NOW)[:before] for f in facts]
    engine.insert(f"{DATABASE}.dossier_facts", FACT_COLUMNS[:before], rows)

    assert migrate(engine) == [6, 7, 8, 9, 10, 11, 12, 13]
    assert_reports_match_offline(engine, EVENTS)
    still_open = sum(f.end_at is None for f in facts)
    assert 0 < still_open < len(facts)
    assert open_rows(engine)[1:] == (still_open, 0)
    # the workers' next versions land in the same periods as the migration's rows
    # (the SQL and the Python period agree), superseding them
    load_facts(engine, EVENTS, NOW + timedelta(hours=1), CAL)
    assert_reports_match_offline(engine, EVENTS)
    [(stale,)] = engine.rows(
        f"SELECT count() FROM {DATABASE}.dossier_periods FINAL WHERE updated_at <= {sql_time(NOW)}"
    )
    assert stale == 0


def test_a_reordered_earlier_end_leaves_no_stale_period(fresh) -> None:
    """Received Fri 20 March; a `resolved` on Thu 2 April arrives first, then
    an earlier `resolved` on Mon 30 March. Periods are calendar months, so
    the two ends lie in different periods. The dossier ended on 30 March:
    April must not count it."""
    engine = fresh
    migrate(engine)
    received = ev("received", t(2026, 3, 20, 8), due_at=t(2026, 4, 10, 17))
    late_end, early_end = ev("resolved", t(2026, 4, 2, 10)), ev("resolved", t(2026, 3, 30, 10))
    load_facts(engine, [received, late_end], NOW - timedelta(hours=1), CAL)
    load_facts(engine, [received, late_end, early_end], NOW, CAL)

    province = UnitKind.PROVINCE
    assert report_rows(engine, t(2026, 4, 1), t(2026, 5, 1), province, CAL) == []
    [row] = report_rows(engine, t(2026, 3, 23), t(2026, 4, 1), province, CAL)
    assert (row.carried_over, row.received_total, row.finished_total) == (1, 0, 1)
    assert row.finished_early + row.finished_on_time == 1


def test_dropping_finished_dossiers_from_open_changes_no_report(fresh) -> None:
    engine = fresh
    migrate(engine)
    half = len(EVENTS) // 2
    load_facts(engine, EVENTS[:half], NOW - timedelta(hours=1), CAL)  # many still open then
    dossiers = load_facts(engine, EVENTS, NOW, CAL)
    facts = facts_of(EVENTS, CAL)
    still_open = sum(f.end_at is None for f in facts)
    rows, stored, finished = open_rows(engine)
    assert rows > dossiers == stored > still_open and finished > 0

    assert delete_finished_open(engine)
    wait_for_mutations(engine)
    assert open_rows(engine)[1:] == (still_open, 0)
    assert_reports_match_offline(engine, EVENTS)

    load_facts(engine, EVENTS, NOW, CAL)  # a replayed batch after the drop
    assert_reports_match_offline(engine, EVENTS)
