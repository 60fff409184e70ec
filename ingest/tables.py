"""Dossier tables (CSV / XLSX exports of a one-stop system) → sync-record dicts.

One row is one dossier; a TOML mapping file (`TableMapping`, sample in
deploy/ingest/mapping.sample.toml) says which column holds which sync-record
field (EVENTS.md §2), how texts translate (status "Đã trả kết quả" → 10) and
how dates are written. The rows then take the one publishing path
(`RecordPublisher.submit`, wired in ingest/file_import.py).

Decisions:
- Only the mapped columns are ever read: personal columns ("Họ tên người nộp",
  "Số CCCD", "Điện thoại") never leave the reader; a mapping that names a
  personal column is refused, so a slip cannot route a name into a field.
- Headers and value-map keys match after NFC, case folding and collapsing
  spaces. Every mapped header must be in the header row exactly once.
- A field with a value map accepts only the listed texts (unknown → the row is
  rejected), so a new status wording is noticed instead of guessed.
- Date columns: a spreadsheet date-time is taken as is, a text must match one
  of `date_formats`; a date without a time is 00:00 (METRICS.md reads that as
  the end of that working day). Naive times are local (Asia/Ho_Chi_Minh).
- Empty cells are absent fields; rows whose mapped cells are all empty are
  skipped (Excel's trailing rows). Row numbers are those a spreadsheet shows
  (the header row is `header_row`).
- `supplement_columns` (optional) describe the one supplement round a table
  can show; it becomes a DanhSachHoSoBoSung of one entry.
"""

from __future__ import annotations

import csv
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingest.sync import HISTORY_KEY, TIME_FORMAT, SupplementRound, SyncRecord, plain_text
from schemas.events import LOCAL_TZ, describe_errors
from schemas.personal import is_personal_key

ROUNDS_KEY = "DanhSachHoSoBoSung"
RECORD_FIELDS = tuple(
    f.alias for f in SyncRecord.model_fields.values() if f.alias not in {HISTORY_KEY, ROUNDS_KEY}
)
ROUND_FIELDS = tuple(str(f.alias) for f in SupplementRound.model_fields.values())
TIME_FIELDS = frozenset({"NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", *ROUND_FIELDS})
DEFAULT_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")


class TableError(ValueError):
    """The file or the mapping as a whole is unusable (no row can be read)."""


class RowError(ValueError):
    """One row cannot be mapped; the reason names the column, never its value (the
    dead letter keeps the row's mapped fields, bounded: schemas/redact.py)."""


def text_key(value: Any) -> str:
    """How headers and value-map keys compare: NFC, case-folded, single spaces."""
    folded = unicodedata.normalize("NFC", str(value)).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())


