"""Stored report rows as today's units (METRICS.md §8): `rows_as_units` maps
rows counted per recorded (agency, commune, area), as ClickHouse gives them,
to the units valid at an instant; it must equal the rule on the dossiers
themselves (`period_report` with `UnitView.as_units_at`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

import pytest

from schemas.events import DossierEvent
from streams.rules.lifecycle import dossier_state
from streams.rules.period import PeriodRow, UnitKind, period_report
from streams.rules.units import (
    RecordedUnits,
    UnitView,
    commune_of,
    recorded_area,
    regroup,
    rows_as_units,
)
from tests.unit.helpers import t
from tests.unit.rules.test_period_units import CAL, JULY_DOSSIERS, counts, dossier
from tests.unit.rules.units_fixture import DIRECTORY

JUNE, JULY, AUGUST = t(2025, 6, 1), t(2025, 7, 1), t(2025, 8, 1)
PICK = {
    UnitKind.AGENCY: lambda u: u.agency,
    UnitKind.COMMUNE: lambda u: u.commune,
    UnitKind.AREA: lambda u: u.area,
}

MERGED = [
    # f: H44.125 (→ X01), received and resolved in June
    dossier("f", t(2025, 6, 20, 9), t(2025, 6, 27, 17), t(2025, 6, 24, 9),
            agency_code="H44.125", agency_name="UBND thị trấn Cẩm Khê", district_code="H44.D04"),
    # g: H44.126 (→ X01), received in June, open until August
    dossier("g", t(2025, 6, 25, 9), t(2025, 8, 25, 17),
            agency_code="H44.126", agency_name="UBND xã Phú Khê", district_code="H44.D04"),
    # h: H44.127 (→ X02 → X03 in 2026), received in June
    dossier("h", t(2025, 6, 26, 9), t(2025, 7, 3, 17), t(2025, 7, 2, 9),
            agency_code="H44.127", agency_name="UBND xã Tình Cương", district_code="H44.D04"),
    # i: the dissolved district's committee (no successor): stays as recorded
    dossier("i", t(2025, 6, 5, 9), t(2025, 6, 12, 17), t(2025, 6, 10, 9),
            agency_code="H44.34", agency_name="UBND huyện Cẩm Khê", level="district",
            district_code="H44.D04"),
]  # fmt: skip
HISTORIES = MERGED + JULY_DOSSIERS


def states(histories: list[list[DossierEvent]], end: datetime) -> list:
    return [s for s in (dossier_state(h, end, CAL) for h in histories) if s is not None]


def recorded_rows(start: datetime, end: datetime) -> list[tuple[RecordedUnits, PeriodRow]]:
    """What the SQL gives: one row per recorded (commune, agency, area)."""
    groups: dict[RecordedUnits, list] = defaultdict(list)
    for s in states(HISTORIES, end):
        r = s.received
        key = RecordedUnits(
            (r.agency_code or "", r.agency_name or ""), commune_of(r), recorded_area(r)
        )
        groups[key].append(s)
    out = []
    for key, group in groups.items():
        rows = period_report(group, start, end, UnitKind.PROVINCE, CAL)
        kept = [s.received_at for s in group if s.received_at < end]
        latest = replace(key, latest=max(kept)) if kept else key
        out += [(latest, row) for row in rows]
    return out


@pytest.mark.parametrize("by", list(PICK))
@pytest.mark.parametrize(("start", "end"), [(JUNE, JULY), (JULY, AUGUST), (JUNE, AUGUST)])
def test_stored_rows_as_todays_units_equal_the_rule_on_the_dossiers(
    by: UnitKind, start: datetime, end: datetime
) -> None:
    view = UnitView.as_units_at(DIRECTORY, t(2025, 12, 31))
    expected = period_report(states(HISTORIES, end), start, end, by, CAL, units=view)
    got = rows_as_units(recorded_rows(start, end), view, PICK[by])
    assert [r.as_record() for r in got] == [r.as_record() for r in expected]
    assert [r.processing_time for r in got] == [r.processing_time for r in expected]


def test_june_as_todays_units_sums_the_predecessors() -> None:
    view = UnitView.as_units_at(DIRECTORY, t(2025, 12, 31))
    got = {
        r.unit_code: r
        for r in rows_as_units(recorded_rows(JUNE, JULY), view, PICK[UnitKind.AGENCY])
    }
    # X01 = H44.125 (f: received, finished) + H44.126 (g: received, open)
    # X02 = H44.127 (h: received, open at the end of June); H44.34: no successor, as recorded
    assert {code: counts(r) for code, r in got.items()} == {
        "X01": (0, 2, 1, 1),
        "X02": (0, 1, 0, 1),
        "H44.34": (0, 1, 1, 0),
    }
    assert got["X01"].unit_name == "UBND xã Cẩm Khê"
    # in 2026 the same June maps X02's share to its successor X03
    later = UnitView.as_units_at(DIRECTORY, t(2026, 2, 1))
    codes = [
        r.unit_code for r in rows_as_units(recorded_rows(JUNE, JULY), later, PICK[UnitKind.AGENCY])
    ]
    assert codes == ["H44.34", "X01", "X03"]


def test_as_recorded_the_rows_stay() -> None:
    rows = recorded_rows(JUNE, JULY)
    got = rows_as_units(rows, UnitView(), PICK[UnitKind.AGENCY])
    assert [r.unit_code for r in got] == ["H44.125", "H44.126", "H44.127", "H44.34"]


def test_regroup_sums_rows_of_one_unit_in_code_order() -> None:
    a, b, c = (
        PeriodRow("1", "a", received_total=2),
        PeriodRow("2", "b", received_total=3),
        PeriodRow("3", "c", received_total=5),
    )
    got = regroup([(("Z", "zed"), a, None), (("Y", "why"), b, None), (("Z", "zed"), c, None)])
    assert [(r.unit_code, r.unit_name, r.received_total) for r in got] == [
        ("Y", "why", 3),
        ("Z", "zed", 7),
    ]
