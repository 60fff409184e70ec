"""Publishing canonical event files to the dossier-events topic (backfill, replay)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer
from kafka.producer.future import RecordMetadata

from ingest.lines import numbered_lines
from schemas.deadletter import DeadLetter
from schemas.events import InvalidEvent, parse_event
from schemas.settings import Settings


def acknowledged(offsets: dict[int, int], sent: RecordMetadata) -> None:
    """Raise `offsets` (partition → highest offset) to a send the broker
    confirmed. What `--wait` waits for: never the broker's listed end
    offsets, which Tansu reports short of the last records."""
    offsets[sent.partition] = max(offsets.get(sent.partition, -1), sent.offset)


@dataclass
class ReplayResult:
    published: int = 0
    rejected: int = 0
    # highest offset published per partition of the events topic
    offsets: dict[int, int] = field(default_factory=dict)


def replay_files(
    paths: Iterable[Path],
    settings: Settings,
    producer: KafkaProducer,
    on_reject: Callable[[str, int, str], None] = lambda path, line, reason: None,
) -> ReplayResult:
    """Validate and scrub each line, publish good ones keyed by dossier_id and
    rejected ones to the dead-letter topic; returns once all are acknowledged."""
    result = ReplayResult()
    pending = []
    now = datetime.now(UTC)
    for path, number, raw in numbered_lines(paths):
        try:
            event = parse_event(raw, now=now)
        except InvalidEvent as exc:
            result.rejected += 1
            on_reject(str(path), number, exc.reason)
            letter = DeadLetter.of(
                f"replay:{path.name}:{number}", now, "replay", exc.reason, raw.rstrip()
            )
            key = letter.dead_letter_id.encode()
            producer.send(settings.dead_letter_topic, key=key, value=letter.to_bytes())
            continue
        value = event.model_dump_json(exclude_none=True).encode()
        key = event.dossier_id.encode()
        pending.append(producer.send(settings.events_topic, key=key, value=value))
    producer.flush()
    for future in pending:
        acknowledged(result.offsets, future.get(timeout=30))  # raises if the broker refused it
        result.published += 1
    return result
