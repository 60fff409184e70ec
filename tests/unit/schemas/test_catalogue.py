"""The procedure catalogue (EVENTS.md §4) and the scoring table (METRICS.md §7)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas.catalogue import (
    CatalogueEntry,
    ProcedureCatalogue,
    Subject,
    catalogue_from_csv,
    catalogue_from_json,
    parse_catalogue,
)
from schemas.events import Level
from schemas.scoring import (
    COMPUTED_IDS,
    DEFAULT_SCORING,
    PORTAL_INDICATORS,
    Group,
    ScoringTable,
    scoring_from_json,
)

# -- the catalogue ---------------------------------------------------------------------------


def test_rows_with_tolerant_booleans_and_unknown_columns() -> None:
    catalogue = ProcedureCatalogue.from_rows(
        [
            {
                "code": " 1.004227 ",
                "name": "Đăng ký khai sinh",
                "field": "Hộ tịch",
                "levels": "xã",
                "full_online_eligible": "x",
                "paper_result": True,
                "fee": "0",
                "subjects": ["công dân"],
                "MaCoQuan": "ignored",  # an unknown column
            },
            {"code": "2.001", "full_online_eligible": 1, "paper_result": "false", "fee": "Có"},
            {"code": "3.002"},  # nothing said: no, no, no
        ]
    )
    assert len(catalogue) == 3
    birth = catalogue["1.004227"]
    assert (birth.full_online_eligible, birth.paper_result, birth.fee) == (True, True, False)
    assert birth.levels == frozenset({Level.COMMUNE})
    assert birth.subjects == frozenset({Subject.CITIZEN})
    assert (catalogue["2.001"].full_online_eligible, catalogue["2.001"].fee) == (True, True)
    assert catalogue["3.002"] == CatalogueEntry(code="3.002")
    assert "9.999" not in catalogue
    assert catalogue.get("9.999") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("TRUE", True), ("x", True), ("có", True), ("0", False), ("", False)],
)
def test_boolean_spellings(text: str, expected: bool) -> None:
    [entry] = ProcedureCatalogue.from_rows([{"code": "1", "paper_result": text}]).values()
    assert entry.paper_result is expected


def test_a_value_that_is_neither_yes_nor_no_names_row_and_field() -> None:
    with pytest.raises(ValueError, match=r"row 2: fee: expected yes or no"):
        ProcedureCatalogue.from_rows([{"code": "1"}, {"code": "2", "fee": "maybe"}])
    with pytest.raises(ValueError, match=r"row 1: levels: unknown level"):
        ProcedureCatalogue.from_rows([{"code": "1", "levels": "moon"}])
    with pytest.raises(ValueError, match=r"row 1: code"):
        ProcedureCatalogue.from_rows([{"name": "no code"}])


def test_a_code_listed_twice_must_agree() -> None:
    same = ProcedureCatalogue.from_rows([{"code": "1", "fee": "1"}, {"code": "1", "fee": True}])
    assert len(same) == 1
    with pytest.raises(ValueError, match="listed twice"):
        ProcedureCatalogue.from_rows([{"code": "1", "fee": "1"}, {"code": "1", "fee": "0"}])


def test_csv_text() -> None:
    text = (
        "\ufeffcode,name,levels,full_online_eligible,paper_result,fee,subjects,extra\n"
        '1.004227,Đăng ký khai sinh,"tỉnh; xã",1,1,0,công dân;tổ chức,z\n'
        "2.001,Cấp phép,,,,x,,\n"
    )
    catalogue = catalogue_from_csv(text)
    birth = catalogue["1.004227"]
    assert birth.name == "Đăng ký khai sinh"
    assert birth.levels == frozenset({Level.PROVINCE, Level.COMMUNE})
    assert birth.subjects == frozenset({Subject.CITIZEN, Subject.ORGANISATION})
    assert (birth.full_online_eligible, birth.paper_result, birth.fee) == (True, True, False)
    permit = catalogue["2.001"]
    assert (permit.name, permit.levels, permit.fee, permit.paper_result) == (
        "Cấp phép",
        frozenset(),
        True,
        False,
    )
    assert parse_catalogue(text) == catalogue


def test_json_text_list_or_object() -> None:
    rows = '[{"code": "1.004227", "paper_result": true, "levels": ["province", "commune"]}]'
    listed = catalogue_from_json(rows)
    assert listed["1.004227"].levels == frozenset({Level.PROVINCE, Level.COMMUNE})
    wrapped = parse_catalogue('  {"procedures": ' + rows + "}")
    assert dict(wrapped) == dict(listed)
    with pytest.raises(ValueError, match="expected a list of procedures"):
        catalogue_from_json('{"items": []}')


# -- the scoring table -----------------------------------------------------------------------


def test_default_table_follows_the_spec() -> None:
    computed = DEFAULT_SCORING.ordered_computed()
    assert [i.id for i in computed] == list(COMPUTED_IDS)
    by_id = {i.id: (i.max_points, i.target) for i in computed}
    d = Decimal
    assert by_id == {
        "2.1": (d(20), d(100)),
        "3.3": (None, d(50)),
        "3.F": (d(12), d(100)),
        "3.6": (d(6), d(100)),
        "4.1": (d(6), d(100)),
        "4.2": (d(4), d(80)),
        "4.3": (d(2), d(80)),
        "4.4": (d(4), d(100)),
        "4.5b": (d(2), d(100)),
        "5.4": (d(6), d(90)),
    }


def test_group_totals_are_18_20_12_10_22_18() -> None:
    totals = dict.fromkeys(Group, Decimal(0))
    for indicator in (*DEFAULT_SCORING.computed, *PORTAL_INDICATORS):
        totals[indicator.group] += indicator.max_points or 0
    assert [totals[g] for g in Group] == [18, 20, 12, 10, 22, 18]
    portal = {i.id for i in PORTAL_INDICATORS}
    assert portal == {"1.1", "1.2", "1.3", "1.4", "3.1", "3.5", "3.5b", "4.5a", "4.C"} | {
        "5.1",
        "5.2",
        "5.3",
    }


def test_operator_overrides() -> None:
    table = scoring_from_json('{"4.2": {"target": 70}, "1.1": {"max_points": 5}}')
    assert table["4.2"].target == Decimal(70)
    assert table["4.2"].max_points == Decimal(4)  # unchanged
    assert table["1.1"].max_points == Decimal(5)
    with pytest.raises(ValueError, match=r"unknown indicator: 9\.9"):
        DEFAULT_SCORING.with_overrides({"9.9": {"target": 1}})
    with pytest.raises(ValueError):
        DEFAULT_SCORING.with_overrides({"4.2": {"target": 0}})  # a target must be > 0


def test_a_table_must_hold_every_computed_indicator() -> None:
    data = DEFAULT_SCORING.model_dump()
    data["computed"] = data["computed"][:-1]  # 5.4 left out
    with pytest.raises(ValueError, match="computed indicators must be exactly"):
        ScoringTable.model_validate(data)
    assert ScoringTable.model_validate(DEFAULT_SCORING.model_dump()) == DEFAULT_SCORING
