"""Reading the portal's published 766 figures: the real samples, and the general shape.

Expected values are read off the JSON and fixture files by eye, not from the code.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from reports.portal766 import (
    PROVINCE_TOTAL,
    PortalFigureError,
    load_portal_figures,
    merge_portal_figures,
    portal_points,
)

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT.parent / "shared/data/portal-766"
PROGRESS = SAMPLE / "dvc-progress-tree.month.sample.json"
ONLINE = SAMPLE / "provide-online-tree.month.sample.json"
FIXTURES = ROOT / "tests/fixtures/portal"


def test_the_progress_sample_gives_2_1_for_every_unit() -> None:
    figures = load_portal_figures(PROGRESS)
    # 1 parent + 12 children in the trimmed sample, each with 2.1 only
    assert len(figures) == 13
    assert {indicator for _, indicator in figures} == {"2.1"}
    h44 = figures[("H44", "2.1")]
    # parent: totalOnTime 144625 of totalReceived 184513, ratio 78.38, totalScore 15.68 / 20
    assert (h44.numerator, h44.denominator) == (144625, 184513)
    assert (h44.rate, h44.points, h44.max) == (Decimal("78.38"), Decimal("15.68"), Decimal(20))
    assert h44.unit_name == "UBND tỉnh Phú Thọ" and h44.level == PROVINCE_TOTAL
    assert h44.source == "portal: dvc-progress-tree.month.sample.json"
    assert h44.month is None  # the portal's files do not name their month
    bql = figures[("H44.03", "2.1")]  # 486 of 588, ratio 82.65, score 16.53
    assert (bql.numerator, bql.denominator, bql.rate, bql.points) == (
        486,
        588,
        Decimal("82.65"),
        Decimal("16.53"),
    )
    assert bql.level == "PROVINCE"
    viet_tri = figures[("H44.100", "2.1")]
    assert (viet_tri.numerator, viet_tri.denominator) == (2348, 2971)
    assert viet_tri.points == Decimal("15.81") and viet_tri.level == "COMMUNE"
    # Sở Ngoại vụ: 2 received, none on time: a published 0, not a missing figure
    foreign = figures[("H44.13", "2.1")]
    assert (foreign.numerator, foreign.denominator, foreign.points) == (0, 2, Decimal(0))
    assert foreign.points is not None and foreign.published
    assert load_portal_figures(str(PROGRESS)) == figures  # a path as text


def test_the_online_sample_gives_the_group_and_the_provinces_3_3() -> None:
    figures = load_portal_figures(ONLINE)
    # parent: online group 8.83 / 12, ratio 73.58; 3.3 from the channel sums
    group = figures[("H44", "online")]
    assert (group.points, group.max, group.rate) == (Decimal("8.83"), Decimal(12), Decimal("73.58"))
    assert group.is_group and group.numerator is None
    channel = figures[("H44", "3.3")]
    # 150956 online of 152595: 1 − 1639/152595 = 0.98926 → 98.93 %
    assert (channel.numerator, channel.denominator) == (150956, 152595)
    assert channel.rate == Decimal("98.93")
    assert channel.points is None  # 3.3 is shown, not scored
    # children: the group only (7.09 / 12 for H44.03), no channel sums, so no 3.3
    assert figures[("H44.03", "online")].points == Decimal("7.09")
    assert figures[("H44.105", "online")].rate == Decimal("51.58")
    assert ("H44.03", "3.3") not in figures
    # fullCount counts procedures, not dossiers: no 3.F anywhere
    assert not any(indicator == "3.F" for _, indicator in figures)
    assert len(figures) == 6  # parent: group + 3.3; four children: group


def test_nulls_stay_none_and_unknown_fields_are_ignored() -> None:
    document = json.loads(PROGRESS.read_text(encoding="utf-8"))
    child = document["data"]["children"][1]  # H44.03
    child["score"] = None
    child["ratio"] = None
    child["somethingNew"] = {"nested": [1, 2]}
    document["data"]["parent"]["brandNewTotal"] = 7
    figures = load_portal_figures(json.dumps(document, ensure_ascii=False))
    bql = figures[("H44.03", "2.1")]
    assert bql.points is None and bql.rate is None
    assert (bql.numerator, bql.denominator) == (486, 588)  # still published
    assert figures[("H44", "2.1")].points == Decimal("15.68")
    assert figures[("H44.03", "2.1")].source == "portal: text"


def test_the_general_shape_as_json() -> None:
    figures = load_portal_figures(FIXTURES / "groups.month.json")
    assert len(figures) == 9
    assert {f.month for f in figures.values()} == {"2026-08"}  # the document's month
    one = figures[("H44.03", "1.1")]
    assert (one.points, one.max, one.rate) == (Decimal(6), Decimal(6), Decimal(100))
    assert one.unit_name == "Ban quản lý các khu công nghiệp - Tỉnh Phú Thọ"
    # "3,5" and "87,5" with a decimal comma
    assert figures[("H44.03", "1.2")].points == Decimal("3.5")
    assert figures[("H44.03", "1.2")].rate == Decimal("87.5")
    # null points: not published (None), and not mistaken for the published 0 of 1.4
    assert figures[("H44.03", "1.3")].points is None
    assert not figures[("H44.03", "1.3")].published
    assert figures[("H44.03", "1.4")].points == Decimal(0)
    assert figures[("H44.03", "1.4")].denominator == 1250
    # numbers as strings; "87.5%" as a rate
    five_two = figures[("H44.03", "5.2")]
    assert (five_two.points, five_two.rate) == (Decimal("5.25"), Decimal("87.5"))
    assert (five_two.numerator, five_two.denominator) == (7, 8)
    assert figures[("H44.03", "payment")].points == Decimal("8.5")
    assert figures[("H44.03", "3.6")].source == "portal: groups.month.json"


def test_the_general_shape_as_csv() -> None:
    figures = load_portal_figures(FIXTURES / "groups.month.csv")
    assert set(figures) == {
        ("H44.100", "4.5a"),
        ("H44.100", "4.C"),
        ("H44.100", "5.3"),
        ("H44.100", "online"),  # the group's number 3
    }
    assert figures[("H44.100", "4.5a")].points == Decimal(2)
    assert figures[("H44.100", "4.C")].points is None  # an empty cell
    assert figures[("H44.100", "4.C")].max == Decimal(2)
    five_three = figures[("H44.100", "5.3")]
    assert five_three.points == Decimal("5.4")
    assert (five_three.numerator, five_three.denominator) == (1233, 1370)  # "1.233", "1.370"
    assert figures[("H44.100", "online")].rate == Decimal("87.5")
    assert figures[("H44.100", "online")].unit_name == "UBND Phường Việt Trì"
    assert {f.month for f in figures.values()} == {"2026-08"}


def test_comma_separated_csv_and_a_bare_json_list() -> None:
    text = '\ufeffunit_code,indicator,points,max\nH44.07,1.1,"5,5",6\nH44.07,5.2,,6\n\n'
    figures = load_portal_figures(text)
    assert figures[("H44.07", "1.1")].points == Decimal("5.5")
    assert figures[("H44.07", "5.2")].points is None
    rows = '[{"unit_code": "H44.07", "indicator": "4.5a", "points": "1,25", "month": null}]'
    [(key, figure)] = load_portal_figures(rows, name="paste").items()
    assert key == ("H44.07", "4.5a") and figure.points == Decimal("1.25")
    assert figure.source == "portal: paste" and figure.month is None


def test_an_unknown_indicator_is_an_error_naming_the_field_or_a_warning() -> None:
    text = "unit_code;indicator;points\nH44.07;1.1;6\nH44.07;9.9;1\n"
    with pytest.raises(PortalFigureError, match=r"dòng 3: trường indicator = '9.9'"):
        load_portal_figures(text)
    warned: list[str] = []
    figures = load_portal_figures(text, on_unknown=warned.append)
    assert list(figures) == [("H44.07", "1.1")]
    assert len(warned) == 1 and "'9.9'" in warned[0] and "dòng 3" in warned[0]


def test_bad_files_are_named() -> None:
    with pytest.raises(PortalFigureError, match="không phải JSON hợp lệ"):
        load_portal_figures("{not json")
    with pytest.raises(PortalFigureError, match="không nhận ra dạng tệp"):
        load_portal_figures('{"code": "OK", "message": "OK"}')
    with pytest.raises(PortalFigureError, match=r"figures\[0\]: thiếu trường unit_code"):
        load_portal_figures('[{"indicator": "1.1", "points": 6}]')
    with pytest.raises(PortalFigureError, match=r"dòng 2: trường points: 'sáu' không phải số"):
        load_portal_figures("unit_code,indicator,points\nH44.07,1.1,sáu\n")
    with pytest.raises(PortalFigureError, match=r"trường denominator: '12,5' không phải số nguyên"):
        load_portal_figures('[{"unit_code": "X", "indicator": "1.4", "denominator": "12,5"}]')
    with pytest.raises(PortalFigureError, match=r"H44\.07 / 1\.1 đã có ở dòng 2"):
        load_portal_figures("unit_code,indicator,points\nH44.07,1.1,6\nH44.07,1.1,5\n")
    with pytest.raises(PortalFigureError, match="YYYY-MM"):
        load_portal_figures('{"month": "08/2026", "figures": []}')
    with pytest.raises(PortalFigureError, match=r"data.children\[0\] thiếu trường departmentCode"):
        load_portal_figures('{"data": {"children": [{"totalReceived": 1, "totalOnTime": 1}]}}')
    with pytest.raises(PortalFigureError, match="không đọc được"):
        load_portal_figures(Path("/nonexistent/portal.json"))


def test_files_merge_and_feed_the_scorecard() -> None:
    merged = merge_portal_figures(
        load_portal_figures(PROGRESS),
        load_portal_figures(ONLINE),
        load_portal_figures(FIXTURES / "groups.month.json"),
    )
    assert merged[("H44.03", "2.1")].points == Decimal("16.53")
    assert merged[("H44.03", "online")].points == Decimal("7.09")
    assert merged[("H44.03", "1.1")].points == Decimal(6)
    # the scorecard's `portal` argument: only what the portal alone decides, None kept
    points = portal_points(merged)
    assert points[("H44.03", "1.1")] == Decimal(6)
    assert points[("H44.03", "1.3")] is None
    assert ("H44.03", "2.1") not in points and ("H44.03", "3.6") not in points
    assert ("H44.03", "online") not in points
    # the same figure twice is fine; two different ones are not
    again = merge_portal_figures(load_portal_figures(PROGRESS), load_portal_figures(PROGRESS))
    assert len(again) == 13
    other = load_portal_figures("unit_code,indicator,points\nH44.03,2.1,16\n")
    with pytest.raises(PortalFigureError, match=r"H44\.03 / 2\.1"):
        merge_portal_figures(load_portal_figures(PROGRESS), other)
