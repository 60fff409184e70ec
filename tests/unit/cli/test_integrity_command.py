"""`motcua integrity` on files whose findings are worked out by hand.

The "reset overdue" dossier of tests/unit/rules/test_integrity.py, as the canonical
events ingest made of its three sync records: received Fri 2024-05-24 08:15,
due Fri 05-31 17:00, resolved Mon 06-03 10:00, then on Wed 06-05 09:00 its
end rewritten to the due. Findings: late without apology at the due (Fri
05-31 17:00), the end moved earlier and set to the due (Wed 06-05 09:00).
A second dossier of another agency, resolved on time, has none.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from ingest.sync import LastRecords, convert
from motcua import app
from tests.unit.ingest.test_sync import DIRECTORY, local, rec

DOSSIER = "H44.100-240524-0001"
DUE = "2024-05-31T17:00:00+07:00"
FIRST_END = "2024-06-03T10:00:00+07:00"
REWRITE = f"{DOSSIER}:corrected:end_at:20240531170000"


def events_file(tmp_path: Path) -> Path:
    store = LastRecords()
    records = [
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240603100000"), local("2024-06-03T10:05")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240531170000"), local("2024-06-05T09:00")),
        (
            rec(MaHoSo="H44.07-240524-0002", TrangThaiHoSo=9, NgayKetThucXuLy="20240528100000"),
            local("2024-05-28T10:05"),
        ),
    ]
    events = [e for r, seen in records for e in convert([r], store, DIRECTORY, seen)]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(e.model_dump_json(exclude_none=True) + "\n" for e in events))
    return path


def run(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(app, ["integrity", *args], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_csv_has_one_row_per_finding(tmp_path: Path) -> None:
    out, err = run(
        "--from", "2024-05-01", "--to", "2024-07-01",
        "--events", str(events_file(tmp_path)), "--format", "csv",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [
        (r["dossier_id"], r["kind"], r["agency_code"], r["observed_at"], r["old"], r["new"])
        for r in rows
    ] == [
        (DOSSIER, "late_without_apology", "H44.100", DUE, DUE, "overdue"),
        (DOSSIER, "end_moved_earlier", "H44.100", "2024-06-05T09:00:00+07:00", FIRST_END, DUE),
        (DOSSIER, "end_set_to_due", "H44.100", "2024-06-05T09:00:00+07:00", FIRST_END, DUE),
    ]
    assert rows[1]["evidence"] == REWRITE
    assert "3 dấu hiệu" in err


def test_the_span_and_the_unit_choose_the_findings(tmp_path: Path) -> None:
    path = str(events_file(tmp_path))
    june, _ = run("--from", "2024-06-01", "--to", "2024-07-01", "--events", path, "--format", "csv")
    assert [r["kind"] for r in csv.DictReader(io.StringIO(june))] == [
        "end_moved_earlier",
        "end_set_to_due",
    ]
    other, _ = run(
        "--from", "2024-05-01", "--to", "2024-07-01", "--events", path,
        "--unit", "H44.07", "--format", "csv",
    )  # fmt: skip
    assert list(csv.DictReader(io.StringIO(other))) == []


def test_table_and_xlsx_read_in_vietnamese(tmp_path: Path) -> None:
    path = str(events_file(tmp_path))
    table, _ = run("--from", "2024-05-01", "--to", "2024-07-01", "--events", path)
    assert "Sửa ngày kết thúc bằng ngày hẹn trả" in table
    assert "Quá hạn không có văn bản xin lỗi" in table
    book = tmp_path / "findings.xlsx"
    _, err = run(
        "--from", "2024-05-01", "--to", "2024-07-01", "--events", path,
        "--format", "xlsx", "--output", str(book),
    )  # fmt: skip
    sheet = load_workbook(book).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("Mã hồ sơ", "Dấu hiệu")
    assert rows[2][:2] == ("dossier_id", "kind")
    assert [r[1] for r in rows[3:]] == [
        "Quá hạn không có văn bản xin lỗi",
        "Sửa ngày kết thúc sớm hơn",
        "Sửa ngày kết thúc bằng ngày hẹn trả",
    ]
    assert str(book) in err


def test_the_monthly_workbook_has_the_months_findings(tmp_path: Path) -> None:
    path = str(events_file(tmp_path))
    sheets = {}
    for month in ("2024-05", "2024-06"):
        out = tmp_path / f"{month}.xlsx"
        result = CliRunner().invoke(
            app,
            ["export", "monthly", "--month", month, "--output", str(out),
             "--source", "files", "--events", path],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        book = load_workbook(out)
        rows = list(book["Dấu hiệu sửa hồ sơ"].iter_rows(values_only=True))
        assert rows[1][:4] == ("dossier_id", "kind", "agency_code", "observed_at")
        sheets[month] = [(r[0], r[1], r[3]) for r in rows[2:]]
        cover = dict(book["Bìa"].iter_rows(values_only=True))
        assert cover["Số dòng — Dấu hiệu sửa hồ sơ"] == len(rows) - 2
    assert sheets["2024-05"] == [(DOSSIER, "Quá hạn không có văn bản xin lỗi", DUE)]
    assert sheets["2024-06"] == [
        (DOSSIER, "Sửa ngày kết thúc sớm hơn", "2024-06-05T09:00:00+07:00"),
        (DOSSIER, "Sửa ngày kết thúc bằng ngày hẹn trả", "2024-06-05T09:00:00+07:00"),
    ]
