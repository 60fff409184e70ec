"""The units the boards' filters list, taken from fact rows (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemas.events import Level
from streams.clickhouse.rows import FACT_COLUMNS, unit_rows
from streams.rules.period import LEVEL_NAMES


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


def test_on_equal_times_the_later_row_names_the_unit() -> None:
    rows = [fact(5, agency_code="A", agency_name=name) for name in ("Tên 1", "Tên 2", "Tên 1")]
    assert [u for u in unit_rows(rows) if u[0] == "agency"] == [("agency", "A", "Tên 1", 5)]


def _by_definition(rows: list[tuple]) -> set[tuple]:
    """Each (kind, code): the name of its row with the latest updated_at, the
    later row on a tie; read straight from the columns."""
    col = {c: i for i, c in enumerate(FACT_COLUMNS)}
    best: dict[tuple[str, str], tuple] = {}
    for n, row in enumerate(rows):
        cells = {c: row[i] for c, i in col.items()}
        named = {
            "district": (cells["district_code"], cells["district_name"]),
            "area": (cells["district_code"], cells["district_name"]),
            "agency": (cells["agency_code"], cells["agency_name"]),
            "field": (cells["field_code"], cells["field_name"]),
            "level": (cells["level"], LEVEL_NAMES[Level(cells["level"])] if cells["level"] else ""),
            "commune": (cells["commune_code"], cells["commune_name"]),
        }
        if not cells["commune_code"] and cells["level"] == "commune":
            named["commune"] = (cells["agency_code"], cells["agency_name"])
        for kind, (code, name) in named.items():
            if code and (
                (kind, code) not in best or (cells["updated_at"], n) >= best[(kind, code)][:2]
            ):
                best[(kind, code)] = (cells["updated_at"], n, name or code)
    return {(kind, code, name, at) for (kind, code), (at, _, name) in best.items()}


codes = st.sampled_from(["", "C1", "C2"])
names = st.sampled_from(["", "Tên một", "Tên hai"])


@given(
    st.lists(
        st.builds(
            lambda at, level, a, an, d, dn, f, fn, c, cn: fact(
                at,
                level=level,
                agency_code=a,
                agency_name=an,
                district_code=d,
                district_name=dn,
                field_code=f,
                field_name=fn,
                commune_code=c,
                commune_name=cn,
            ),
            st.integers(1, 3),
            st.sampled_from(["", "province", "district", "commune"]),
            codes,
            names,
            codes,
            names,
            codes,
            names,
            codes,
            names,
        ),
        max_size=30,
    )
)
def test_units_equal_their_definition(rows: list[tuple]) -> None:
    units = unit_rows(rows)
    assert len(units) == len({(k, c) for k, c, _, _ in units})
    assert set(units) == _by_definition(rows)
