"""`motcua ingest file`: national-portal sync records from JSON / JSON-lines
exports, or dossier tables (CSV / XLSX with a column mapping, ingest/tables.py)
→ canonical events on the dossier-events topic.

Per file: each document, line or table row goes through `RecordPublisher`
(bad records → dead-letter topic with where and why; a table row that cannot
be mapped too, with its row number); the file's last records are committed
only once the broker has confirmed all its events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import orjson

from ingest.publish import ImportSummary, RecordPublisher
from ingest.tables import RowError, TableMapping, map_row, mapped_fields, read_rows
from streams.collector import fewer_collections

TABLE_SUFFIXES = frozenset({".csv", ".xlsx"})
CHUNK_ROWS = 500  # table rows per progress report

Progress = Callable[[int, int], None]  # (records, rejected) since the last call


def _payloads(path: Path) -> Iterable[tuple[str, object]]:
    """(where, payload): a whole JSON document, or each line of a JSON-lines file."""
    raw = path.read_bytes()
    try:
        yield str(path), orjson.loads(raw)
        return
    except orjson.JSONDecodeError:
        pass
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.strip():
            yield f"{path}:{number}", line


def import_file(
    path: Path,
    publisher: RecordPublisher,
    seen_at: datetime,
    on_progress: Progress = lambda records, rejected: None,
    mapping: TableMapping | Path | None = None,
) -> ImportSummary:
    """`mapping` is required for a .csv / .xlsx table and ignored for JSON."""
    if path.suffix.lower() == ".xls":  # the pre-2007 binary format: openpyxl cannot read it
        raise ValueError(f"{path}: hãy lưu bảng dưới dạng .xlsx hoặc .csv (UTF-8) trước")
    summary = ImportSummary()
    with fewer_collections():
        try:
            if path.suffix.lower() in TABLE_SUFFIXES:
                _import_table(
                    path, _table_mapping(path, mapping), publisher, seen_at, summary, on_progress
                )
            else:
                _import_json(path, publisher, seen_at, summary, on_progress)
        except BaseException:
            publisher.rollback()
            raise
        publisher.confirm()
    return summary


def _table_mapping(path: Path, mapping: TableMapping | Path | None) -> TableMapping:
    if mapping is None:
        raise ValueError(f"{path}: bảng {path.suffix} cần tệp ánh xạ cột (--mapping)")
    return mapping if isinstance(mapping, TableMapping) else TableMapping.from_file(mapping)


def _import_json(
    path: Path,
    publisher: RecordPublisher,
    seen_at: datetime,
    summary: ImportSummary,
    on_progress: Progress,
) -> None:
    for where, payload in _payloads(path):
        submitted = publisher.submit(where, payload, seen_at)
        summary.add(submitted)
        for rejection in submitted.rejected:
            place = f"{where} (bản ghi {rejection.index + 1})" if where == str(path) else where
            summary.note(place, rejection.reason)
        on_progress(submitted.records, len(submitted.rejected))


def _import_table(
    path: Path,
    mapping: TableMapping,
    publisher: RecordPublisher,
    seen_at: datetime,
    summary: ImportSummary,
    on_progress: Progress,
) -> None:
    chunk = ImportSummary()
    for number, cells in read_rows(path, mapping):
        where = f"{path}:row {number}"
        try:
            record = map_row(cells, mapping)
        except RowError as exc:
            # by field name, so the letter keeps the contract's fields (mapped
            # columns only: nothing personal was read)
            publisher.dead_letter(where, mapped_fields(cells, mapping), str(exc), seen_at)
            chunk.rejected += 1
            summary.note(f"{path}: dòng {number}", str(exc))
        else:
            submitted = publisher.submit(where, record, seen_at)
            chunk.add(submitted)
            for rejection in submitted.rejected:
                summary.note(f"{path}: dòng {number}", rejection.reason)
        if chunk.records + chunk.rejected >= CHUNK_ROWS:
            _report(chunk, summary, on_progress)
            chunk = ImportSummary()
    _report(chunk, summary, on_progress)


def _report(chunk: ImportSummary, summary: ImportSummary, on_progress: Progress) -> None:
    summary.records += chunk.records
    summary.events += chunk.events
    summary.rejected += chunk.rejected
    on_progress(chunk.records, chunk.rejected)
