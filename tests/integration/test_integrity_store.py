"""Integrity findings stored with the facts (migration 0010) on both engines:
read back per finding as the rules found them, once however often a batch
is stored, and withdrawn with the row when a late event explains them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.events import DossierEvent
from streams.clickhouse.findings import read_findings
from streams.clickhouse.migrations import migrate
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import WorkingCalendar
from streams.rules.integrity import FindingKind
from tests.conftest import load_facts
from tests.unit.rules.test_integrity import _event, _received

pytestmark = pytest.mark.integration
CAL = WorkingCalendar()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
# D-1: received Mon 2026-03-02 08:00, due Wed 03-04 17:00, resolved Fri 03-06 10:00
# with no apology; on Mon 03-09 09:00 its end is rewritten to the due
REWRITE = _event(
    3, "corrected", "2026-03-09T09:00", field="end_at",
    old="2026-03-06T10:00:00+07:00", new="2026-03-04T17:00:00+07:00",
)  # fmt: skip
EVENTS: list[DossierEvent] = [_received(), _event(2, "resolved", "2026-03-06T10:00"), REWRITE]


def test_findings_read_back_once_and_withdrawn_with_the_row(engine) -> None:
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    migrate(engine)
    load_facts(engine, EVENTS, NOW, CAL)
    load_facts(engine, EVENTS, NOW, CAL)  # the same batch stored again
    found = read_findings(engine, *MARCH)
    assert [(f.kind, f.observed_at, f.old, f.new) for f in found] == [
        (
            FindingKind.LATE_WITHOUT_APOLOGY,
            datetime(2026, 3, 4, 10, tzinfo=UTC),  # Wed 17:00 +07:00
            "2026-03-04T17:00:00+07:00",
            "overdue",
        ),
        (
            FindingKind.END_MOVED_EARLIER,
            datetime(2026, 3, 9, 2, tzinfo=UTC),
            "2026-03-06T10:00:00+07:00",
            "2026-03-04T17:00:00+07:00",
        ),
        (
            FindingKind.END_SET_TO_DUE,
            datetime(2026, 3, 9, 2, tzinfo=UTC),
            "2026-03-06T10:00:00+07:00",
            "2026-03-04T17:00:00+07:00",
        ),
    ]
    assert found[1].evidence == ("D-1/3",)
    assert {f.agency_code for f in found} == {"H44.100"}
    assert read_findings(engine, *MARCH, agency="H44.07") == []

    # an apology sent before the due arrives late: the lateness was excused
    apology = _event(4, "extended", "2026-03-04T09:00", due_at="2026-03-06T17:00")
    load_facts(engine, [*EVENTS, apology], NOW, CAL)
    kinds = [f.kind for f in read_findings(engine, *MARCH)]
    assert kinds == [FindingKind.END_MOVED_EARLIER, FindingKind.END_SET_TO_DUE]
