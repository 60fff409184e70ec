"""Migration 0009 (the dues over time) on both engines: it can be repeated
after a run that failed halfway, rows stored before it read back as their
final due from the receipt, and rows written since carry every due."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.clickhouse.alerts import read_watch_facts
from streams.clickhouse.migrations import MIGRATIONS_DIR, load_migrations, migrate
from streams.clickhouse.rows import FACT_COLUMNS, fact_row
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DueInForce
from tests.conftest import facts_of, load_facts
from tests.unit.helpers import ev, t

pytestmark = pytest.mark.integration

CAL = WorkingCalendar()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
# received Mon 2026-05-04 08:00, due Tue 05-05 17:00; supplement asked Tue 10:00,
# answered Thu 05-07 10:00: stopped Tue 10:00-11:30 1.5 h + 13:30-17:00 3.5 h +
# Wed 8 h + Thu 07:00-10:00 3 h = 16 h, so the due moves from Tue 17:00 by Wed's
# and Thu's 8 h to Thu 05-07 17:00
EVENTS = [
    ev("received", t(2026, 5, 4, 8), due_at=t(2026, 5, 5, 17)),
    ev("supplement_requested", t(2026, 5, 5, 10)),
    ev("supplement_received", t(2026, 5, 7, 10)),
]
DUES = (
    DueInForce(t(2026, 5, 4, 8), t(2026, 5, 5, 17)),
    DueInForce(t(2026, 5, 7, 10), t(2026, 5, 7, 17)),
)


def test_repeatable_after_a_half_run_and_old_rows_read_as_one_due(engine, tmp_path: Path) -> None:
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("000[1-7]_*.sql")):
        shutil.copy(path, earlier)
    assert migrate(engine, earlier) == [1, 2, 3, 4, 5, 6, 7]
    [facts] = facts_of(EVENTS, CAL)
    assert facts.dues == DUES
    old = FACT_COLUMNS.index("due_from")
    rows = [fact_row(facts, NOW)[:old]]
    for table in ("dossier_facts", "open_dossiers"):
        engine.insert(f"{DATABASE}.{table}", FACT_COLUMNS[:old], rows)

    # a run of 0009 that stopped after its first three columns
    [due_history] = [m for m in load_migrations() if m.version == 9]
    for statement in due_history.statements[:3]:
        engine.command(statement)
    assert migrate(engine) == [8, 9, 10, 11, 12, 13]
    assert migrate(engine) == []

    [stored] = read_watch_facts(engine, t(2026, 5, 1), t(2026, 6, 1))
    assert stored.due == t(2026, 5, 7, 17)
    assert stored.dues == (DueInForce(t(2026, 5, 4, 8), t(2026, 5, 7, 17)),)

    load_facts(engine, EVENTS, NOW.replace(hour=1), CAL)  # the worker's next version
    [stored] = read_watch_facts(engine, t(2026, 5, 1), t(2026, 6, 1))
    assert stored.dues == DUES