class TableMapping(BaseModel):
    """A mapping file: field → column header, value maps, date formats, layout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: dict[str, str]
    supplement_columns: dict[str, str] = {}
    values: dict[str, dict[str, int | str]] = {}
    date_formats: tuple[str, ...] = Field(DEFAULT_DATE_FORMATS, min_length=1)
    sheet: str | None = None  # XLSX: this sheet; default the first one
    header_row: int = Field(1, ge=1)
    delimiter: str = Field(",", min_length=1, max_length=1)  # CSV

    @model_validator(mode="after")
    def _coherent(self) -> TableMapping:
        _known("columns", self.columns, RECORD_FIELDS)
        _known("supplement_columns", self.supplement_columns, ROUND_FIELDS)
        missing = [f for f in ("MaHoSo", "TrangThaiHoSo") if f not in self.columns]
        if missing:
            raise ValueError(f"columns: {', '.join(missing)} must be mapped")
        headers = [*self.columns.values(), *self.supplement_columns.values()]
        personal = [h for h in headers if is_personal_key(plain_text(h))]
        if personal:
            raise ValueError(f"personal columns must not be mapped: {', '.join(personal)}")
        if len({text_key(h) for h in headers}) < len(headers):
            raise ValueError("columns: two fields name the same column header")
        for field, table in self.values.items():
            if field not in self.columns or field in TIME_FIELDS:
                raise ValueError(f"values.{field}: not a mapped non-date field")
            if len({text_key(k) for k in table}) < len(table):
                raise ValueError(f"values.{field}: two texts differ only in case or spacing")
        return self

    @classmethod
    def from_file(cls, path: Path) -> TableMapping:
        try:
            return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise TableError(f"mapping {path}: not TOML: {exc}") from None
        except ValidationError as exc:
            raise TableError(f"mapping {path}: {describe_errors(exc, keys=None)}") from None

    @cached_property
    def fields(self) -> dict[str, str]:
        """Every mapped field (record and round) → its header."""
        return {**self.columns, **self.supplement_columns}

    @cached_property
    def lookups(self) -> dict[str, dict[str, int | str]]:
        return {f: {text_key(k): v for k, v in t.items()} for f, t in self.values.items()}


def _known(section: str, table: Mapping[str, str], fields: tuple[str, ...]) -> None:
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ValueError(f"{section}: unknown fields {unknown}; known: {', '.join(fields)}")


# --- one row -----------------------------------------------------------------------


def mapped_fields(cells: Mapping[str, Any], mapping: TableMapping) -> dict[str, Any]:
    """{field: cell} of the mapped columns: a rejected row as its dead letter keeps it."""
    return {field: cells.get(header) for field, header in mapping.fields.items()}


def map_row(cells: Mapping[str, Any], mapping: TableMapping) -> dict[str, Any]:
    """A sync-record dict from {header: cell} of one row; RowError names every bad cell."""
    record: dict[str, Any] = {}
    round_: dict[str, Any] = {}
    errors: list[str] = []
    for field, header in mapping.fields.items():
        value = _blank_to_none(cells.get(header))
        if value is None:
            continue
        try:
            converted = _convert(field, value, mapping)
        except RowError as exc:
            errors.append(f"{header} ({field}): {exc}")
            continue
        (round_ if field in mapping.supplement_columns else record)[field] = converted
    if errors:
        raise RowError("; ".join(errors))
    if round_:
        record[ROUNDS_KEY] = [round_]
    return record


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)  # spreadsheets store 10 as 10.0
    return value


def _convert(field: str, value: Any, mapping: TableMapping) -> Any:
    if field in TIME_FIELDS:
        return _portal_time(value, mapping.date_formats)
    lookup = mapping.lookups.get(field)
    if lookup is None:
        return value
    found = lookup.get(text_key(value), _MISSING)
    if found is _MISSING:
        known = ", ".join(repr(k) for k in mapping.values[field])
        raise RowError(f"unknown value (known: {known})")  # the value stays in the row
    return found


_MISSING = object()


def _portal_time(value: Any, formats: tuple[str, ...]) -> str:
    """yyyyMMddHHmmss local time from a spreadsheet date-time or a text in `formats`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        moment = _parse_time(str(value).strip(), formats)
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.strftime(TIME_FORMAT)


def _parse_time(text: str, formats: tuple[str, ...]) -> datetime:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise RowError(f"not a valid date in any of the formats {' | '.join(formats)}")


# --- reading files -----------------------------------------------------------------


def read_rows(path: Path, mapping: TableMapping) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {header: cell}) for each non-empty data row; mapped columns only."""
    rows = _xlsx_rows(path, mapping) if path.suffix.lower() == ".xlsx" else _csv_rows(path, mapping)
    header_row = next(islice(rows, mapping.header_row - 1, None), None)
    if header_row is None:
        raise TableError(f"{path}: no header row {mapping.header_row}")
    positions = _positions(path, header_row, mapping)
    for number, values in enumerate(rows, start=mapping.header_row + 1):
        cells = {h: values[i] if i < len(values) else None for h, i in positions.items()}
        if any(_blank_to_none(v) is not None for v in cells.values()):
            yield number, cells


def _positions(path: Path, header: tuple[Any, ...], mapping: TableMapping) -> dict[str, int]:
    """Mapped header → column index in the file's header row."""
    found = {text_key(h): [] for h in mapping.fields.values()}
    for index, cell in enumerate(header):
        if cell is not None and text_key(cell) in found:
            found[text_key(cell)].append(index)
    missing = [h for h in mapping.fields.values() if not found[text_key(h)]]
    if missing:
        raise TableError(f"{path}: row {mapping.header_row} lacks the columns {missing}")
    doubled = [h for h in mapping.fields.values() if len(found[text_key(h)]) > 1]
    if doubled:
        raise TableError(f"{path}: the columns {doubled} appear more than once")
    return {h: found[text_key(h)][0] for h in mapping.fields.values()}


def _csv_rows(path: Path, mapping: TableMapping) -> Iterator[tuple[Any, ...]]:
    # utf-8-sig reads files with and without Excel's BOM alike
    with path.open(encoding="utf-8-sig", newline="") as text:
        try:
            yield from (tuple(row) for row in csv.reader(text, delimiter=mapping.delimiter))
        except UnicodeDecodeError as exc:
            raise TableError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _xlsx_rows(path: Path, mapping: TableMapping) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # only XLSX imports pay for it

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        if mapping.sheet is not None and mapping.sheet not in book.sheetnames:
            raise TableError(f"{path}: no sheet {mapping.sheet!r}; sheets: {book.sheetnames}")
        sheet = book[mapping.sheet] if mapping.sheet else book.worksheets[0]
        sheet.reset_dimensions()  # exporters often write a wrong size; it would cut rows
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()
