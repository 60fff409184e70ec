"""The period report by commune and by area, as recorded and as today's units
(METRICS.md §4, §8); every expectation is counted by hand in the comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import dossier_state
from streams.rules.period import PeriodRow, UnitKind, period_report
from streams.rules.units import UnitView
from tests.unit.helpers import ev, t
from tests.unit.rules.units_fixture import DIRECTORY

CAL = WorkingCalendar()
JULY, AUGUST = t(2025, 7, 1), t(2025, 8, 1)


def dossier(
    dossier_id: str, received: datetime, due: datetime, *finish: datetime, **fields: Any
) -> list[DossierEvent]:
    """Received at `received` with `due`; resolved at `finish[0]` if given."""
    events = [ev("received", received, dossier_id=dossier_id, due_at=due, **fields)]
    events += [ev("resolved", at, dossier_id=dossier_id) for at in finish]
    return events


def report(
    histories: list[list[DossierEvent]],
    start: datetime,
    end: datetime,
    by: UnitKind,
    units: UnitView | None = None,
) -> dict[str, PeriodRow]:
    states = [dossier_state(h, end, CAL) for h in histories]
    kept = [s for s in states if s is not None]
    rows = period_report(kept, start, end, by, CAL, units=units or UnitView())
    return {r.unit_code: r for r in rows}


def counts(row: PeriodRow) -> tuple[int, int, int, int]:
    return row.carried_over, row.received_total, row.finished_total, row.in_progress_total


X01 = {"agency_code": "X01", "agency_name": "UBND xã Cẩm Khê", "district_code": "H44.D04"}
X04 = {"agency_code": "X04", "agency_name": "UBND phường Thanh Miếu", "commune_code": "X04"}
SXD = {"agency_code": "H44.20", "agency_name": "Sở Xây dựng", "level": "province"}
SYT = {"agency_code": "H44.17", "agency_name": "Sở Y tế", "level": "province"}
PROVINCE_DISTRICT = {"district_code": "H44.D00", "district_name": "Cấp tỉnh"}

JULY_DOSSIERS = [
    # a: X01's own, resolved in July (no commune_code: a commune's own dossier)
    dossier("a", t(2025, 7, 2, 9), t(2025, 7, 4, 17), t(2025, 7, 3, 9), **X01),
    # b: X01's own, open at the end, due in August
    dossier("b", t(2025, 7, 3, 9), t(2025, 8, 15, 17), **X01),
    # c: X04's own, resolved in July
    dossier("c", t(2025, 7, 10, 9), t(2025, 7, 14, 17), t(2025, 7, 11, 9), **X04),
    # d: a department's dossier for a resident of X04, open at the end
    dossier(
        "d",
        t(2025, 7, 15, 9),
        t(2025, 8, 20, 17),
        commune_code="X04",
        commune_name="UBND phường Thanh Miếu",
        **SXD,
        **PROVINCE_DISTRICT,
    ),
    # e: Sở Y tế, no commune, resolved in July
    dossier("e", t(2025, 7, 16, 9), t(2025, 7, 18, 17), t(2025, 7, 17, 9), **SYT,
            **PROVINCE_DISTRICT),
]  # fmt: skip


def test_report_by_commune() -> None:
    rows = report(JULY_DOSSIERS, JULY, AUGUST, UnitKind.COMMUNE)
    # X01: a, b → received 2, finished 1 (a), in progress 1 (b)
    # X04: c, d → received 2, finished 1 (c), in progress 1 (d)
    # no commune: e → received 1, finished 1
    assert {code: counts(r) for code, r in rows.items()} == {
        "X01": (0, 2, 1, 1),
        "X04": (0, 2, 1, 1),
        "": (0, 1, 1, 0),
    }
    assert rows["X01"].unit_name == "UBND xã Cẩm Khê"
    assert rows[""].unit_name == "Không thuộc xã/phường"


def test_report_by_area_with_the_directory() -> None:
    rows = report(JULY_DOSSIERS, JULY, AUGUST, UnitKind.AREA, UnitView.as_recorded(DIRECTORY))
    # a, b: X01's area H44.D04 → 2 received, 1 finished, 1 in progress
    # c, d: X04's area B01 (d through its commune, not Sở Xây dựng's) → 2, 1, 1
    # e: no commune; Sở Y tế's area (old shape) H44.D00 → 1, 1, 0
    assert {code: counts(r) for code, r in rows.items()} == {
        "H44.D04": (0, 2, 1, 1),
        "B01": (0, 2, 1, 1),
        "H44.D00": (0, 1, 1, 0),
    }
    assert rows["B01"].unit_name.startswith("Chi nhánh")


def test_report_by_area_without_a_directory_uses_the_district_fields() -> None:
    rows = report(JULY_DOSSIERS, JULY, AUGUST, UnitKind.AREA)
    # a, b: H44.D04 (on the events); c: the helper's default D01; d, e: H44.D00
    assert {code: counts(r) for code, r in rows.items()} == {
        "H44.D04": (0, 2, 1, 1),
        "D01": (0, 1, 1, 0),
        "H44.D00": (0, 2, 1, 1),
    }
    # and the district report is untouched by the new kinds
    assert report(JULY_DOSSIERS, JULY, AUGUST, UnitKind.DISTRICT).keys() == rows.keys()


def test_a_merged_units_dossiers_as_recorded_and_as_todays_unit() -> None:
    histories = [
        # f: H44.125 (merged into X01), received in June, resolved 2025-07-08
        dossier("f", t(2025, 6, 20, 9), t(2025, 7, 10, 17), t(2025, 7, 8, 9),
                agency_code="H44.125", agency_name="UBND thị trấn Cẩm Khê"),
        # g: H44.126 (merged into X01), received in June, still open at the end
        dossier("g", t(2025, 6, 25, 9), t(2025, 8, 25, 17),
                agency_code="H44.126", agency_name="UBND xã Phú Khê"),
        JULY_DOSSIERS[0],  # a: X01, received and resolved in July
    ]  # fmt: skip
    recorded = report(histories, JULY, AUGUST, UnitKind.AGENCY)
    # as recorded: f carried over and finished, g carried over and open, a new
    assert {code: counts(r) for code, r in recorded.items()} == {
        "H44.125": (1, 0, 1, 0),
        "H44.126": (1, 0, 0, 1),
        "X01": (0, 1, 1, 0),
    }
    today = report(
        histories, JULY, AUGUST, UnitKind.AGENCY, UnitView.as_units_at(DIRECTORY, AUGUST)
    )
    # as today's units: all three under X01 → carried 1 + 1, received 1, finished 1 + 1, open 1
    assert {code: counts(r) for code, r in today.items()} == {"X01": (2, 1, 2, 1)}
    assert today["X01"].unit_name == "UBND xã Cẩm Khê"
    by_commune = report(
        histories, JULY, AUGUST, UnitKind.COMMUNE, UnitView.as_units_at(DIRECTORY, AUGUST)
    )
    assert {code: counts(r) for code, r in by_commune.items()} == {"X01": (2, 1, 2, 1)}


def _month(year: int, month: int) -> datetime:
    return t(year + month // 13, (month - 1) % 12 + 1, 1)


def test_a_trend_across_the_reform_adds_up_the_predecessors() -> None:
    """12 months of 2025. Before July: H44.125 gets 1 dossier a month, H44.126 gets 2;
    Sở GTVT (H44.09) 1 a month until February, then Sở Xây dựng (H44.20) 1 a month.
    From July: X01 gets 4 a month. Every dossier is received on the 10th at 9:00
    and resolved on the 11th at 9:00, except a long one: H44.126, received
    2025-06-25, resolved 2025-07-08."""
    histories = []
    for m in range(1, 13):
        on_10th, on_11th = t(2025, m, 10, 9), t(2025, m, 11, 9)
        due = t(2025, m, 20, 17)
        units = ([("H44.125", 1), ("H44.126", 2)] if m < 7 else [("X01", 4)]) + [
            ("H44.09" if m < 3 else "H44.20", 1)
        ]
        for code, n in units:
            for i in range(n):
                histories.append(
                    dossier(f"{code}-{m}-{i}", on_10th, due, on_11th, agency_code=code,
                            agency_name=code)
                )  # fmt: skip
    histories.append(
        dossier("long", t(2025, 6, 25, 9), t(2025, 7, 10, 17), t(2025, 7, 8, 9),
                agency_code="H44.126", agency_name="H44.126")
    )  # fmt: skip
    today = UnitView.as_units_at(DIRECTORY, t(2026, 1, 1))
    received, carried, finished, departments = [], [], [], []
    for m in range(1, 13):
        start, end = _month(2025, m), _month(2025, m + 1)
        rows = report(histories, start, end, UnitKind.AGENCY, today)
        assert set(rows) == {"X01", "H44.20"}  # only today's units
        received.append(rows["X01"].received_total)
        carried.append(rows["X01"].carried_over)
        finished.append(rows["X01"].finished_total)
        departments.append(rows["H44.20"].received_total)
        # each month as today's units = the sum of that month's rows as recorded
        recorded = report(histories, start, end, UnitKind.AGENCY)
        communes = [r for code, r in recorded.items() if code in ("H44.125", "H44.126", "X01")]
        for name in ("carried_over", "received_total", "finished_total", "in_progress_total"):
            assert getattr(rows["X01"], name) == sum(getattr(r, name) for r in communes), (m, name)
    # Jan-Jun: 1 + 2 = 3 a month, plus the long one in June = 4; Jul-Dec: 4 a month
    assert received == [3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]
    # the long dossier is open on 1 July only
    assert carried == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    # June finishes its 3 (the long one finishes in July: 4 + 1 = 5)
    assert finished == [3, 3, 3, 3, 3, 3, 5, 4, 4, 4, 4, 4]
    # Sở GTVT's Jan-Feb dossiers count under Sở Xây dựng: 1 every month
    assert departments == [1] * 12
