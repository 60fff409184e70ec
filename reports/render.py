"""Writing report records as CSV (machine column names), a rich table or an
xlsx sheet (Vietnamese headers). Records are dicts in column order. CSV and
xlsx cells go through schemas/cells.py: no text from data becomes a formula."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO

from rich.table import Table

from schemas.cells import append_row, csv_cell
from streams.rules.period import COLUMN_LABELS_VI, CSV_COLUMNS, PeriodRow

Record = Mapping[str, object]


def cell(value: object) -> str:
    """Text of a value on a terminal: two decimals for rates, blank for "no
    denominator" (files use `schemas.cells.csv_cell`)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def write_records_csv(columns: Sequence[str], records: Sequence[Record], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([csv_cell(record[name]) for name in columns])


def records_table(
    columns: Sequence[str], labels: Mapping[str, str], records: Sequence[Record], title: str
) -> Table:
    table = Table(title=title, header_style="bold")
    for name in columns:
        numeric = not name.endswith(("_name", "status", "differences")) and name != "unit_code"
        table.add_column(labels[name], justify="right" if numeric else "left")
    for record in records:
        table.add_row(*(cell(record[name]) for name in columns))
    return table


def write_records_xlsx(
    columns: Sequence[str],
    labels: Mapping[str, str],
    records: Sequence[Record],
    path: Path,
    title: str,
    sheet_title: str,
) -> None:
    """One sheet: a title line, Vietnamese headers, machine names, then the records."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [labels[name] for name in columns])
    append_row(sheet, columns)  # machine names, so the sheet round-trips to the CSV
    for header in sheet[2]:
        header.font = Font(bold=True)
    for record in records:
        append_row(sheet, [_xlsx_value(record[name]) for name in columns])
    sheet.freeze_panes = "C4"
    book.save(path)


def _xlsx_value(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


# -- the period report -----------------------------------------------------------

# A terminal is narrow: the table shows the columns a supervisor reads first;
# CSV and xlsx carry all of them.
TABLE_COLUMNS = (
    "unit_code",
    "unit_name",
    "carried_over",
    "received_total",
    "finished_total",
    "finished_late",
    "in_progress_overdue",
    "waiting_supplement",
    "on_time_rate",
    "progress_ratio_766",
    "online_rate",
    "avg_processing_days",
)


def write_csv(rows: Sequence[PeriodRow], out: IO[str]) -> None:
    write_records_csv(CSV_COLUMNS, [r.as_record() for r in rows], out)


def rich_table(rows: Sequence[PeriodRow], title: str) -> Table:
    return records_table(TABLE_COLUMNS, COLUMN_LABELS_VI, [r.as_record() for r in rows], title)


def write_xlsx(rows: Sequence[PeriodRow], path: Path, title: str) -> None:
    records = [r.as_record() for r in rows]
    write_records_xlsx(CSV_COLUMNS, COLUMN_LABELS_VI, records, path, title, "Biểu II.06a")
