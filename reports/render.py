"""Writing period rows as CSV (spec column names), a rich table or an xlsx sheet."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO

from rich.table import Table

from reports.period import COLUMN_LABELS_VI, COUNT_COLUMNS, CSV_COLUMNS, PeriodRow


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def write_csv(rows: Sequence[PeriodRow], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        record = row.as_record()
        writer.writerow([_cell(record[name]) for name in CSV_COLUMNS])


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


def rich_table(rows: Sequence[PeriodRow], title: str) -> Table:
    table = Table(title=title, header_style="bold")
    for name in TABLE_COLUMNS:
        numeric = name not in ("unit_code", "unit_name")
        table.add_column(COLUMN_LABELS_VI[name], justify="right" if numeric else "left")
    for row in rows:
        record = row.as_record()
        table.add_row(*(_cell(record[name]) for name in TABLE_COLUMNS))
    return table


def write_xlsx(rows: Sequence[PeriodRow], path: Path, title: str) -> None:
    """One sheet: a title line, Vietnamese headers, then the rows as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Biểu II.06a"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([COLUMN_LABELS_VI[name] for name in CSV_COLUMNS])
    sheet.append(list(CSV_COLUMNS))  # machine names, so the sheet round-trips to the CSV
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        record = row.as_record()
        sheet.append([_xlsx_value(name, record[name]) for name in CSV_COLUMNS])
    sheet.freeze_panes = "C4"
    book.save(path)


def _xlsx_value(name: str, value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if name in COUNT_COLUMNS:
        return int(value)  # type: ignore[call-overload]
    return value
