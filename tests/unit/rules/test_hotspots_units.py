"""Hotspots on (field, area) and (field, commune) cells (METRICS.md §5, §8)."""

from __future__ import annotations

from typing import Any

from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DossierFacts, dossier_facts
from streams.rules.hotspots import (
    CellCounts,
    CellKind,
    HotspotConfig,
    HotspotTracker,
    cell_counts,
    hotspot_id,
)
from streams.rules.units import UnitView
from tests.unit.helpers import ev, t
from tests.unit.rules.units_fixture import DIRECTORY

CAL = WorkingCalendar()
AS_OF = t(2025, 9, 1)
START = t(2025, 8, 2)  # 30 days before


def facts(dossier_id: str, late: bool, **fields: Any) -> DossierFacts:
    """Received Mon 08-04 8:00, due Tue 08-05 17:00; resolved Wed 08-06 (late) or
    Mon 08-04 10:00 (early): both finished inside the window."""
    events = [
        ev("received", t(2025, 8, 4, 8), dossier_id=dossier_id, due_at=t(2025, 8, 5, 17), **fields),
        ev("resolved", t(2025, 8, 6, 10) if late else t(2025, 8, 4, 10), dossier_id=dossier_id),
    ]
    f = dossier_facts(events, CAL)
    assert f is not None
    return f


def land(dossier_id: str, late: bool, commune: str, district: str = "H44.D04") -> DossierFacts:
    return facts(
        dossier_id,
        late,
        agency_code=commune,
        commune_code=commune,
        field_code="DD",
        field_name="Đất đai",
        district_code=district,
    )


# X01 (area H44.D04): 3 late of 4; X04 (area B01): 1 late of 2, though its events
# say district H44.D04 (a source that kept the former district)
SAMPLE = [
    land("x1-1", True, "X01"),
    land("x1-2", True, "X01"),
    land("x1-3", True, "X01"),
    land("x1-4", False, "X01"),
    land("x4-1", True, "X04"),
    land("x4-2", False, "X04"),
]


def test_cells_by_district_area_and_commune() -> None:
    # by district (as before): all 6 under H44.D04, 4 late
    assert cell_counts(SAMPLE, START, AS_OF) == {
        ("DD", "H44.D04"): CellCounts("DD", "H44.D04", 6, 4)
    }
    # by commune: X01 3 of 4, X04 1 of 2
    assert cell_counts(SAMPLE, START, AS_OF, CellKind.COMMUNE) == {
        ("DD", "X01"): CellCounts("DD", "X01", 4, 3),
        ("DD", "X04"): CellCounts("DD", "X04", 2, 1),
    }
    # by area with the directory: X01 → H44.D04 (3 of 4), X04 → B01 (1 of 2)
    by_area = cell_counts(SAMPLE, START, AS_OF, CellKind.AREA, UnitView.as_recorded(DIRECTORY))
    assert by_area == {
        ("DD", "H44.D04"): CellCounts("DD", "H44.D04", 4, 3),
        ("DD", "B01"): CellCounts("DD", "B01", 2, 1),
    }


def test_a_commune_hotspot_opens_with_its_own_id() -> None:
    # X01: 20 late of 20; X04: 0 late of 20 → baseline DD = 20/40 = 0.5
    # lower(20, 20) = 20 / (20 + 3.84146) = 0.83887 > 0.5: X01 is hot;
    # lower(0, 20) = 0: X04 is not
    sample = [land(f"a{i}", True, "X01") for i in range(20)]
    sample += [land(f"b{i}", False, "X04") for i in range(20)]
    tracker = HotspotTracker(config=HotspotConfig(by=CellKind.COMMUNE))
    [opened] = tracker.update(sample, AS_OF)
    assert (opened.kind, opened.field_code, opened.district_code) == ("opened", "DD", "X01")
    assert opened.hotspot_id == hotspot_id(("DD", "X01"), AS_OF, CellKind.COMMUNE)
    assert opened.hotspot_id.startswith("commune:DD|X01|")
    # the district cell over the same dossiers: 20 of 40 = its own baseline, not hot
    assert HotspotTracker().update(sample, AS_OF) == []
    # district ids keep their old spelling
    assert hotspot_id(("DD", "H44.D04"), AS_OF).startswith("DD|H44.D04|")
