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
        ("district", "D1", "Thành phố Việt Trì", 150),
        ("level", "district", "Cấp huyện", 150),
        ("level", "province", "Cấp tỉnh", 200),
    ]


def test_missing_codes_name_no_unit() -> None:
    assert unit_rows([fact(1, field_name="Đất đai")]) == []
    assert unit_rows([]) == []
