"""Publishing canonical events to the dossier-events topic (backfill, replay),
and waiting until the workers have stored what was published."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer
from kafka.producer.future import RecordMetadata

from ingest.files import numbered_lines
from schemas.deadletter import DeadLetter
from schemas.events import InvalidEvent, parse_event
from schemas.settings import Settings
from streams.store import DATABASE, Engine, sql_string


def make_producer(settings: Settings, **overrides: object) -> KafkaProducer:
    """An at-least-once producer: every write acknowledged by all in-sync replicas."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "acks": "all",
        "retries": 10,
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "max_in_flight_requests_per_connection": 1,  # retries keep per-dossier order
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password.get_secret_value(),
        }
    if settings.ssl_cafile:
        options["ssl_cafile"] = str(settings.ssl_cafile)
    return KafkaProducer(**(options | overrides))


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


def stored_offsets(engine: Engine, topic: str) -> dict[int, int]:
    rows = engine.rows(
        f"SELECT partition, max(offset) FROM {DATABASE}.stream_progress "
        f"WHERE topic = {sql_string(topic)} GROUP BY partition"
    )
    return {int(p): int(o) for p, o in rows}


def wait_until_stored(
    engine: Engine, topic: str, offsets: dict[int, int], timeout: float, poll: float = 0.2
) -> None:
    """Block until the workers' progress covers `offsets`, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        stored = stored_offsets(engine, topic)
        behind = {p: o for p, o in offsets.items() if stored.get(p, -1) < o}
        if not behind:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"after {timeout:.0f} s the workers have not stored all replayed events: "
                + ", ".join(
                    f"partition {p}: stored {stored.get(p, -1)} < {o}"
                    for p, o in sorted(behind.items())
                )
                + " (are the workers running? see `motcua run` / `motcua worker`)"
            )
        time.sleep(poll)
