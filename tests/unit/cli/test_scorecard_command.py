"""`motcua scorecard` and `motcua forecast` on the hand-worked May of
tests/unit/rules/test_scorecard.py (its numbers are worked out there)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from motcua import app
from reports.scorecard import write_scorecard_csv
from tests.unit.rules.test_scorecard import CATALOGUE, cards, histories

PERIOD = ["--from", "2026-05-01", "--to", "2026-06-01"]


def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "may.jsonl"
    lines = [e.model_dump_json(exclude_none=True) + "\n" for h in histories() for e in h]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})
    assert result.exit_code == code, result.output
    return result


def test_csv_is_the_rules_scorecard_as_metrics_7_lays_it_out(tmp_path: Path) -> None:
    result = run("scorecard", *PERIOD, "--events", str(events_file(tmp_path)), "--format", "csv")
    expected = io.StringIO()
    write_scorecard_csv(list(cards().values()), expected)
    assert result.stdout == expected.getvalue()
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    a = {r["indicator"]: r for r in rows if r["unit_code"] == "H44.100"}
    # hand-worked: 2.1 4/6 → 13.33 points; 5.4 46.67 % → 3.11; 3.3 shown, not scored
    assert (a["2.1"]["numerator"], a["2.1"]["denominator"], a["2.1"]["points"]) == (
        "4", "6", "13.33",
    )  # fmt: skip
    assert (a["5.4"]["numerator"], a["5.4"]["rate"], a["5.4"]["points"]) == ("", "46.67", "3.11")
    assert (a["3.3"]["points"], a["3.3"]["max"], a["3.3"]["target"]) == ("", "", "50.00")
    assert a["1.1"]["source"] == "missing" and a["1.1"]["points"] == ""
    assert "4 đơn vị theo cơ quan" in result.stderr


def test_a_catalogue_and_a_scoring_table_change_the_figures(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(
        '[{"code": "P1", "paper_result": "1", "full_online_eligible": "x"},'
        ' {"code": "P2", "paper_result": "0", "full_online_eligible": ""}]',
        encoding="utf-8",
    )
    scoring = tmp_path / "scoring.json"
    scoring.write_text('{"4.2": {"target": 40}}', encoding="utf-8")
    events = str(events_file(tmp_path))
    result = run("scorecard", *PERIOD, "--events", events, "--format", "csv",
                 "--catalogue", str(catalogue), "--scoring", str(scoring))  # fmt: skip
    a = {r["indicator"]: r for r in csv.DictReader(io.StringIO(result.stdout))
         if r["unit_code"] == "H44.100"}  # fmt: skip
    # with the catalogue 4.1 is 2/3 (test_scorecard); 4.2 is 3/5 = 60 % of a 40 % target → 4
    assert (a["4.1"]["numerator"], a["4.1"]["denominator"]) == ("2", "3")
    assert (a["4.2"]["rate"], a["4.2"]["points"], a["4.2"]["target"]) == ("60.00", "4.00", "40.00")
    assert len(CATALOGUE) == 2
    assert "danh mục thủ tục: " in result.stderr and "(2 thủ tục)" in result.stderr


def test_the_table_shows_points_lost_and_totals(tmp_path: Path) -> None:
    result = run("scorecard", *PERIOD, "--events", str(events_file(tmp_path)), "--by", "province")
    out = result.stdout
    assert out.splitlines()[0].strip() == (
        "Bảng điểm 766 — 2026-05-01 đến trước 2026-06-01 — toàn tỉnh"
    )
    for header in ("Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa", "Điểm mất", "Nguồn"):
        assert header in out
    assert "Tổng điểm các chỉ số có số liệu" in out
    assert "tính từ hồ sơ" in out and "chưa có" in out


def test_xlsx_is_written_with_vietnamese_headers(tmp_path: Path) -> None:
    book_path = tmp_path / "scorecard.xlsx"
    events = str(events_file(tmp_path))
    run("scorecard", *PERIOD, "--events", events, "--format", "xlsx", "--output", str(book_path))
    sheet = load_workbook(book_path)["Bảng điểm 766"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("Mã đơn vị", "Tên đơn vị", "Chỉ số", "Tên chỉ số")
    assert rows[2][:3] == ("unit_code", "unit_name", "indicator")
    a_total = next(r for r in rows if r[0] == "H44.100" and r[2] == "Tổng")
    assert (a_total[7], a_total[8]) == (37.44, 62)  # points, out of


PORTAL = Path(__file__).resolve().parents[2] / "fixtures" / "portal" / "scorecard.may.json"


def test_portal_figures_count_in_the_total_and_missing_stays_missing(tmp_path: Path) -> None:
    events = str(events_file(tmp_path))
    result = run("scorecard", *PERIOD, "--events", events, "--format", "csv",
                 "--portal", str(PORTAL))  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    a = {r["indicator"]: r for r in rows if r["unit_code"] == "H44.100"}
    b = {r["indicator"]: r for r in rows if r["unit_code"] == "H44.101"}
    assert (a["1.1"]["points"], a["1.1"]["source"]) == ("5.50", "portal")
    assert (a["1.2"]["points"], a["4.5a"]["points"]) == ("3.00", "2.00")
    assert (a["1.3"]["points"], a["1.3"]["source"]) == ("", "missing")  # null: not published
    assert (a["1.4"]["points"], a["1.4"]["source"]) == ("", "missing")  # not in the file
    assert (b["5.2"]["points"], b["5.2"]["source"]) == ("4.50", "portal")
    assert "publicity" not in a  # a group's figure is not an indicator of the card
    assert "4 số liệu từ" in result.stderr and str(PORTAL) in result.stderr
    # the total: 37.44 of 62 computed (test_xlsx_…) + 5.5 + 3 + 2 of 6 + 4 + 2
    book_path = tmp_path / "scorecard.xlsx"
    run("scorecard", *PERIOD, "--events", events, "--format", "xlsx", "--output",
        str(book_path), "--portal", str(PORTAL))  # fmt: skip
    sheet = load_workbook(book_path)["Bảng điểm 766"]
    a_total = next(r for r in sheet.iter_rows(values_only=True)
                   if r[0] == "H44.100" and r[2] == "Tổng")  # fmt: skip
    assert (a_total[7], a_total[8]) == (47.94, 74)


def test_the_portals_province_row_is_the_province_by_province(tmp_path: Path) -> None:
    events = str(events_file(tmp_path))
    result = run("scorecard", *PERIOD, "--events", events, "--format", "csv", "--by",
                 "province", "--portal", str(PORTAL))  # fmt: skip
    rows = {r["indicator"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert (rows["1.1"]["unit_code"], rows["1.1"]["points"]) == ("ALL", "5.75")
    assert rows["1.1"]["source"] == "portal" and rows["1.2"]["source"] == "missing"


def test_a_portal_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    events = str(events_file(tmp_path))
    bad = tmp_path / "portal.json"
    bad.write_text('{"figures": [{"unit_code": "H44.100", "indicator": "9.9"}]}', "utf-8")
    result = run("scorecard", *PERIOD, "--events", events, "--portal", str(bad))
    assert f"Bỏ qua {bad}" in result.stderr  # an unknown indicator is skipped, named
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    result = run("scorecard", *PERIOD, "--events", events, "--portal", str(broken), code=1)
    assert f"{broken} không dùng được" in result.stderr


def test_usage_and_input_problems(tmp_path: Path) -> None:
    events = str(events_file(tmp_path))
    result = run("scorecard", *PERIOD, "--events", events, "--format", "xlsx", code=2)
    assert "--output" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("code,paper_result\nP1,maybe\n", encoding="utf-8")
    result = run("scorecard", *PERIOD, "--events", events, "--catalogue", str(bad), code=1)
    assert f"{bad}: không đọc được danh mục thủ tục" in result.stderr
    wrong = tmp_path / "scoring.json"
    wrong.write_text('{"9.9": {"target": 10}}', encoding="utf-8")
    result = run("scorecard", *PERIOD, "--events", events, "--scoring", str(wrong), code=1)
    assert "không dùng được làm bảng điểm" in result.stderr and "9.9" in result.stderr
    result = run("scorecard", "--from", "2025-01-01", "--to", "2025-02-01", "--events", events,
                 code=1)  # fmt: skip
    assert "không có hồ sơ nào" in result.stderr


def test_forecast_from_events(tmp_path: Path) -> None:
    """At Wed 05-06 09:00: A1..A4 (due Fri 05-08) are open and undecided; A's four
    undecided of six save 20/6 = 3.33 points each; C's two save 10 each."""
    events = str(events_file(tmp_path))
    result = run("forecast", "--events", events, "--at", "2026-05-06T09:00", "--top", "3")
    out = result.stdout
    assert "Dự báo điểm 2.1 (tiến độ giải quyết) tháng 05/2026" in out
    lines = [line.split() for line in out.splitlines()]
    a = next(line for line in lines if line[:1] == ["H44.100"])
    # denominator 6, sure on time 2 (A0 finished; A5 due in June), late 0, undecided 4;
    # best 20, worst 2/6 × 20 = 6.67
    assert a[-7:-4] == ["2", "0", "4"] and a[-3] == "20.00" and a[-1] == "6.67"
    at_risk = [line[0] for line in lines if line[:1] and line[0][:1] in "ABC" and len(line) > 4]
    assert at_risk[:2] == ["C1", "C2"]  # 10 points each, then A's at 3.33
    assert "Hồ sơ cần giải quyết đúng hạn trước hết (3/6" in out
    assert "6 hồ sơ chưa ngã ngũ" in result.stderr
