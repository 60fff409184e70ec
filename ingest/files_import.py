"""`motcua ingest file`: national-portal sync records from JSON / JSON-lines
exports → canonical events on the dossier-events topic.

Per file: parse (bad records → dead-letter topic with index and reason),
convert against the last records (SQLite), publish keyed by dossier_id,
wait for the broker's acknowledgement, and only then commit the records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from kafka import KafkaProducer

from ingest.record_store import SqliteRecords
from ingest.sync import UnitDirectory, convert, parse_records
from schemas.deadletter import DeadLetter
from schemas.settings import Settings


@dataclass
class ImportSummary:
    records: int = 0
    events: int = 0
    rejected: int = 0


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
    settings: Settings,
    producer: KafkaProducer,
    store: SqliteRecords,
    directory: UnitDirectory,
    seen_at: datetime,
    on_progress: Callable[[int, int], None] = lambda records, rejected: None,
) -> ImportSummary:
    summary = ImportSummary()
    pending = []
    try:
        for where, payload in _payloads(path):
            try:
                records, bad = parse_records(payload)
            except ValueError as exc:
                records, bad = [], [(0, str(exc))]
            for index, reason in bad:
                letter_id = f"ingest:{where}#{index}"
                item = (
                    payload[index]
                    if isinstance(payload, list) and index < len(payload)
                    else payload
                )
                raw = item if isinstance(item, bytes) else orjson.dumps(item)
                letter = DeadLetter.of(letter_id, seen_at, "ingest file", reason, raw)
                producer.send(
                    settings.dead_letter_topic, key=letter_id.encode(), value=letter.to_bytes()
                )
            events = convert(records, store, directory, seen_at)
            for event in events:
                value = event.model_dump_json(exclude_none=True).encode()
                pending.append(
                    producer.send(settings.events_topic, key=event.dossier_id.encode(), value=value)
                )
            summary.records += len(records)
            summary.rejected += len(bad)
            summary.events += len(events)
            on_progress(len(records), len(bad))
        producer.flush()
        for future in pending:
            future.get(timeout=30)  # delivery confirmed before the records are marked done
    except BaseException:
        store.rollback()
        raise
    store.commit()
    return summary
