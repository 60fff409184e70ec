"""`motcua ingest file`: national-portal sync records from JSON / JSON-lines
exports → canonical events on the dossier-events topic.

Per file: each document (or line) goes through `RecordPublisher` (bad
records → dead-letter topic with index and reason); the file's last records
are committed only once the broker has confirmed all its events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import orjson

from ingest.publish import ImportSummary, RecordPublisher


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
    on_progress: Callable[[int, int], None] = lambda records, rejected: None,
) -> ImportSummary:
    summary = ImportSummary()
    try:
        for where, payload in _payloads(path):
            submitted = publisher.submit(where, payload, seen_at)
            summary.add(submitted)
            on_progress(submitted.records, len(submitted.rejected))
    except BaseException:
        publisher.rollback()
        raise
    publisher.confirm()
    return summary
