"""Hand-worked 766 scorecard (METRICS.md §7) for May 2026.

Period [2026-05-01, 2026-06-01) local, T = end. Each dossier below is
received Mon 05-04 09:00 with due Fri 05-08 17:00 unless told otherwise;
"er" electronic_result, "cd" components_digitized, "ru" reused_digitized_data,
"ps" from_personal_store, "vn" vneid_verified.

Catalogue (when given): P1 paper result, full-online eligible; P2 neither;
P3 not in it (so §7's stand-ins: paper result, eligible iff online_level full).
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from reports.scorecard import write_scorecard_csv
from schemas.catalogue import ProcedureCatalogue
from schemas.events import DossierEvent
from schemas.scoring import DEFAULT_SCORING
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import DossierState, dossier_state
from streams.rules.period import UnitKind, period_report
from streams.rules.scorecard import (
    Source,
    UnitScorecard,
    points_of,
    scorecard,
)
from tests.unit.helpers import ev, t

CAL = WorkingCalendar()
START = t(2026, 5, 1)
END = t(2026, 6, 1)
RECEIVED = t(2026, 5, 4, 9)
DUE = t(2026, 5, 8, 17)
EARLY = ("resolved", t(2026, 5, 7, 10))  # Thu before the due date
ON_TIME = ("resolved", t(2026, 5, 8, 10))  # on the due date
LATE = ("resolved", t(2026, 5, 11, 9))  # Mon after the due

A = {"agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì"}
B = {"agency_code": "H44.101", "agency_name": "UBND Phường Nông Trang"}
C = {"agency_code": "H44.105", "agency_name": "UBND xã Xuân Lũng"}
D = {"agency_code": "H44.07", "agency_name": "Sở Công Thương"}
ALL_FLAGS = {
    "electronic_result": True,
    "components_digitized": True,
    "reused_digitized_data": True,
    "from_personal_store": True,
    "vneid_verified": True,
}

CATALOGUE = ProcedureCatalogue.from_rows(
    [
        {"code": "P1", "paper_result": "1", "full_online_eligible": "x"},
        {"code": "P2", "paper_result": "0", "full_online_eligible": ""},
    ]
)


def dossier(
    dossier_id: str,
    unit: dict[str, str],
    *follow_ups: tuple[str, datetime] | tuple[str, datetime, dict[str, Any]],
    received_at: datetime = RECEIVED,
    **fields: Any,
) -> list[DossierEvent]:
    fields.setdefault("due_at", DUE)
    events = [ev("received", received_at, dossier_id=dossier_id, **unit, **fields)]
    for type_, at, *extra in follow_ups:
        events.append(ev(type_, at, dossier_id=dossier_id, **(extra[0] if extra else {})))
    return events


def histories() -> list[list[DossierEvent]]:
    return [
        # -- A: H44.100 ---------------------------------------------------------------
        # A0 carried over (received Thu 04-23), resolved on its due date → on time; not in R
        dossier("A0", A, ("resolved", t(2026, 5, 5, 10)), received_at=t(2026, 4, 23, 9),
                due_at=t(2026, 5, 5, 17), procedure_code="P1"),
        # A1 early; online, full; fee paid online; every flag
        dossier("A1", A, EARLY, channel="online", online_level="full", procedure_code="P1",
                fee_due=True, paid_online=True, **ALL_FLAGS),
        # A2 late; online, full; fee not paid online; cd without er; a complaint after
        dossier("A2", A, LATE, ("complaint", t(2026, 5, 12, 9)), channel="online",
                online_level="full", procedure_code="P1", fee_due=True,
                components_digitized=True),
        # A3 open at T, overdue; direct, full; er cd ru (er reported later, on transfer)
        dossier("A3", A, ("transferred", t(2026, 5, 5, 9), {"electronic_result": True}),
                channel="direct", online_level="full", procedure_code="P2",
                components_digitized=True, reused_digitized_data=True),
        # A4 on time; online, full; cd ps vn, no er
        dossier("A4", A, ON_TIME, channel="online", online_level="full", procedure_code="P2",
                components_digitized=True, from_personal_store=True, vneid_verified=True),
        # A5 open at T, within due (due 06-15); postal, level none; er only
        dossier("A5", A, channel="postal", online_level="none", procedure_code="P3",
                due_at=t(2026, 6, 15, 17), electronic_result=True),
        # -- B: H44.101, everything done well, no fee --------------------------------------
        dossier("B1", B, ("resolved", t(2026, 5, 5, 10)), channel="online",
                online_level="full", procedure_code="P1", **ALL_FLAGS),
        dossier("B2", B, ("resolved", t(2026, 5, 5, 11)), channel="online",
                online_level="full", procedure_code="P1", **ALL_FLAGS),
        # -- C: H44.105, half late and every dossier complained about ----------------------
        dossier("C1", C, EARLY, ("complaint", t(2026, 5, 8, 9)), channel="direct"),
        dossier("C2", C, ("complaint", t(2026, 5, 20, 9)), channel="direct"),  # overdue at T
        # -- D: H44.07, only a carried-over dossier, finished on time in May -------------
        dossier("D0", D, ("resolved", t(2026, 5, 4, 10)), received_at=t(2026, 4, 23, 9),
                due_at=t(2026, 5, 4, 17)),
        # not in the period at all: finished in April
        dossier("A9", A, ("resolved", t(2026, 4, 24, 9)), received_at=t(2026, 4, 23, 9)),
    ]  # fmt: skip


def states() -> list[DossierState]:
    found = (dossier_state(h, END, CAL) for h in histories())
    return [s for s in found if s is not None]


def cards(**options: Any) -> dict[str, UnitScorecard]:
    s = states()
    rows = period_report(s, START, END, UnitKind.AGENCY, CAL)
    return {c.unit_code: c for c in scorecard(s, rows, START, END, UnitKind.AGENCY, **options)}


def figures(card: UnitScorecard, indicator: str) -> tuple:
    s = card.score(indicator)
    return (s.numerator, s.denominator, s.rate, s.points)


def d(text: str) -> Decimal:
    return Decimal(text)


# -- unit A without a catalogue (stand-ins) ---------------------------------------------


def test_progress_is_the_period_reports_ratio() -> None:
    a = cards()["H44.100"]
    # finished in May: A0 on time, A1 early, A2 late, A4 on time; open: A3 overdue,
    # A5 within due → (3 + 1) / (4 + 2) = 66.666…% ; points 20 × 4/6 = 13.333… → 13.33
    assert figures(a, "2.1") == (4, 6, d("66.67"), d("13.33"))
    assert a.score("2.1").source is Source.COMPUTED


def test_dossier_indicators_without_a_catalogue() -> None:
    a = cards()["H44.100"]
    # R = A1..A5 (A0 carried over, A9 finished in April). Stand-in: every procedure
    # has a paper result; eligible for full online = online_level full.
    # 3.3: online and er: A1 only → 1/5 = 20.00, shown not scored
    assert figures(a, "3.3") == (1, 5, d("20.00"), None)
    assert a.score("3.3").points_lost is None
    # 3.F: level full A1 A2 A3 A4; online among them A1 A2 A4 → 3/4 = 75 %; 12 × 0.75 = 9
    assert figures(a, "3.F") == (3, 4, d("75.00"), d("9.00"))
    # 3.6: fee A1 A2, paid online A1 → 50 %; 6 × 0.5 = 3
    assert figures(a, "3.6") == (1, 2, d("50.00"), d("3.00"))
    # 4.1: all R; er A1 A3 A5 → 3/5 = 60 %; 6 × 0.6 = 3.6
    assert figures(a, "4.1") == (3, 5, d("60.00"), d("3.60"))
    # 4.2: cd and er: A1 A3 (A2 and A4 lack er, A5 lacks cd) → 40 %; 40/80 × 4 = 2
    assert figures(a, "4.2") == (2, 5, d("40.00"), d("2.00"))
    # 4.3: ru A1 A3 → 40 %; 40/80 × 2 = 1
    assert figures(a, "4.3") == (2, 5, d("40.00"), d("1.00"))
    # 4.4: ps A1 A4 → 40 %; 4 × 0.4 = 1.6
    assert figures(a, "4.4") == (2, 5, d("40.00"), d("1.60"))
    # 4.5b: vn A1 A4 → 40 %; 2 × 0.4 = 0.8
    assert figures(a, "4.5b") == (2, 5, d("40.00"), d("0.80"))
    assert a.score("4.5b").points_lost == d("1.20")  # 2 − 0.80


def test_satisfaction_is_progress_less_the_complaint_share() -> None:
    a = cards()["H44.100"]
    # 2.1 ratio 66.666…% − complaints (A2) 1/5 = 20 % → 46.666…% → 46.67;
    # points 46.666…/90 × 6 = 3.111… → 3.11; no numerator or denominator
    assert figures(a, "5.4") == (None, None, d("46.67"), d("3.11"))


def test_total_counts_what_there_is() -> None:
    a = cards()["H44.100"]
    # 13.33 + 9 + 3 + 3.6 + 2 + 1 + 1.6 + 0.8 + 3.11 = 37.44 (3.3 unscored; portal missing)
    assert a.total == d("37.44")
    # out of 20 + 12 + 6 + 6 + 4 + 2 + 4 + 2 + 6 = 62
    assert a.total_max == d("62")


# -- unit A with a catalogue ----------------------------------------------------------------


def test_catalogue_decides_paper_result_and_eligibility() -> None:
    a = cards(catalogue=CATALOGUE)["H44.100"]
    # 3.3: online and (no paper result or er): A1 (P1, er), A4 (P2, no paper result);
    # not A2 (P1, no er) → 2/5 = 40 %
    assert figures(a, "3.3") == (2, 5, d("40.00"), None)
    # 3.F: eligible A1 A2 (P1); not A3 A4 (P2); A5 (P3, level none) not → both online full
    # → 2/2 = 100 %; 12 points
    assert figures(a, "3.F") == (2, 2, d("100.00"), d("12.00"))
    # 4.1: paper result A1 A2 (P1) and A5 (P3 stand-in); er A1 A5 → 2/3 = 66.666…%
    # → 66.67; 6 × 2/3 = 4
    assert figures(a, "4.1") == (2, 3, d("66.67"), d("4.00"))
    # 4.2: cd and (no paper result or er): A1, A3 (P2), A4 (P2) → 3/5 = 60 %;
    # 60/80 × 4 = 3
    assert figures(a, "4.2") == (3, 5, d("60.00"), d("3.00"))
    # the rest do not depend on the catalogue
    assert figures(a, "3.6") == (1, 2, d("50.00"), d("3.00"))
    assert figures(a, "4.3") == (2, 5, d("40.00"), d("1.00"))


# -- targets below 100, empty denominators, the 5.4 floor -------------------------------------


def test_points_are_capped_at_max_when_the_target_is_below_100() -> None:
    b = cards()["H44.101"]
    # B1 B2 early, every flag: 4.2 100 % of an 80 % target → min(4, 5) = 4;
    # 4.3 → min(2, 2.5) = 2; 5.4 100 − 0 = 100 % of 90 % → min(6, 6.67) = 6
    assert figures(b, "4.2") == (2, 2, d("100.00"), d("4.00"))
    assert figures(b, "4.3") == (2, 2, d("100.00"), d("2.00"))
    assert figures(b, "5.4") == (None, None, d("100.00"), d("6.00"))
    assert b.score("4.2").points_lost == d("0.00")


def test_an_empty_denominator_has_no_rate_and_no_points() -> None:
    b = cards()["H44.101"]
    # no fee in B: 3.6 has 0/0 → blank rate and points, not zero
    assert figures(b, "3.6") == (0, 0, None, None)
    assert b.score("3.6").source is Source.COMPUTED
    # 20 + 12 + 6 + 4 + 2 + 4 + 2 + 6 = 56 out of 62 − 6 (3.6 has no points) = 56
    assert (b.total, b.total_max) == (d("56.00"), d("56"))


def test_satisfaction_does_not_go_below_zero() -> None:
    c = cards()["H44.105"]
    # C1 early, C2 overdue at T → 2.1 = 1/2 = 50 %; both complained → share 100 %;
    # 50 − 100 < 0 → 0
    assert figures(c, "2.1") == (1, 2, d("50.00"), d("10.00"))
    assert figures(c, "5.4") == (None, None, d("0.00"), d("0.00"))


def test_a_unit_with_only_carried_over_dossiers() -> None:
    dd = cards()["H44.07"]
    # D0 carried over, finished on time: 2.1 = 1/1; R is empty → every R indicator blank;
    # 5.4 = 100 − 0 (no dossier of R to complain about) → min(6, 6.67) = 6
    assert figures(dd, "2.1") == (1, 1, d("100.00"), d("20.00"))
    for indicator in ("3.3", "3.F", "3.6", "4.1", "4.2", "4.3", "4.4", "4.5b"):
        assert figures(dd, indicator) == (0, 0, None, None)
    assert figures(dd, "5.4") == (None, None, d("100.00"), d("6.00"))


# -- portal figures --------------------------------------------------------------------------


def test_portal_figures_count_when_present_and_missing_is_not_zero() -> None:
    portal = {("H44.100", "1.1"): d("5.50"), ("H44.100", "1.2"): None}
    a = cards(portal=portal)["H44.100"]
    assert (a.score("1.1").points, a.score("1.1").source) == (d("5.50"), Source.PORTAL)
    assert a.score("1.1").points_lost == d("0.50")  # max 6
    assert (a.score("1.2").points, a.score("1.2").source) == (None, Source.MISSING)
    assert (a.score("5.3").points, a.score("5.3").source) == (None, Source.MISSING)
    assert a.score("1.2").points_lost is None
    # 37.44 computed + 5.50 from the portal, out of 62 + 6
    assert (a.total, a.total_max) == (d("42.94"), d("68"))
    # unscored portal indicators (3.1, 5.1) have no row
    with pytest.raises(KeyError):
        a.score("3.1")
    # another unit's figure is not A's
    assert cards(portal={("H44.101", "1.1"): d("6")})["H44.100"].score("1.1").points is None


# -- rounding -----------------------------------------------------------------------------


def test_rounding_is_half_up_and_points_come_from_the_unrounded_rate() -> None:
    table = DEFAULT_SCORING
    # 4.2: 22.5 % / 80 × 4 = 1.125 → 1.13 half-up (banker's rounding would give 1.12)
    assert points_of(Fraction(45, 2), table["4.2"]) == d("1.13")
    # 3.F, 6 of 17: rate 35.294…% → 35.29; points 12 × 6/17 = 4.2353 → 4.24, whereas
    # the rounded rate would give 35.29 × 0.12 = 4.2348 → 4.23
    assert points_of(Fraction(600, 17), table["3.F"]) == d("4.24")


def test_rate_rounds_half_up() -> None:
    # 1 of 32 received dossiers verified by VNeID: 3.125 % → 3.13 (half-up);
    # points 2 × 1/32 = 0.0625 → 0.06
    events = [
        dossier(f"E{i:02d}", A, EARLY, channel="direct", vneid_verified=i == 0) for i in range(32)
    ]
    s = [dossier_state(h, END, CAL) for h in events]
    ok = [x for x in s if x is not None]
    rows = period_report(ok, START, END, UnitKind.AGENCY, CAL)
    [card] = scorecard(ok, rows, START, END, UnitKind.AGENCY)
    assert figures(card, "4.5b") == (1, 32, d("3.13"), d("0.06"))


# -- grouping, checks, config ------------------------------------------------------------


def test_province_row_and_unit_order() -> None:
    s = states()
    rows = period_report(s, START, END, UnitKind.PROVINCE, CAL, ("H44", "Tỉnh Phú Thọ"))
    [p] = scorecard(s, rows, START, END, UnitKind.PROVINCE, province=("H44", "Tỉnh Phú Thọ"))
    # R = A1..A5, B1 B2, C1 C2 = 9; fee A1 A2 → 3.6 = 1/2
    assert (p.unit_code, p.unit_name) == ("H44", "Tỉnh Phú Thọ")
    assert figures(p, "3.6") == (1, 2, d("50.00"), d("3.00"))
    # 4.5b: vn A1 A4 B1 B2 → 4/9 = 44.444…% → 44.44; 2 × 4/9 = 0.888… → 0.89
    assert figures(p, "4.5b") == (4, 9, d("44.44"), d("0.89"))
    assert list(cards()) == ["H44.07", "H44.100", "H44.101", "H44.105"]


def test_rows_of_another_kind_are_refused() -> None:
    s = states()
    rows = period_report(s, START, END, UnitKind.FIELD, CAL)
    with pytest.raises(ValueError, match="no period row"):
        scorecard(s, rows, START, END, UnitKind.AGENCY)


def test_states_must_be_taken_at_the_end() -> None:
    s = [dossier_state(histories()[1], t(2026, 5, 20), CAL)]
    with pytest.raises(ValueError, match="judged at"):
        scorecard([x for x in s if x is not None], [], START, END, UnitKind.AGENCY)


def test_an_operators_target_changes_the_points() -> None:
    # 4.2 target lowered to 40 %: A's 40 % reaches it → 4 points (was 2)
    table = DEFAULT_SCORING.with_overrides({"4.2": {"target": 40}})
    a = cards(table=table)["H44.100"]
    assert figures(a, "4.2") == (2, 5, d("40.00"), d("4.00"))
    assert a.score("4.2").indicator.target == d("40")


# -- CSV -------------------------------------------------------------------------------------


def test_csv_exact_text_for_one_unit() -> None:
    b = cards()["H44.101"]
    out = io.StringIO()
    write_scorecard_csv([b], out)
    name = "H44.101,UBND Phường Nông Trang"
    assert out.getvalue() == (
        "unit_code,unit_name,indicator,numerator,denominator,rate,points,max,target,source\n"
        f"{name},2.1,2,2,100.00,20.00,20.00,100.00,computed\n"
        f"{name},3.3,2,2,100.00,,,50.00,computed\n"
        f"{name},3.F,2,2,100.00,12.00,12.00,100.00,computed\n"
        f"{name},3.6,0,0,,,6.00,100.00,computed\n"
        f"{name},4.1,2,2,100.00,6.00,6.00,100.00,computed\n"
        f"{name},4.2,2,2,100.00,4.00,4.00,80.00,computed\n"
        f"{name},4.3,2,2,100.00,2.00,2.00,80.00,computed\n"
        f"{name},4.4,2,2,100.00,4.00,4.00,100.00,computed\n"
        f"{name},4.5b,2,2,100.00,2.00,2.00,100.00,computed\n"
        f"{name},5.4,,,100.00,6.00,6.00,90.00,computed\n"
        f"{name},1.1,,,,,6.00,,missing\n"
        f"{name},1.2,,,,,4.00,,missing\n"
        f"{name},1.3,,,,,2.00,,missing\n"
        f"{name},1.4,,,,,6.00,,missing\n"
        f"{name},3.5,,,,,2.00,,missing\n"
        f"{name},3.5b,,,,,2.00,,missing\n"
        f"{name},4.5a,,,,,2.00,,missing\n"
        f"{name},4.C,,,,,2.00,,missing\n"
        f"{name},5.2,,,,,6.00,,missing\n"
        f"{name},5.3,,,,,6.00,,missing\n"
    )
