"""The units the boards' filters list, taken from fact rows (pure)."""

from __future__ import annotations

from streams.clickhouse.rows import FACT_COLUMNS, unit_rows


def fact(updated_at: int, **values: object) -> tuple:
    row = dict.fromkeys(FACT_COLUMNS, "")
    row.update(values, updated_at=updated_at)
    return tuple(row[c] for c in FACT_COLUMNS)


def test_one_row_per_unit_latest_name_wins_levels_in_vietnamese() -> None:
    rows = [
        fact(100, agency_code="H44.07", agency_name="Sở Công thương", level="province"),
        fact(200, agency_code="H44.07", agency_name="Sở Công Thương", level="province"),
        fact(
            150,
            agency_code="H44.07",
            agency_name="Tên cũ",
            district_code="D1",
            district_name="Thành phố Việt Trì",
            level="district",
        ),
    ]
    units = sorted(unit_rows(rows))
    assert units == [
        ("agency", "H44.07", "Sở Công Thương", 200),
        ("area", "D1", "Thành phố Việt Trì", 150),  # issue #17: the area is the district fields
        ("district", "D1", "Thành phố Việt Trì", 150),
        ("level", "district", "Cấp huyện", 150),
        ("level", "province", "Cấp tỉnh", 200),
    ]


def test_missing_codes_name_no_unit() -> None:
    assert unit_rows([fact(1, field_name="Đất đai")]) == []
    assert unit_rows([]) == []


def test_communes_from_the_commune_fields_or_a_commune_level_agency() -> None:
    rows = [
        fact(10, agency_code="X1", agency_name="UBND phường Việt Trì", level="commune"),
        fact(20, agency_code="H44.40", agency_name="Sở NN&MT", level="province",
             commune_code="X2", commune_name="Xã Hy Cương", district_code="K1",
             district_name="Khu vực Việt Trì"),
    ]  # fmt: skip
    communes = sorted(u for u in unit_rows(rows) if u[0] in ("commune", "area"))
    assert communes == [
        ("area", "K1", "Khu vực Việt Trì", 20),
        ("commune", "X1", "UBND phường Việt Trì", 10),
        ("commune", "X2", "Xã Hy Cương", 20),
    ]
