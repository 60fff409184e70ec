"""Publishing canonical event files to the dossier-events topic (backfill, replay)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka.producer.future import RecordMetadata

from ingest.lines import numbered_lines
from schemas.deadletter import DeadLetter
from schemas.events import InvalidEvent, event_json, parse_event
from schemas.settings import Settings
from streams.kafka.bulk import BulkProducer


def acknowledged(offsets: dict[int, int], sent: RecordMetadata) -> None:
    """Raise `offsets` (partition → highest offset) to a send the broker
    confirmed. What `--wait` waits for: never the broker's listed end
    offsets, which Tansu reports short of the last records."""
    offsets[sent.partition] = max(offsets.get(sent.partition, -1), sent.offset)


def raise_offsets(offsets: dict[int, int], flushed: dict[tuple[str, int], int], topic: str) -> None:
    """`acknowledged` for a flush's (topic, partition) → highest offset: `topic`'s."""
    for (sent_topic, partition), offset in flushed.items():
        if sent_topic == topic:
            offsets[partition] = max(offsets.get(partition, -1), offset)


@dataclass
class ReplayResult:
    published: int = 0
    rejected: int = 0
    # highest offset published per partition of the events topic
    offsets: dict[int, int] = field(default_factory=dict)


def replay_files(
    paths: Iterable[Path],
    settings: Settings,
    producer: BulkProducer,
    on_reject: Callable[[str, int, str], None] = lambda path, line, reason: None,
) -> ReplayResult:
    """Validate and scrub each line, publish good ones keyed by dossier_id and
    rejected ones to the dead-letter topic; returns once all are acknowledged."""
    result = ReplayResult()
    now = datetime.now(UTC)
    events_topic, dead_topic = settings.events_topic, settings.dead_letter_topic
    for path, number, raw in numbered_lines(paths):
        try:
            event = parse_event(raw, now=now)
        except InvalidEvent as exc:
            result.rejected += 1
            on_reject(str(path), number, exc.reason)
            letter = DeadLetter.of(
                f"replay:{path.name}:{number}", now, "replay", exc.reason, raw.rstrip()
            )
            producer.send(dead_topic, letter.dead_letter_id.encode(), letter.to_bytes())
            continue
        producer.send(events_topic, event.dossier_id.encode(), event_json(event))
        result.published += 1
    raise_offsets(result.offsets, producer.flush(), events_topic)  # raises if refused
    return result
