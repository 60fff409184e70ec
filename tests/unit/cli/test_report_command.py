"""`motcua report` end to end on a small file whose numbers are worked out by hand."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from motcua import app
from streams.rules.period import CSV_COLUMNS

RECEIVED = {
    "type": "received",
    "level": "commune",
    "district_code": "D01",
    "district_name": "Thành phố Việt Trì",
    "procedure_code": "1.004227",
    "field_code": "DD",
    "field_name": "Đất đai",
}
VIET_TRI = {"agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì"}
CONG_THUONG = {"agency_code": "H44.07", "agency_name": "Sở Công Thương"}

LINES = [
    # A: Mon 05-04 09:00 + 3 working days → due Thu 05-07 09:00; resolved Wed → early.
    # Worked: 05-04 6 h (9:00-11:30, 13:30-17:00), 05-05 8 h, 05-06 3 h = 17 h = 2.125 days.
    {
        **RECEIVED,
        **VIET_TRI,
        "event_id": "a1",
        "dossier_id": "H44.100-260504-0001",
        "at": "2026-05-04T09:00:00",
        "channel": "online",
        "time_limit": {"value": 3, "unit": "working_days"},
        "ChuHoSo": "PLANTED-NAME",
    },
    {
        "event_id": "a2",
        "dossier_id": "H44.100-260504-0001",
        "type": "resolved",
        "at": "2026-05-06T10:00:00+07:00",
    },
    "this is not json",
    # B: carried over from April; due 05-05 00:00:00 means 17:00; resolved 16:00 → on time.
    # Worked: 04-28 7 h, 04-29 8 h, 04-30 and 05-01 holidays, weekend, 05-04 8 h,
    # 05-05 7 h (7:00-11:30, 13:30-16:00) = 30 h = 3.75 days.
    {
        **RECEIVED,
        **VIET_TRI,
        "event_id": "b1",
        "dossier_id": "H44.100-260428-0001",
        "at": "2026-04-28T08:00:00",
        "channel": "direct",
        "due_at": "2026-05-05T00:00:00",
    },
    {
        "event_id": "b2",
        "dossier_id": "H44.100-260428-0001",
        "type": "resolved",
        "at": "2026-05-05T16:00:00",
    },
    # C: Fri 05-29 15:00 + 1 working day → Mon 06-01 15:00: still within due at 06-01 00:00.
    {
        **RECEIVED,
        **CONG_THUONG,
        "level": "province",
        "event_id": "c1",
        "dossier_id": "H44.07-260529-0001",
        "at": "2026-05-29T15:00:00",
        "channel": "postal",
        "online_level": "full",
        "time_limit": {"value": 1, "unit": "working_days"},
        "fee_due": True,
        "paid_online": False,
        "digitized": True,
    },
    # invalid: a received event without its agency
    {
        **RECEIVED,
        "event_id": "d1",
        "dossier_id": "X-1",
        "at": "2026-05-05T08:00:00",
        "channel": "online",
    },
]

EXPECTED = [
    # H44.07: one postal dossier in progress within due; no finished ones → blank rates.
    "H44.07,Sở Công Thương,0,1,0,1,0,0,0,0,1,1,0,0,0,0,,,100.00,20.00,0.00,0.00,0.00,100.00,",
    # H44.100: A early + B on time; avg (2.125 + 3.75) / 2 = 2.9375 → 2.94.
    "H44.100,UBND Phường Việt Trì,1,1,1,0,2,1,1,0,0,0,0,0,0,0,100.00,0.00,100.00,20.00,"
    "100.00,,,0.00,2.94",
]


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in LINES)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _run(*args: str):
    return CliRunner().invoke(app, ["report", *args])


def test_csv_report_matches_hand_worked_rows(tmp_path: Path) -> None:
    result = _run("--events", str(_write(tmp_path)), "--from", "2026-05-01", "--to", "2026-06-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1:] == EXPECTED
    assert "PLANTED" not in result.stdout


def test_invalid_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path)
    result = _run("--events", str(path), "--from", "2026-05-01", "--to", "2026-06-01")
    assert result.exit_code == 0  # the report of the valid lines was produced
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{path}:3: dòng không hợp lệ, đã bỏ qua: not valid JSON")
    assert errors[1].startswith(
        f"{path}:7: dòng không hợp lệ, đã bỏ qua: event: received event lacks"
    )
    assert "agency_code" in errors[1]
    assert errors[2] == "Đã bỏ qua 2 dòng không hợp lệ."


def test_province_row_is_the_sum(tmp_path: Path) -> None:
    args = ["--events", str(_write(tmp_path)), "--from", "2026-05-01", "--to", "2026-06-01"]
    result = _run(*args, "--by", "province")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    # 1 carried + 2 received = 2 finished + 1 in progress; on time 2/2; progress 3/3
    assert rows[0]["unit_code"] == "ALL"
    assert (rows[0]["carried_over"], rows[0]["received_total"]) == ("1", "2")
    assert (rows[0]["finished_total"], rows[0]["in_progress_total"]) == ("2", "1")
    assert rows[0]["progress_ratio_766"] == "100.00"
    assert rows[0]["online_rate"] == "50.00"  # A online, C postal
    assert rows[0]["digitized_rate"] == "50.00"


def test_xlsx_has_vietnamese_headers_and_numbers(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    args = ["--events", str(_write(tmp_path)), "--from", "2026-05-01", "--to", "2026-06-01"]
    result = _run(*args, "--format", "xlsx", "--output", str(out))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    assert sheet.title == "Biểu II.06a"
    assert sheet["A2"].value == "Mã đơn vị"
    assert sheet["Q2"].value == "Tỷ lệ đúng hạn (%)"
    assert [c.value for c in sheet[3]] == list(CSV_COLUMNS)
    viet_tri = [c.value for c in sheet[5]]
    assert viet_tri[:4] == ["H44.100", "UBND Phường Việt Trì", 1, 1]
    assert viet_tri[-1] == 2.94


def test_bad_dates_are_refused(tmp_path: Path) -> None:
    path = str(_write(tmp_path))
    assert _run("--events", path, "--from", "2026-06-01", "--to", "2026-05-01").exit_code != 0
    assert _run("--events", path, "--from", "01/05/2026", "--to", "2026-06-01").exit_code != 0
