"""The monthly evidence export from the hand-worked history (files source)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from motcua import app
from reports.scorecard import XLSX_COLUMNS
from streams.rules.period import CSV_COLUMNS
from tests.unit.cli.test_report_command import EXPECTED, LINES


def _events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in LINES))
    return path


def _export(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"evidence.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "export",
            "monthly",
            "--month",
            "2026-05",
            "--output",
            str(out),
            "--format",
            fmt,
            "--source",
            "files",
            "--events",
            str(_events(tmp_path)),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


RATES = CSV_COLUMNS[CSV_COLUMNS.index("on_time_rate") :]


def _line(row: tuple) -> list[str]:
    """A sheet row as CSV cells: rates with two decimals (xlsx stores 100.0 as 100)."""
    return [
        "" if v is None else f"{v:.2f}" if c in RATES and not isinstance(v, str) else str(v)
        for c, v in zip(CSV_COLUMNS, row, strict=True)
    ]


def test_workbook_sheets_headers_totals_and_cover(tmp_path: Path) -> None:
    book = load_workbook(_export(tmp_path, "xlsx"))
    assert book.sheetnames == [
        "Bìa", "Theo đơn vị", "Theo lĩnh vực", "Theo huyện", "Chỉ số 766", "Biểu đồ",
        "Dấu hiệu sửa hồ sơ",
    ]  # fmt: skip
    agencies = book["Theo đơn vị"]
    rows = list(agencies.iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã đơn vị", "Tên đơn vị", "Từ kỳ trước", "Tiếp nhận mới")
    # each sheet heads its code and name columns for what it groups (issue #19)
    assert [c.value for c in book["Theo lĩnh vực"][1][:2]] == ["Mã lĩnh vực", "Tên lĩnh vực"]
    assert [c.value for c in book["Theo huyện"][1][:2]] == ["Mã huyện", "Tên huyện"]
    assert rows[1] == CSV_COLUMNS
    # the agency rows are the period report's rows (worked by hand in test_report_command)
    assert [",".join(_line(r)) for r in rows[2:4]] == EXPECTED
    # the last row is the province: 1 carried + 2 received; 2 finished, 1 in progress
    total = dict(zip(CSV_COLUMNS, rows[4], strict=True))
    assert (total["unit_code"], total["carried_over"], total["received_total"]) == ("ALL", 1, 2)
    assert (total["finished_total"], total["in_progress_total"]) == (2, 1)
    cover = dict(book["Bìa"].iter_rows(values_only=True))
    assert cover["Kỳ báo cáo (tháng)"] == "2026-05"
    assert cover["Số dòng — Theo đơn vị"] == 2
    assert cover["Số dòng — Theo lĩnh vực"] == 1  # all three are Đất đai
    assert cover["Điểm tiến độ 766 (/20)"] == 20.0
    # C (H44.07) stands overdue only from 06-01 15:00: no finding observed in May
    assert cover["Số dòng — Dấu hiệu sửa hồ sơ"] == 0
    # the checksum covers exactly the tables' data, recomputed from the sheets
    text = io.StringIO()
    for kind, sheet in (
        ("agency", "Theo đơn vị"),
        ("field", "Theo lĩnh vực"),
        ("district", "Theo huyện"),
    ):
        text.write(f"# {kind}\n")
        writer = csv.writer(text, lineterminator="\n")
        rows = list(book[sheet].iter_rows(values_only=True))
        writer.writerow(rows[1])
        for row in rows[2:]:
            writer.writerow(_line(row))
    digest = hashlib.sha256(text.getvalue().encode()).hexdigest()
    assert cover["Mã kiểm tra SHA-256 (số liệu các biểu, dạng CSV)"] == digest
    assert len(book["Biểu đồ"]._charts) == 2


def test_scorecard_sheet_is_the_scorecard_with_vietnamese_headers(tmp_path: Path) -> None:
    book = load_workbook(_export(tmp_path, "xlsx"))
    rows = list(book["Chỉ số 766"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã đơn vị", "Tên đơn vị", "Chỉ số", "Tên chỉ số")
    assert rows[0][-3:] == ("Điểm mất", "Chỉ tiêu (%)", "Nguồn")
    assert rows[1] == XLSX_COLUMNS
    sheet = [dict(zip(XLSX_COLUMNS, r, strict=True)) for r in rows[2:]]
    assert sheet[0]["unit_code"] == "ALL"  # the province first, then the agencies
    # the same figures as `motcua scorecard` (CSV, METRICS.md §7) for the month
    for by in ("province", "agency"):
        result = CliRunner().invoke(app, ["scorecard", "--from", "2026-05-01", "--to",
                                          "2026-06-01", "--by", by, "--format", "csv",
                                          "--events", str(_events(tmp_path))])  # fmt: skip
        assert result.exit_code == 0, result.output
        for want in csv.DictReader(io.StringIO(result.stdout)):
            got = next(r for r in sheet if (r["unit_code"], r["indicator"]) ==
                       (want["unit_code"], want["indicator"]))  # fmt: skip
            for column in ("numerator", "denominator", "rate", "points", "max"):
                value = got[column]
                assert ("" if value is None else f"{value:.2f}".removesuffix(".00")) == (
                    want[column].removesuffix(".00")
                ), (want["unit_code"], want["indicator"], column)
            source = {"computed": "tính từ hồ sơ", "missing": "chưa có"}[want["source"]]
            assert got["source"] == source
    total = next(r for r in sheet if r["unit_code"] == "ALL" and r["indicator"] == "Tổng")
    two_one = next(r for r in sheet if r["unit_code"] == "ALL" and r["indicator"] == "2.1")
    assert two_one["points"] == 20 and two_one["points_lost"] == 0
    assert total["points_lost"] == total["max"] - total["points"]
    cover = dict(book["Bìa"].iter_rows(values_only=True))
    assert cover["Số dòng — Chỉ số 766 (không kể dòng tổng)"] == len(sheet) - 3  # 3 totals


def test_csv_variant_has_a_bom_and_the_same_columns(tmp_path: Path) -> None:
    raw = _export(tmp_path, "csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1:3] == EXPECTED
    assert lines[3].startswith("ALL,Toàn tỉnh,1,2,")


def test_one_unit_only(tmp_path: Path) -> None:
    book = load_workbook(_export(tmp_path, "xlsx", "--unit", "H44.07"))
    rows = list(book["Theo đơn vị"].iter_rows(values_only=True))[2:]
    assert [r[0] for r in rows] == ["H44.07", "H44.07"]  # the unit, then its total
    assert dict(book["Bìa"].iter_rows(values_only=True))["Đơn vị báo cáo"] == "Sở Công Thương"
