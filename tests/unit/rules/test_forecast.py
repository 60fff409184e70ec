"""Hand-worked forecast of May 2026's 2.1 points (METRICS.md §7), at now = Wed 05-20 10:00.

Month [2026-05-01, 2026-06-01). 2.1 points = 20 × numerator / denominator.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.forecast import forecast, month_of, on_time_shares
from streams.rules.lifecycle import DossierState, Standing, dossier_state
from streams.rules.period import UnitKind
from tests.unit.helpers import ev, t

CAL = WorkingCalendar()
NOW = t(2026, 5, 20, 10)
A = {"agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì"}
B = {"agency_code": "H44.101", "agency_name": "UBND Phường Nông Trang"}


def dossier(
    dossier_id: str,
    unit: dict[str, str],
    received_at: datetime,
    due: datetime,
    *follow_ups: tuple[str, datetime],
    **fields: Any,
) -> list[DossierEvent]:
    events = [ev("received", received_at, dossier_id=dossier_id, due_at=due, **unit, **fields)]
    events += [ev(type_, at, dossier_id=dossier_id) for type_, at in follow_ups]
    return events


def histories() -> list[list[DossierEvent]]:
    return [
        # -- A ------------------------------------------------------------------------
        # F1 early (resolved Thu 05-07, due Fri 05-08) → decided on time
        dossier("F1", A, t(2026, 5, 4, 9), t(2026, 5, 8, 17), ("resolved", t(2026, 5, 7, 10))),
        # F2 late (resolved Mon 05-11) → decided late
        dossier("F2", A, t(2026, 5, 4, 9), t(2026, 5, 8, 17), ("resolved", t(2026, 5, 11, 9))),
        # F3 open, due Fri 05-15 passed → overdue → late in every case
        dossier("F3", A, t(2026, 5, 11, 9), t(2026, 5, 15, 17)),
        # F4, F10 open, due Fri 05-22 (before the month's end) → undecided
        dossier("F4", A, t(2026, 5, 18, 9), t(2026, 5, 22, 17)),
        dossier("F10", A, t(2026, 5, 18, 9), t(2026, 5, 22, 17)),
        # F5 open, due Wed 05-27 → undecided
        dossier("F5", A, t(2026, 5, 19, 9), t(2026, 5, 27, 17)),
        # F6 open, due Fri 06-05, after the month's end → on time at the end in every case
        dossier("F6", A, t(2026, 5, 19, 9), t(2026, 6, 5, 17)),
        # F7 carried over from April, open, due Mon 05-25 → undecided
        dossier("F7", A, t(2026, 4, 20, 9), t(2026, 5, 25, 17)),
        # F8 finished (late) in April → not in May's 2.1
        dossier("F8", A, t(2026, 4, 20, 9), t(2026, 4, 24, 17), ("resolved", t(2026, 4, 28, 9))),
        # F9 waiting for a supplement asked Tue 05-19, before its due → judged on time
        dossier(
            "F9",
            A,
            t(2026, 5, 18, 9),
            t(2026, 5, 22, 17),
            ("supplement_requested", t(2026, 5, 19, 9)),
        ),
        # F11 open, within due (Fri 05-29) but already 2 supplement rounds → late whenever
        dossier(
            "F11",
            A,
            t(2026, 5, 11, 9),
            t(2026, 5, 29, 17),
            ("supplement_requested", t(2026, 5, 12, 9)),
            ("supplement_received", t(2026, 5, 12, 10)),
            ("supplement_requested", t(2026, 5, 13, 9)),
            ("supplement_received", t(2026, 5, 13, 10)),
        ),
        # -- B ------------------------------------------------------------------------
        # G1 early → on time; G2 open, due Fri 05-29 → undecided
        dossier("G1", B, t(2026, 5, 4, 9), t(2026, 5, 8, 17), ("resolved", t(2026, 5, 5, 10))),
        dossier("G2", B, t(2026, 5, 18, 9), t(2026, 5, 29, 17)),
        # received after now: not known yet
        dossier("G3", B, t(2026, 5, 21, 9), t(2026, 5, 29, 17)),
    ]


def states() -> list[DossierState]:
    found = (dossier_state(h, NOW, CAL) for h in histories())
    return [s for s in found if s is not None]


def by_unit(**options: Any) -> dict:
    options.setdefault("on_time_share", {"H44.100": Fraction(2, 3)})
    result = forecast(states(), NOW, UnitKind.AGENCY, CAL, **options)
    return {u.unit_code: u for u in result.units}


def test_month_bounds() -> None:
    assert month_of(NOW, CAL) == (t(2026, 5, 1), t(2026, 6, 1))
    assert month_of(t(2026, 12, 31, 23), CAL) == (t(2026, 12, 1), t(2027, 1, 1))


def test_the_population_and_how_each_dossier_stands() -> None:
    a = by_unit()["H44.100"]
    # F1..F7, F9, F10, F11 = 10 (F8 finished in April)
    # on time: F1 (early), F6 (due after the month), F9 (waiting, judged on time) = 3
    # late: F2 (finished late), F3 (overdue), F11 (2 supplement rounds) = 3
    # undecided: F4, F5, F7, F10 = 4
    assert (a.denominator, a.on_time, a.late, a.undecided) == (10, 3, 3, 4)


def test_best_expected_worst() -> None:
    a = by_unit()["H44.100"]
    # best: 3 + 4 = 7 on time → 20 × 7/10 = 14.00
    # worst: 3 on time → 20 × 3/10 = 6.00
    # expected: 3 + 2/3 × 4 = 17/3 on time → 20 × 17/30 = 11.333… → 11.33
    assert (a.best, a.expected, a.worst) == (Decimal("14.00"), Decimal("11.33"), Decimal("6.00"))
    assert a.share == Fraction(2, 3)


def test_a_unit_without_a_share_has_no_expected_figure() -> None:
    b = by_unit()["H44.101"]
    # G1 on time, G2 undecided (G3 not received yet): best 20 × 2/2 = 20, worst 20 × 1/2 = 10
    assert (b.denominator, b.on_time, b.undecided) == (2, 1, 1)
    assert (b.best, b.expected, b.worst) == (Decimal("20.00"), None, Decimal("10.00"))
    # with a default share of 0.5: 1 + 0.5 → 20 × 1.5/2 = 15
    b = by_unit(default_share=Decimal("0.5"))["H44.101"]
    assert b.expected == Decimal("15.00")


def test_at_risk_most_points_saved_first_then_due_then_id() -> None:
    result = forecast(
        states(), NOW, UnitKind.AGENCY, CAL, on_time_share={"H44.100": Fraction(2, 3)}
    )
    # each of B's saves 20/2 = 10 points; each of A's 20/10 = 2; A's by due:
    # F4 and F10 (05-22, "F10" < "F4" as text), F7 (05-25), F5 (05-27)
    assert [(r.dossier_id, r.points_saved) for r in result.at_risk] == [
        ("G2", Decimal("10.00")),
        ("F10", Decimal("2.00")),
        ("F4", Decimal("2.00")),
        ("F7", Decimal("2.00")),
        ("F5", Decimal("2.00")),
    ]
    assert result.at_risk[1].due == t(2026, 5, 22, 17)
    assert result.at_risk[1].standing is Standing.WITHIN_DUE
    assert (result.month_start, result.month_end) == (t(2026, 5, 1), t(2026, 6, 1))


def test_equal_savings_are_exact_not_rounded() -> None:
    # two units of 3 open dossiers: each saves exactly 20/3 = 6.666… → 6.67; the tie
    # is exact, so the order is by due, then dossier id, across units
    x = {"agency_code": "H44.200", "agency_name": "UBND xã X"}
    y = {"agency_code": "H44.201", "agency_name": "UBND xã Y"}
    events = [
        dossier(f"{u}{i}", unit, t(2026, 5, 18, 9), t(2026, 5, 26 + (i + k) % 3, 17))
        for k, (u, unit) in enumerate((("X", x), ("Y", y)))
        for i in range(3)
    ]
    found = [dossier_state(h, NOW, CAL) for h in events]
    result = forecast([s for s in found if s], NOW, UnitKind.AGENCY, CAL, on_time_share={})
    # dues: X0 26, X1 27, X2 28; Y0 27, Y1 28, Y2 26
    assert [r.dossier_id for r in result.at_risk] == ["X0", "Y2", "X1", "Y0", "X2", "Y1"]
    assert {r.points_saved for r in result.at_risk} == {Decimal("6.67")}


def test_on_time_share_of_the_last_90_days() -> None:
    shares = on_time_shares(states(), NOW, UnitKind.AGENCY)
    # finished in [02-19, 05-20): A: F1 on time, F2 late, F8 late → 1/3; B: G1 → 1/1
    assert shares == {"H44.100": Fraction(1, 3), "H44.101": Fraction(1)}


def test_states_must_be_taken_at_now() -> None:
    [first] = [dossier_state(histories()[0], t(2026, 5, 21), CAL)]
    assert first is not None
    with pytest.raises(ValueError, match="judged at"):
        forecast([first], NOW, UnitKind.AGENCY, CAL, on_time_share={})
