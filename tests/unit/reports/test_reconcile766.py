"""Reconciling hand-built scorecards with the portal's figures (the real samples
and the general-shape fixture); every expectation worked by hand."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from reports.portal766 import PortalFigure, load_portal_figures, merge_portal_figures
from reports.reconcile766 import (
    SCORE_RECONCILE_COLUMNS,
    Verdict,
    province_code,
    reconcile_scorecard,
)
from schemas.scoring import DEFAULT_SCORING
from streams.rules.scorecard import IndicatorScore, Source, UnitScorecard

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT.parent / "shared/data/portal-766"
PROGRESS = SAMPLE / "dvc-progress-tree.month.sample.json"
ONLINE = SAMPLE / "provide-online-tree.month.sample.json"
GROUPS = ROOT / "tests/fixtures/portal/groups.month.json"

D = Decimal


def card(
    code: str,
    computed: dict[str, tuple[int | None, int | None, str | None, str | None]],
    portal: dict[str, str | None] | None = None,
) -> UnitScorecard:
    """A scorecard as the rules would give it: `computed` id → (numerator,
    denominator, rate, points), the others undefined; `portal` id → points."""
    scores = []
    for indicator in DEFAULT_SCORING.ordered_computed():
        num, den, rate, points = computed.get(indicator.id, (0, 0, None, None))
        scores.append(
            IndicatorScore(
                indicator,
                num,
                den,
                None if rate is None else D(rate),
                None if points is None else D(points),
                Source.COMPUTED,
            )
        )
    for indicator in DEFAULT_SCORING.portal:
        if indicator.scored:
            value = (portal or {}).get(indicator.id)
            source = Source.MISSING if value is None else Source.PORTAL
            points = None if value is None else D(value)
            scores.append(IndicatorScore(indicator, None, None, None, points, source))
    return UnitScorecard(code, f"Đơn vị {code}", tuple(scores))


def lines_by_key(cards, figures):
    return {(line.unit_code, line.indicator): line for line in reconcile_scorecard(cards, figures)}


def test_progress_lines_match_round_differ_and_miss() -> None:
    figures = load_portal_figures(PROGRESS)
    cards = [
        # H44.03 as the portal: 486 of 588 → 82.653 % → 82.65; points 16.5306 → 16.53
        card("H44.03", {"2.1": (486, 588, "82.65", "16.53")}),
        # H44.07: 12 dossiers never reached the portal: 332 of 470 → 70.638 → 70.64,
        # points 14.1277 → 14.13 (portal: 332 of 482, 68.88, 13.78)
        card("H44.07", {"2.1": (332, 470, "70.64", "14.13")}),
        # H44.100: the same counts, 2348 of 2971, but one cent more in points than
        # the portal's 15.81 (as if it had rounded another way): rounding only
        card("H44.100", {"2.1": (2348, 2971, "79.03", "15.82")}),
        # H44.01: nothing judged here, nothing on the portal (which writes 0s)
        card("H44.01", {"2.1": (0, 0, None, None)}),
        card("H44.999", {"2.1": (5, 5, "100.00", "20.00")}),  # not on the portal
    ]
    lines = lines_by_key(cards, figures)
    assert lines[("H44.03", "2.1")].verdict is Verdict.MATCH
    assert lines[("H44.03", "2.1")].differences == []
    differs = lines[("H44.07", "2.1")]
    assert differs.verdict is Verdict.DIFFERS
    assert differs.differences == [
        "mẫu số: Cổng 482, hệ thống 470",
        "tỷ lệ: Cổng 68.88, hệ thống 70.64",
        "điểm: Cổng 13.78, hệ thống 14.13",
    ]
    record = differs.record()
    assert record["rate_difference"] == D("1.76")  # 70.64 − 68.88, ours − the portal's
    assert record["points_difference"] == D("0.35")  # 14.13 − 13.78
    assert record["portal_source"] == "portal: dvc-progress-tree.month.sample.json"
    assert record["indicator_name"] == "Hồ sơ xử lý trước hạn, đúng hạn"
    rounding = lines[("H44.100", "2.1")]
    assert rounding.verdict is Verdict.ROUNDING
    assert rounding.differences == ["điểm: Cổng 15.81, hệ thống 15.82 (làm tròn)"]
    assert lines[("H44.01", "2.1")].verdict is Verdict.MATCH  # the portal's 0 = our blank
    assert lines[("H44.999", "2.1")].verdict is Verdict.MISSING_AT_PORTAL
    assert lines[("H44.08", "2.1")].verdict is Verdict.MISSING_HERE
    assert lines[("H44.08", "2.1")].unit_name.startswith("Sở Giáo dục")  # the portal's name
    # only what the portal published is reconciled: 2.1 alone here
    assert {indicator for _, indicator in lines} == {"2.1"}
    # 13 units on the portal, plus H44.999
    assert len(lines) == 14
    # the portal's order first (its parent H44 leads), then ours
    order = [line.unit_code for line in reconcile_scorecard(cards, figures)]
    assert order[0] == "H44" and order[-1] == "H44.999"


def test_groups_and_other_indicators() -> None:
    figures = merge_portal_figures(load_portal_figures(ONLINE), load_portal_figures(GROUPS))
    # H44.03's online group: 3.F 13 of 22 → 59.09 %, points 59.0909/100 × 12 = 7.09,
    # the portal's 7.09 / 12. Payment: 3.6 30 of 40 → 75 %, 4.50 points; with the
    # portal's 3.5 (2) and 3.5b (2) the group is 8.50 / 10 as on the portal.
    full = card(
        "H44.03",
        {"3.F": (13, 22, "59.09", "7.09"), "3.6": (30, 40, "75.00", "4.50")},
        {"3.5": "2", "3.5b": "2"},
    )
    lines = lines_by_key([full], figures)
    online = lines[("H44.03", "online")]
    assert online.verdict is Verdict.MATCH, online.differences
    assert online.ours is not None and online.ours.points == D("7.09")
    assert online.ours.rate == D("59.08")  # 7.09 / 12 = 59.083 %
    assert online.record()["indicator_name"] == "Nhóm dịch vụ công trực tuyến"
    assert lines[("H44.03", "payment")].verdict is Verdict.MATCH
    assert lines[("H44.03", "3.6")].verdict is Verdict.MATCH
    # the portal-only 1.1, 5.2 … are taken as they are, not reconciled
    assert ("H44.03", "1.1") not in lines and ("H44.03", "5.2") not in lines

    # without the portal's 3.5b, our payment group cannot be formed
    partial = card("H44.03", {"3.6": (30, 40, "75.00", "4.50")}, {"3.5": "2"})
    line = lines_by_key([partial], figures)[("H44.03", "payment")]
    assert line.verdict is Verdict.INCOMPLETE
    assert line.differences == ["hệ thống thiếu điểm: 3.5b"]
    # nor the online group with 3.F undefined (no eligible dossier)
    assert lines_by_key([partial], figures)[("H44.03", "online")].verdict is Verdict.INCOMPLETE


def test_the_provinces_online_share_and_a_changed_maximum() -> None:
    figures = load_portal_figures(ONLINE)
    # our 3.3 for the province: 150000 of 152595 → 98.2994 → 98.30, against the
    # portal's 150956 of 152595 = 98.93
    province = card("H44", {"3.3": (150000, 152595, "98.30", None)})
    line = lines_by_key([province], figures)[("H44", "3.3")]
    assert line.verdict is Verdict.DIFFERS
    assert line.differences == [
        "tử số: Cổng 150956, hệ thống 150000",
        "tỷ lệ: Cổng 98.93, hệ thống 98.30",
    ]
    assert province_code(figures.values(), "ALL") == "H44"
    assert province_code([], "ALL") == "ALL"
    rows = "unit_code,indicator,points,level\nH44,1.1,5,PROVINCE_TOTAL\nH44.07,1.1,6,\n"
    assert province_code(load_portal_figures(rows).values(), "ALL") == "H44"

    # the rule sheet gave 2.1 another maximum: reported even where the points agree
    changed = {
        ("H44.07", "2.1"): PortalFigure(
            "H44.07", "2.1", points=D("16"), max=D("25"), rate=D("80"), numerator=8, denominator=10
        )
    }
    ours = card("H44.07", {"2.1": (8, 10, "80.00", "16.00")})
    line = lines_by_key([ours], changed)[("H44.07", "2.1")]
    assert line.verdict is Verdict.DIFFERS
    assert line.differences == ["điểm tối đa: Cổng 25, hệ thống 20"]

    # a figure listed with every number null is missing at the portal, not 0
    empty = {("H44.07", "2.1"): PortalFigure("H44.07", "2.1", points=None, max=D(20))}
    line = lines_by_key([ours], empty)[("H44.07", "2.1")]
    assert line.verdict is Verdict.MISSING_AT_PORTAL
    assert line.record()["portal_points"] is None


def test_records_have_every_column() -> None:
    figures = load_portal_figures(PROGRESS)
    [line, *_] = reconcile_scorecard([card("H44", {})], figures)
    assert tuple(line.record()) == SCORE_RECONCILE_COLUMNS
    assert SCORE_RECONCILE_COLUMNS[:5] == (
        "unit_code",
        "unit_name",
        "indicator",
        "indicator_name",
        "status",
    )


def _events(tmp_path: Path) -> Path:
    from tests.unit.cli.test_report_command import LINES

    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in LINES), encoding="utf-8"
    )
    return path


def _reconcile(*args: str):
    from motcua import app

    return CliRunner().invoke(app, ["reconcile", *args])


def test_reconcile_scorecard_command(tmp_path: Path) -> None:
    events = _events(tmp_path)
    result = _reconcile(
        str(PROGRESS),
        str(ONLINE),
        "--scorecard",
        "--month",
        "2026-05",
        "--events",
        str(events),
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    rows = {(r["unit_code"], r["indicator"]): r for r in csv.DictReader(io.StringIO(result.stdout))}
    # hand-worked May (tests/unit/test_report_command.py): H44.100 judged A (early) and
    # B (on time): 2 of 2 → 100.00 %, 20.00 points, against the portal's 2348 of 2971
    viet_tri = rows[("H44.100", "2.1")]
    assert (viet_tri["our_numerator"], viet_tri["our_denominator"]) == ("2", "2")
    assert (viet_tri["our_rate"], viet_tri["our_points"]) == ("100.00", "20.00")
    assert viet_tri["portal_denominator"] == "2971"
    assert viet_tri["status"] == "Lệch số liệu"
    # the province is coded as the portal's parent, H44: 3 judged (A, B, C), all on time
    assert rows[("H44", "2.1")]["our_denominator"] == "3"
    assert rows[("H44", "3.3")]["portal_rate"] == "98.93"
    assert rows[("H44.03", "2.1")]["status"] == "Không có trong hệ thống"
    assert rows[("H44.03", "online")]["portal_points"] == "7.09"
    assert "Tháng 2026-05: " in result.stderr and "Lệch số liệu" in result.stderr


def test_reconcile_options_are_checked(tmp_path: Path) -> None:
    events = _events(tmp_path)
    common = ("--month", "2026-05", "--events", str(events))
    # two files without --scorecard: the progress reconciliation takes exactly one
    result = _reconcile(str(PROGRESS), str(ONLINE), *common)
    assert result.exit_code == 2 and "đúng một tệp" in result.stderr
    # the general-shape fixture says August
    result = _reconcile(str(GROUPS), "--scorecard", *common)
    assert result.exit_code == 2 and "tháng 2026-08, không phải 2026-05" in result.stderr
    # --scorecard computes from event files only (for now)
    result = _reconcile(str(PROGRESS), "--scorecard", "--month", "2026-05")
    assert result.exit_code == 2 and "--events" in result.stderr
    # two files giving H44.03's 2.1 differently (the sample says 16.53)
    other = tmp_path / "other.csv"
    other.write_text("unit_code,indicator,points\nH44.03,2.1,16\n", encoding="utf-8")
    result = _reconcile(str(PROGRESS), str(other), "--scorecard", *common)
    assert result.exit_code == 2 and "mâu thuẫn" in result.stderr
    # a file no shape fits is named
    bad = tmp_path / "page.json"
    bad.write_text('{"code": "OK"}', encoding="utf-8")
    result = _reconcile(str(bad), "--scorecard", *common)
    assert result.exit_code != 0 and "page.json" in result.stderr
    assert "không nhận ra dạng tệp" in result.stderr
