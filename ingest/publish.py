"""The one path from sync-record payloads to the broker, shared by every way in
(files, HTTP push, polling).

`RecordPublisher.submit` parses a payload (one record or a list), sends each
bad record to the dead-letter topic (summarised, with where it came from and
why), converts the good ones against the last records and sends their events
keyed by dossier_id. `confirm` waits for the broker's acknowledgement of
everything sent and only then commits the last records; on failure the
records roll back, so a retry re-derives the same events (same ids).
`offsets` keeps the highest acknowledged offset per events-topic partition,
what `ingest file --wait` waits for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson
from kafka import KafkaProducer

from ingest.record_history import SqliteRecords
from ingest.replay import raise_offsets
from ingest.sync import DEFAULT_SOURCE, UnitDirectory, convert, parse_records
from schemas.deadletter import DeadLetter
from schemas.events import event_json
from schemas.settings import Settings
from streams.kafka.bulk import highest_offsets

DELIVERY_TIMEOUT_S = 30


@dataclass
class Rejection:
    index: int  # position in the submitted list (0 for a single record)
    reason: str


@dataclass
class Submitted:
    records: int = 0
    events: int = 0
    rejected: list[Rejection] = field(default_factory=list)


REJECTIONS_KEPT = 20  # an import lists its first rejections; the rest are counted


@dataclass
class ImportSummary:
    records: int = 0
    events: int = 0
    rejected: int = 0
    # (where, reason) of the first REJECTIONS_KEPT rejected records, for the user
    rejections: list[tuple[str, str]] = field(default_factory=list)

    def add(self, submitted: Submitted) -> None:
        self.records += submitted.records
        self.events += submitted.events
        self.rejected += len(submitted.rejected)

    def note(self, where: str, reason: str) -> None:
        if len(self.rejections) < REJECTIONS_KEPT:
            self.rejections.append((where, reason))


class EventSender(Protocol):
    """Where a publisher's messages go: `streams.kafka.bulk.BulkProducer`
    (`ingest file`: whole record batches) or `KafkaSender` (kafka-python)."""

    def send(self, topic: str, key: bytes, value: bytes) -> None: ...

    def flush(self) -> dict[tuple[str, int], int]:
        """Everything sent, acknowledged: (topic, partition) → highest offset."""
        ...

    def discard(self) -> None:
        """Forget what was sent and not flushed (a rollback re-derives it)."""
        ...

    def close(self) -> None: ...


class KafkaSender:
    """kafka-python as an EventSender, for `ingest serve` and `ingest poll`: its
    `send` blocks and fails while the broker is away, which they answer with
    503 or a retry."""

    def __init__(self, producer: KafkaProducer) -> None:
        self.producer = producer
        self._pending: list[Any] = []

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self._pending.append(self.producer.send(topic, key=key, value=value))

    def flush(self) -> dict[tuple[str, int], int]:
        self.producer.flush()
        pending, self._pending = self._pending, []
        confirmed = (future.get(timeout=DELIVERY_TIMEOUT_S) for future in pending)
        return highest_offsets((sent.topic, sent.partition, sent.offset) for sent in confirmed)

    def discard(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        self.producer.close()


def _item(payload: Any, index: int) -> Any:
    if isinstance(payload, list) and index < len(payload):
        return payload[index]
    return payload


class RecordPublisher:
    """Not thread-safe: one caller at a time (the store is one SQLite connection)."""

    def __init__(
        self,
        settings: Settings,
        sender: EventSender,
        store: SqliteRecords,
        directory: UnitDirectory,
        stage: str,
        source: str = DEFAULT_SOURCE,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.store = store
        self.directory = directory
        self.stage = stage  # names the way in on dead letters: "ingest file", "ingest serve"
        self.source = source
        self.offsets: dict[int, int] = {}  # events topic: partition → highest acknowledged

    def submit(self, where: str, payload: Any, seen_at: datetime) -> Submitted:
        """`payload`: decoded JSON (a record or a list) or undecoded bytes/str."""
        try:
            records, bad = parse_records(payload)
        except ValueError as exc:
            records, bad = [], [(0, str(exc))]
        for index, reason in bad:
            self.dead_letter(f"{where}#{index}", _item(payload, index), reason, seen_at)
        events = convert(records, self.store, self.directory, seen_at, self.source)
        topic = self.settings.events_topic
        for event in events:
            self.sender.send(topic, event.dossier_id.encode(), event_json(event))
        rejected = [Rejection(index, reason) for index, reason in bad]
        return Submitted(records=len(records), events=len(events), rejected=rejected)

    def dead_letter(self, where: str, original: Any, reason: str, seen_at: datetime) -> None:
        # decoded input (a list item, a table row) is summarised as its compact
        # JSON; anything JSON lacks (a spreadsheet's time of day) as text
        raw = original if isinstance(original, bytes) else orjson.dumps(original, default=str)
        letter_id = f"{self.stage}:{where}"
        letter = DeadLetter.of(letter_id, seen_at, self.stage, reason, raw)
        self.sender.send(self.settings.dead_letter_topic, letter_id.encode(), letter.to_bytes())

    def confirm(self) -> None:
        """Delivery confirmed, then the last records committed; else rolled back."""
        try:
            acknowledged = self.sender.flush()
        except BaseException:
            self.rollback()
            raise
        raise_offsets(self.offsets, acknowledged, self.settings.events_topic)
        self.store.commit()

    def rollback(self) -> None:
        self.sender.discard()
        self.store.rollback()
