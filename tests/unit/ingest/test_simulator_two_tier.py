"""The simulator's province across 1 July 2025 (METRICS.md §8): the old shape
before it, departments and communes after it, and the versioned directory."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

from ingest.simulator.dossiers import Dossier
from ingest.simulator.knobs import Knobs
from ingest.simulator.outputs import history_path, write_units
from ingest.simulator.province import build_two_tier_units, build_units
from ingest.simulator.simulation import Format, Simulation
from schemas.events import DossierEvent, EventType, Level
from schemas.units import parse_unit_directory
from streams.rules.calendar import WorkingCalendar
from streams.rules.units import area_of, successor_at, unit_as_of
from tests.unit.helpers import t

CAL = WorkingCalendar()
# a week each side of the reform: Mon 2025-06-23 .. Sun 2025-07-06
BEFORE, REFORM, AFTER = date(2025, 6, 23), date(2025, 7, 1), date(2025, 7, 7)


@cache
def received() -> list[DossierEvent]:
    sim = Simulation(BEFORE, AFTER, Knobs(seed=7), CAL)
    events = [item.payload for item in sim.stream(Format.EVENTS)]
    return [e for e in events if isinstance(e, DossierEvent) and e.type is EventType.RECEIVED]


def test_two_tier_shape_departments_and_about_100_communes() -> None:
    units = build_two_tier_units()
    levels = Counter(u.level for u in units)
    assert levels[Level.DISTRICT] == 0
    assert 90 <= levels[Level.COMMUNE] <= 110
    # the old 49 communes merge about three into one, in 6 former districts (areas)
    old = [u for u in build_units() if u.level is Level.COMMUNE]
    assert len(old) == 49
    assert all(u.valid_to == REFORM and u.successor for u in old)
    # every two-tier commune offers land procedures (the districts' went to them)
    assert all(any(p.land for p, _ in u.offers) for u in units if u.level is Level.COMMUNE)
    # the merged departments: 4 old ones end with a successor
    merged = [u for u in build_units() if u.level is Level.PROVINCE and u.successor]
    assert {u.code for u in merged} == {"H44.09", "H44.10", "H44.12", "H44.13"}


def test_dossiers_take_the_shape_of_their_day() -> None:
    events = received()
    before = [e for e in events if e.at < t(2025, 7, 1)]
    after = [e for e in events if e.at >= t(2025, 7, 1)]
    assert before and after
    assert {e.level for e in before} == {Level.PROVINCE, Level.DISTRICT, Level.COMMUNE}
    assert {e.level for e in after} == {Level.PROVINCE, Level.COMMUNE}
    old_codes = {u.code for u in build_units()}
    new_codes = {u.code for u in build_two_tier_units()}
    assert all(e.agency_code in old_codes for e in before)
    assert all(e.agency_code in new_codes or e.agency_code in old_codes for e in after)
    assert not any(e.agency_code in {"H44.09", "H44.31"} for e in after)  # merged, dissolved
    # a commune's dossiers carry it; land is handled by communes after the reform
    for e in after:
        if e.level is Level.COMMUNE:
            assert (e.commune_code, e.commune_name) == (e.agency_code, e.agency_name)
        else:
            assert e.commune_code is None
    assert any(e.field_code == "DD" and e.level is Level.COMMUNE for e in after)
    assert any(e.field_code == "DD" and e.level is Level.DISTRICT for e in before)


def test_the_versioned_directory_beside_the_units_file(tmp_path: Path) -> None:
    sim = Simulation(BEFORE, AFTER, Knobs(seed=7), CAL)
    units = tmp_path / "units.json"
    write_units(units, sim)
    directory = parse_unit_directory(history_path(units).read_text(encoding="utf-8"))
    assert history_path(units).name == "units-history.json"
    assert len(directory) == len(sim.province.units)
    # H44.100 (Phường Việt Trì) merges with two neighbours into one new ward
    ward = successor_at(directory, "H44.100", t(2025, 7, 1))
    assert ward is not None and ward.code != "H44.100" and ward.valid_from == REFORM
    assert successor_at(directory, "H44.101", t(2025, 7, 1)) == ward
    assert ward.area is not None and ward.area.code == "H44.D01"
    assert unit_as_of(directory, "H44.31", t(2025, 7, 1)) is None  # district UBND dissolved
    assert successor_at(directory, "H44.09", t(2026, 1, 1)).name == "Sở Xây dựng"  # type: ignore[union-attr]
    # every dossier's area: its district before, its commune's former district after
    for e in received():
        area = area_of(e, directory)
        assert area[0] == e.district_code
        if e.at >= t(2025, 7, 1) and e.level is Level.COMMUNE:
            assert area[0].startswith("H44.D") and area[0] != "H44.D00"


def test_the_old_shape_window_is_unchanged_by_the_reform_units() -> None:
    """A window before 2025-07-01 draws only the old units."""
    sim = Simulation(date(2025, 5, 5), date(2025, 5, 8), Knobs(seed=7), CAL)
    codes = {d.arrival.unit.code for d in sim.dossiers() if isinstance(d, Dossier)}
    assert codes <= {u.code for u in build_units()}
