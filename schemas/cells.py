"""Cells of the files we write (CSV, xlsx): no text from data becomes a formula.

Unit, field and procedure names come from the source systems (an unmapped
unit's name is whatever DonViXuLy said), so a name like
`=HYPERLINK("http://…","…")` must reach a reader's spreadsheet as text. Every
CSV and xlsx writer of the project goes through these helpers:

- CSV: a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return
  gets a leading `'` (what spreadsheets read as "this is text"; OWASP's
  advice for CSV injection). Numbers stay numbers: a negative number is
  written as `-5`, it is not text from data.
- xlsx (openpyxl): every text cell is stored as a string cell (data type
  `s`), never a formula (`f`) nor an error value (`e`, openpyxl's guess for
  "#N/A"), and one that starts like a formula is also marked quote-prefixed,
  so editing it in Excel keeps it text. Its value is the text unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> str:
    """Text of a value for CSV: two decimals for rates, blank for None, and
    text that a spreadsheet would run as a formula neutralised with `'`."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, str):
        return "'" + value if looks_like_formula(value) else value
    return str(value)


def as_text_cell(cell: Any) -> Any:
    """An openpyxl cell holding text made a plain string cell (returns the cell)."""
    if isinstance(cell.value, str):
        cell.data_type = "s"  # openpyxl guessed 'f' for "=…" and 'e' for "#N/A"
        if looks_like_formula(cell.value):
            cell.quotePrefix = True
    return cell


def append_row(sheet: Any, values: Iterable[object]) -> None:
    """`sheet.append(values)`, every text cell of the new row made plain text."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        as_text_cell(cell)


def set_cell(sheet: Any, row: int, column: int, value: object) -> Any:
    """`sheet.cell(row, column, value)`, text made plain text."""
    return as_text_cell(sheet.cell(row, column, value))
