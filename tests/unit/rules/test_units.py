"""Hand-worked examples of METRICS.md §8 (units across the 2025 reorganisation)
and the unit directory of EVENTS.md §4 (schemas.units, streams.rules.units)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from schemas.events import Level
from schemas.units import (
    CSV_COLUMNS,
    UnitDirectory,
    UnitType,
    directory_json,
    parse_unit_directory,
)
from streams.rules.units import (
    NO_COMMUNE,
    UnitView,
    area_of,
    commune_of,
    successor_at,
    unit_as_of,
)
from tests.unit.helpers import ev, t
from tests.unit.rules.units_fixture import DIRECTORY, ROWS

OLD_FIXTURE = Path(__file__).parents[2] / "fixtures" / "sync" / "units.json"

# --- the directory: both shapes, from text ------------------------------------------


def test_the_old_ingest_shape_reads_as_valid_always() -> None:
    directory = parse_unit_directory(OLD_FIXTURE.read_text(encoding="utf-8"))
    # the fixture lists H44.100 (a ward) and H44.12 (a department)
    assert directory.codes() == ["H44.100", "H44.12"]
    ward = unit_as_of(directory, "H44.100", date(1990, 1, 1))
    assert ward is not None and ward == unit_as_of(directory, "H44.100", date(2099, 1, 1))
    assert (ward.name, ward.kind, ward.level) == (
        "UBND Phường Việt Trì",
        UnitType.COMMUNE,
        Level.COMMUNE,
    )
    assert ward.area is not None and (ward.area.code, ward.area.name) == (
        "H44.D01",
        "Thành phố Việt Trì",
    )
    assert (ward.valid_from, ward.valid_to, ward.successor) == (None, None, None)
    department = unit_as_of(directory, "H44.12", date(2025, 7, 1))
    assert department is not None and department.kind is UnitType.DEPARTMENT
    assert department.level is Level.PROVINCE


def test_the_old_mapping_shape_and_the_list_shape_agree() -> None:
    as_list = parse_unit_directory(OLD_FIXTURE.read_text(encoding="utf-8"))
    mapping = (
        '{"H44.100": {"agency_name": "UBND Phường Việt Trì", "level": "commune",'
        ' "district_code": "H44.D01", "district_name": "Thành phố Việt Trì"},'
        ' "H44.12": {"agency_name": "Sở Tài nguyên và Môi trường", "level": "province",'
        ' "district_code": "H44.D00", "district_name": "Cấp tỉnh"}}'
    )
    assert parse_unit_directory(mapping) == as_list


def test_csv_and_json_of_the_versioned_shape_agree() -> None:
    lines = [",".join(CSV_COLUMNS)]
    lines.append("H44.125,UBND thị trấn Cẩm Khê,commune,,H44.D04,Huyện Cẩm Khê,,2025-07-01,X01")
    lines.append("X01,UBND xã Cẩm Khê,commune,,H44.D04,Huyện Cẩm Khê,2025-07-01,,")
    from_csv = parse_unit_directory("\n".join(lines) + "\n")
    expected = UnitDirectory.from_rows([ROWS[1], ROWS[4]])
    assert from_csv == expected
    # and the JSON it writes reads back as the same directory
    assert parse_unit_directory(directory_json(DIRECTORY).decode()) == DIRECTORY


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (  # two versions of X01 overlap in July 2025
            [
                {"code": "X01", "name": "A", "kind": "commune", "valid_to": "2025-08-01"},
                {"code": "X01", "name": "B", "kind": "commune", "valid_from": "2025-07-01"},
            ],
            "overlap",
        ),
        ([{"code": "X01", "name": "A", "kind": "commune", "successor": "X02"}], "valid_to"),
        (
            [
                {
                    "code": "X",
                    "name": "A",
                    "kind": "commune",
                    "valid_from": "2025-07-01",
                    "valid_to": "2025-07-01",
                }
            ],
            "after valid_from",
        ),
        ([{"code": "X", "name": "A", "kind": "hamlet"}], "kind"),
    ],
)
def test_a_directory_that_contradicts_itself_is_refused(rows: list, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        UnitDirectory.from_rows(rows)


# --- unit_as_of and successor_at -----------------------------------------------------


def test_unit_as_of_judges_the_local_date() -> None:
    # H44.125 is valid on days before 2025-07-01 (valid_to is exclusive)
    assert unit_as_of(DIRECTORY, "H44.125", t(2025, 6, 30, 23, 59)) is not None
    assert unit_as_of(DIRECTORY, "H44.125", t(2025, 7, 1)) is None
    # 2025-06-30 17:00 UTC is 2025-07-01 00:00 in Hanoi: already the new units
    utc = datetime(2025, 6, 30, 17, tzinfo=UTC)
    assert unit_as_of(DIRECTORY, "H44.125", utc) is None
    assert unit_as_of(DIRECTORY, "X01", utc) is not None
    assert unit_as_of(DIRECTORY, "X01", t(2025, 6, 30, 23, 59)) is None
    assert unit_as_of(DIRECTORY, "nowhere", t(2025, 1, 1)) is None


def test_successor_at_follows_the_chain() -> None:
    def code(unit: str, when: datetime) -> str | None:
        found = successor_at(DIRECTORY, unit, when)
        return None if found is None else found.code

    assert code("H44.125", t(2025, 6, 1)) == "H44.125"  # still valid: itself
    assert code("H44.125", t(2025, 8, 1)) == "X01"
    assert code("H44.126", t(2025, 8, 1)) == "X01"
    assert code("H44.127", t(2025, 8, 1)) == "X02"
    assert code("H44.127", t(2026, 2, 1)) == "X03"  # two steps: → X02 → X03
    assert code("H44.09", t(2025, 3, 1)) == "H44.20"
    assert code("H44.17", t(2026, 2, 1)) == "H44.17"  # old shape: valid always
    assert code("H44.34", t(2025, 8, 1)) is None  # dissolved, no successor
    assert code("C1", t(2025, 1, 1)) is None  # C1 → C2 → C1: a cycle ends the search
    assert code("X01", t(2025, 1, 1)) is None  # before it existed: no mapping back
    assert code("nowhere", t(2025, 1, 1)) is None


# --- a dossier's commune and area ------------------------------------------------------


def test_commune_of_a_dossier() -> None:
    own = ev("received", t(2025, 8, 4, 9), agency_code="X01", agency_name="UBND xã Cẩm Khê")
    assert commune_of(own) == ("X01", "UBND xã Cẩm Khê")  # a commune's own dossier
    of_a_department = ev(
        "received",
        t(2025, 8, 4, 9),
        agency_code="H44.20",
        level="province",
        commune_code="X04",
        commune_name="UBND phường Thanh Miếu",
    )
    assert commune_of(of_a_department) == ("X04", "UBND phường Thanh Miếu")
    no_commune = ev("received", t(2025, 8, 4, 9), agency_code="H44.17", level="province")
    assert commune_of(no_commune) == NO_COMMUNE


def test_area_is_the_district_before_the_reform_and_the_communes_area_after() -> None:
    # before 1 July 2025: the district on the event, whatever the directory says
    before = ev(
        "received",
        t(2025, 6, 30, 16),
        agency_code="H44.125",
        district_code="H44.D04",
        district_name="Huyện Cẩm Khê",
    )
    assert area_of(before, DIRECTORY) == ("H44.D04", "Huyện Cẩm Khê")
    # after: the directory's area of the commune (X04 → its one-stop branch B01),
    # not the district the source wrote
    after = ev(
        "received",
        t(2025, 7, 1, 8),
        agency_code="X04",
        commune_code="X04",
        district_code="H44.D01",
        district_name="Thành phố Việt Trì",
    )
    assert area_of(after, DIRECTORY)[0] == "B01"
    # without a directory: the event's district fields
    assert area_of(after) == ("H44.D01", "Thành phố Việt Trì")


def test_area_fallbacks_when_the_directory_lacks_the_commune() -> None:
    # a commune the directory lacks, handled by a department the directory has:
    # Sở Y tế's area (old shape: its district "Cấp tỉnh")
    department = ev(
        "received",
        t(2025, 9, 1, 9),
        agency_code="H44.17",
        level="province",
        commune_code="X99",
        district_code="H44.D00",
        district_name="Cấp tỉnh",
    )
    assert area_of(department, DIRECTORY) == ("H44.D00", "Cấp tỉnh")
    # neither commune nor agency known: the district fields the source wrote
    unknown = ev("received", t(2025, 9, 1, 9), agency_code="Z9", commune_code="X99")
    assert area_of(unknown, DIRECTORY) == ("D01", "Thành phố Việt Trì")
    # a commune merged before the dossier came (a late source still using the old
    # code) is followed to its successor: H44.126 → X01, area H44.D04
    stale = ev("received", t(2025, 9, 1, 9), agency_code="H44.126", commune_code="H44.126")
    assert area_of(stale, DIRECTORY)[0] == "H44.D04"


# --- as recorded vs as today's units -------------------------------------------------


def test_as_recorded_and_as_todays_units() -> None:
    old_commune = ev("received", t(2025, 5, 5, 9), agency_code="H44.127", agency_name="Tình Cương")
    old_department = ev(
        "received", t(2025, 2, 3, 9), agency_code="H44.09", agency_name="Sở GTVT", level="province"
    )
    dissolved = ev("received", t(2025, 5, 5, 9), agency_code="H44.34", agency_name="UBND huyện")
    recorded = UnitView.as_recorded(DIRECTORY)
    today = UnitView.as_units_at(DIRECTORY, t(2026, 3, 1))
    assert recorded.agency(old_commune) == ("H44.127", "Tình Cương")
    assert recorded.commune(old_commune) == ("H44.127", "Tình Cương")
    assert today.agency(old_commune) == ("X03", "UBND xã Hương Lung")  # → X02 → X03
    assert today.commune(old_commune) == ("X03", "UBND xã Hương Lung")
    assert today.agency(old_department) == ("H44.20", "Sở Xây dựng")
    assert recorded.agency(old_department) == ("H44.09", "Sở GTVT")
    assert today.commune(old_department) == NO_COMMUNE
    # a unit with no successor stays as recorded: its dossiers never drop out
    assert today.agency(dissolved) == ("H44.34", "UBND huyện")
    # today's area: the area of the commune it became (X03: H44.D04) …
    assert today.area(old_commune)[0] == "H44.D04"
    # … and as recorded, before the reform: the district on the event
    assert recorded.area(old_commune) == ("D01", "Thành phố Việt Trì")
    # the same instant in the middle of 2025: X02 (before its rename)
    assert UnitView.as_units_at(DIRECTORY, date(2025, 12, 31)).agency(old_commune)[0] == "X02"
