"""Hand-worked examples of METRICS.md §5 (hotspots).

Wilson lower bound, with n = total, p = late / n, z = 1.959963984540054
(z² = 3.841458820694124):

    lower = (p + z²/2n − z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)

Each expected value is evaluated by hand in the test's comment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DossierFacts, dossier_facts
from streams.rules.hotspots import (
    CellCounts,
    HotspotChange,
    HotspotConfig,
    HotspotTracker,
    cell_counts,
    evaluate_hotspots,
    field_baselines,
    hotspot_id,
    wilson_lower_bound,
)
from tests.unit.helpers import ev, t

CAL = WorkingCalendar()
Z = 1.959963984540054

# -- Wilson lower bound ---------------------------------------------------------------


def test_wilson_12_late_of_20() -> None:
    # p = 0.6; z²/n = 0.19207294; z²/2n = 0.09603647
    # p(1−p)/n = 0.24/20 = 0.012; z²/4n² = 3.84145882/1600 = 0.00240091
    # sqrt(0.01440091) = 0.12 + 0.00000091/0.24 = 0.12000380; × z = 0.23520312
    # (0.6 + 0.09603647 − 0.23520312) / 1.19207294 = 0.46083335 / 1.19207294 = 0.38658
    assert wilson_lower_bound(12, 20) == pytest.approx(0.38658, abs=1e-4)


def test_wilson_5_late_of_10() -> None:
    # p = 0.5; z²/n = 0.38414588; z²/2n = 0.19207294
    # p(1−p)/n = 0.025; z²/4n² = 3.84145882/400 = 0.00960365; sum 0.03460365
    # sqrt = 0.186 + 0.00000765/0.372 = 0.18602056; × z = 0.36459360
    # (0.5 + 0.19207294 − 0.36459360) / 1.38414588 = 0.32747934 / 1.38414588 = 0.23659
    assert wilson_lower_bound(5, 10) == pytest.approx(0.23659, abs=1e-4)


def test_wilson_all_late_is_n_over_n_plus_z_squared() -> None:
    # p = 1: the root is sqrt(z²/4n²) = z/2n, so lower = 1 / (1 + z²/n) = n / (n + z²)
    # 20 / 23.84145882 = 0.83887
    assert wilson_lower_bound(20, 20) == pytest.approx(0.83887, abs=1e-4)


def test_wilson_none_late_is_zero() -> None:
    # p = 0: z²/2n − z·sqrt(z²/4n²) = z²/2n − z²/2n = 0
    assert wilson_lower_bound(0, 20) == pytest.approx(0.0, abs=1e-12)
    assert wilson_lower_bound(0, 20) >= 0.0


def test_wilson_of_no_dossiers_is_zero() -> None:
    assert wilson_lower_bound(0, 0) == 0.0


def test_wilson_rejects_more_late_than_total() -> None:
    with pytest.raises(ValueError):
        wilson_lower_bound(21, 20)


def test_wilson_narrows_with_more_dossiers_at_the_same_share() -> None:
    # 60% late: more evidence → a higher lower bound, always below 0.6
    bounds = [wilson_lower_bound(6 * k, 10 * k) for k in (1, 2, 10, 100)]
    assert bounds == sorted(bounds)
    assert bounds[-1] < 0.6


# -- evaluation of cells -----------------------------------------------------------------


def cells(*counts: CellCounts) -> dict[tuple[str, str], CellCounts]:
    return {c.cell: c for c in counts}


def test_baseline_is_the_fields_share_over_all_districts() -> None:
    # DD: (12 + 4) late of (20 + 60) = 16/80 = 0.2; HT: 1/4 = 0.25
    grid = cells(
        CellCounts("DD", "D01", 20, 12),
        CellCounts("DD", "D02", 60, 4),
        CellCounts("HT", "D01", 4, 1),
    )
    assert field_baselines(grid) == {"DD": pytest.approx(0.2), "HT": pytest.approx(0.25)}
    assert field_baselines(list(grid.values())) == field_baselines(grid)


def test_cell_with_lower_bound_above_baseline_is_hot() -> None:
    # DD/D01: lower(12, 20) = 0.38658 > 0.2; DD/D02: lower(4, 60) < 4/60 < 0.2
    grid = cells(CellCounts("DD", "D01", 20, 12), CellCounts("DD", "D02", 60, 4))
    assert evaluate_hotspots(grid, field_baselines(grid), HotspotConfig()) == {("DD", "D01")}


def test_min_total_boundary() -> None:
    # 20 dossiers is enough (>= 20); 19 is not, however late
    base = {"DD": 0.2}
    assert evaluate_hotspots(cells(CellCounts("DD", "D01", 20, 12)), base, HotspotConfig()) == {
        ("DD", "D01")
    }
    assert evaluate_hotspots(cells(CellCounts("DD", "D01", 19, 19)), base, HotspotConfig()) == set()
    low = HotspotConfig(min_total=19)
    assert evaluate_hotspots(cells(CellCounts("DD", "D01", 19, 19)), base, low) == {("DD", "D01")}


def test_lower_bound_equal_to_baseline_is_not_hot() -> None:
    # "above" is strict
    grid = cells(CellCounts("DD", "D01", 20, 12))
    at_bound = {"DD": wilson_lower_bound(12, 20)}
    assert evaluate_hotspots(grid, at_bound, HotspotConfig()) == set()
    assert evaluate_hotspots(grid, {"DD": 0.3865}, HotspotConfig()) == {("DD", "D01")}


def test_field_without_baseline_is_never_hot() -> None:
    grid = cells(CellCounts("DD", "D01", 20, 12))
    assert evaluate_hotspots(grid, {}, HotspotConfig()) == set()


# -- counting a cell from dossier facts -------------------------------------------------

AS_OF = t(2026, 6, 1)  # Mon 00:00
WINDOW_START = AS_OF - timedelta(days=30)  # Sat 2026-05-02 00:00


def facts_of(
    dossier: str,
    received: datetime,
    due: datetime,
    *later: tuple[str, datetime],
    **fields: Any,
) -> DossierFacts:
    events: list[DossierEvent] = [
        ev("received", received, dossier_id=dossier, due_at=due, **fields)
    ]
    events += [ev(kind, at, dossier_id=dossier) for kind, at in later]
    f = dossier_facts(events, CAL)
    assert f is not None
    return f


def window_facts() -> list[DossierFacts]:
    return [
        # HT/D01 (the helper's default cell)
        # finished late in the window: resolved Wed 05-06, due Tue 05-05 17:00
        facts_of("d1", t(2026, 5, 4, 8), t(2026, 5, 5, 17), ("resolved", t(2026, 5, 6, 10))),
        # finished early in the window
        facts_of("d2", t(2026, 5, 4, 8), t(2026, 5, 8, 17), ("resolved", t(2026, 5, 7, 10))),
        # finished late before the window: not counted
        facts_of("d3", t(2026, 4, 20, 8), t(2026, 4, 21, 17), ("resolved", t(2026, 4, 28, 10))),
        # in progress, overdue at AS_OF (due Fri 05-22 17:00)
        facts_of("d4", t(2026, 5, 20, 8), t(2026, 5, 22, 17)),
        # in progress, within due at AS_OF (due Fri 06-05)
        facts_of("d5", t(2026, 5, 29, 8), t(2026, 6, 5, 17)),
        # waiting for supplement at AS_OF: neither finished nor in progress
        facts_of(
            "d6", t(2026, 5, 4, 8), t(2026, 5, 6, 17), ("supplement_requested", t(2026, 5, 5, 9))
        ),
        # received after AS_OF
        facts_of("d7", t(2026, 6, 2, 8), t(2026, 6, 5, 17)),
        # resolved after AS_OF: overdue at AS_OF (due Mon 05-25 17:00)
        facts_of("d8", t(2026, 5, 20, 8), t(2026, 5, 25, 17), ("resolved", t(2026, 6, 3, 10))),
        # resolved exactly at the window's start, late: counted ([start, end))
        facts_of("d11", t(2026, 4, 28, 8), t(2026, 4, 29, 17), ("resolved", WINDOW_START)),
        # resolved exactly at AS_OF: still in progress just before AS_OF (within due)
        facts_of("d12", t(2026, 5, 28, 8), t(2026, 6, 5, 17), ("resolved", AS_OF)),
        # HT/D02: finished late
        facts_of(
            "d9",
            t(2026, 5, 11, 8),
            t(2026, 5, 12, 17),
            ("resolved", t(2026, 5, 14, 10)),
            district_code="D02",
        ),
        # DD/D01: within due
        facts_of("d10", t(2026, 5, 29, 8), t(2026, 6, 5, 17), field_code="DD"),
    ]


def test_cell_counts_finished_in_window_plus_in_progress_at_end() -> None:
    # HT/D01: d1 (late), d2, d4 (overdue), d5, d8 (overdue), d11 (late), d12 → 7, 4 late
    got = cell_counts(window_facts(), WINDOW_START, AS_OF)
    assert got == {
        ("HT", "D01"): CellCounts("HT", "D01", 7, 4),
        ("HT", "D02"): CellCounts("HT", "D02", 1, 1),
        ("DD", "D01"): CellCounts("DD", "D01", 1, 0),
    }
    # HT: 5 late of 8; DD: 0 of 1
    assert field_baselines(got) == {"HT": pytest.approx(5 / 8), "DD": 0.0}


def test_waiting_for_supplement_counts_once_answered() -> None:
    # d6 answered on Thu 05-07: in progress again, overdue at AS_OF
    d6 = facts_of(
        "d6",
        t(2026, 5, 4, 8),
        t(2026, 5, 6, 17),
        ("supplement_requested", t(2026, 5, 5, 9)),
        ("supplement_received", t(2026, 5, 7, 9)),
    )
    assert cell_counts([d6], WINDOW_START, AS_OF) == {("HT", "D01"): CellCounts("HT", "D01", 1, 1)}


def test_window_start_is_window_days_before() -> None:
    assert HotspotConfig().window_start(AS_OF) == WINDOW_START
    assert HotspotConfig(window_days=7).window_start(AS_OF) == t(2026, 5, 25)


def test_tracker_update_from_facts() -> None:
    # HT/D01 has 4 late of 7; HT/D02 gets 20 on-time dossiers → baseline 5/28 = 0.179
    # lower(4, 7): p = 0.5714, z²/n = 0.54878, z²/2n = 0.27439,
    # p(1−p)/n = 0.24490/7 = 0.034985, z²/4n² = 3.84146/196 = 0.019599; sqrt(0.054584) = 0.23363
    # (0.57143 + 0.27439 − 1.95996·0.23363) / 1.54878 = (0.84582 − 0.45791) / 1.54878 = 0.25046
    on_time = [
        facts_of(
            f"ok{i}",
            t(2026, 5, 11, 8),
            t(2026, 5, 15, 17),
            ("resolved", t(2026, 5, 15, 10)),
            district_code="D02",
        )
        for i in range(20)
    ]
    tracker = HotspotTracker(config=HotspotConfig(min_total=7))
    changes = tracker.update(window_facts() + on_time, AS_OF)
    assert [(c.kind, c.field_code, c.district_code) for c in changes] == [("opened", "HT", "D01")]
    assert (changes[0].total, changes[0].late) == (7, 4)
    assert changes[0].wilson_lower == pytest.approx(0.25046, abs=1e-4)
    assert changes[0].baseline == pytest.approx(5 / 28)


# -- opened / closed records ---------------------------------------------------------------

CELL = ("DD", "D01")
T1, T2, T3, T4 = (t(2026, 6, d, 8) for d in (1, 2, 3, 4))
HOT = cells(CellCounts("DD", "D01", 20, 12))
COOL = cells(CellCounts("DD", "D01", 20, 2))
BASE = {"DD": 0.2}


def test_opened_then_closed_never_opened_twice() -> None:
    tracker = HotspotTracker()
    opened = tracker.evaluate(HOT, BASE, T1)
    assert opened == [
        HotspotChange(
            kind="opened",
            field_code="DD",
            district_code="D01",
            at=T1,
            total=20,
            late=12,
            wilson_lower=pytest.approx(0.38658, abs=1e-4),  # type: ignore[arg-type]
            baseline=0.2,
            hotspot_id="DD|D01|2026-06-01T01:00:00+00:00",  # 08:00 +07:00 in UTC
        )
    ]
    assert tracker.evaluate(HOT, BASE, T2) == []  # still hot: no second "opened"
    closed = tracker.evaluate(COOL, BASE, T3)
    assert [(c.kind, c.at, c.late, c.hotspot_id) for c in closed] == [
        ("closed", T3, 2, opened[0].hotspot_id)
    ]
    assert tracker.evaluate(COOL, BASE, T3) == []  # no second "closed" either
    again = tracker.evaluate(HOT, BASE, T4)
    assert [(c.kind, c.hotspot_id) for c in again] == [("opened", hotspot_id(CELL, T4))]
    assert again[0].hotspot_id != opened[0].hotspot_id


def test_cell_with_no_dossiers_left_closes_with_zero_counts() -> None:
    tracker = HotspotTracker({CELL: T1})
    closed = tracker.evaluate({}, {}, T2)
    assert [(c.kind, c.total, c.late, c.wilson_lower) for c in closed] == [("closed", 0, 0, 0.0)]
    assert tracker.open_cells == {}


def test_restored_tracker_does_not_reopen() -> None:
    first = HotspotTracker()
    [opened] = first.evaluate(HOT, BASE, T1)
    # worker restart: a new tracker from the open set
    restored = HotspotTracker(first.open_cells)
    assert restored.evaluate(HOT, BASE, T2) == []
    [closed] = restored.evaluate(COOL, BASE, T3)
    assert closed.hotspot_id == opened.hotspot_id


def test_restore_from_stored_records() -> None:
    tracker = HotspotTracker()
    records = tracker.evaluate(HOT, BASE, T1) + tracker.evaluate(COOL, BASE, T2)
    records += tracker.evaluate(HOT, BASE, T3)
    restored = HotspotTracker.from_changes(reversed(records))
    assert restored.open_cells == {CELL: T3}
    assert restored.evaluate(HOT, BASE, T4) == []
    assert HotspotTracker.from_changes(records[:2]).open_cells == {}


def test_same_evaluation_after_a_lost_state_gives_the_same_id() -> None:
    # a restart that lost its state and re-evaluates the same instant: same record, deduped
    a = HotspotTracker().evaluate(HOT, BASE, T1)
    b = HotspotTracker().evaluate(HOT, BASE, T1)
    assert a == b


def test_hotspot_id_is_the_same_whatever_zone_the_instant_is_in() -> None:
    from datetime import UTC

    assert hotspot_id(CELL, T1) == hotspot_id(CELL, T1.astimezone(UTC))


def test_changes_come_in_cell_order() -> None:
    grid = cells(
        CellCounts("HT", "D02", 20, 12),
        CellCounts("DD", "D03", 20, 12),
        CellCounts("DD", "D01", 20, 12),
    )
    changes = HotspotTracker().evaluate(grid, {"DD": 0.2, "HT": 0.2}, T1)
    assert [(c.field_code, c.district_code) for c in changes] == [
        ("DD", "D01"),
        ("DD", "D03"),
        ("HT", "D02"),
    ]
