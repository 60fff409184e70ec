"""Publishing canonical events to the dossier-events topic (backfill, replay),
and waiting until the workers have stored what was published."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.producer.future import RecordMetadata

from ingest.lines import numbered_lines
from schemas.deadletter import DeadLetter
from schemas.events import InvalidEvent, parse_event
from schemas.settings import Settings
from streams.clickhouse.store import Engine, stored_positions
from streams.rules.positions import Position, Verdict, fingerprint, judge_log


def client_options(settings: Settings) -> dict[str, object]:
    """kafka-python connection options (the one place they are translated)."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
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
    return options


def make_producer(settings: Settings, **overrides: object) -> KafkaProducer:
    """An at-least-once producer: every write acknowledged by all in-sync replicas."""
    options = client_options(settings) | {
        "acks": "all",
        "retries": 10,
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "max_in_flight_requests_per_connection": 1,  # retries keep per-dossier order
    }
    return KafkaProducer(**(options | overrides))


@dataclass
class LogSample:
    """What a partition's log holds at an offset (streams.rules.positions.judge_log's inputs)."""

    log_start: int
    found: tuple[int, str] | None  # (offset, fingerprint) of the first message from there


def sample_logs(
    settings: Settings, offsets: dict[tuple[str, int], int], timeout: float = 5.0
) -> dict[tuple[str, int], LogSample]:
    """Read each partition's first message at or after `offsets[(topic, partition)]`.

    Blocking (run it on a thread). A partition whose log has nothing there
    (an empty log, an offset past its end) answers None after `timeout`.
    """
    tps = {TopicPartition(t, p): o for (t, p), o in offsets.items()}
    consumer = KafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=256 * 1024,
    )
    try:
        consumer.assign(list(tps))
        starts = consumer.beginning_offsets(list(tps))
        for tp, offset in tps.items():
            consumer.seek(tp, max(offset, 0))
        found: dict[TopicPartition, tuple[int, str]] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(tps) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                if tp not in found and records:
                    first = records[0]
                    found[tp] = (first.offset, fingerprint(first.key, first.value))
                    consumer.pause(tp)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): LogSample(starts[tp], found.get(tp)) for tp in tps}


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
    """partition → highest stored offset on the partition's current log (-1: none)."""
    return {p: offset for p, (_, offset, _) in stored_positions(engine, topic).items()}


class NotStoredInTime(TimeoutError):
    """`wait_until_stored` ran out of time; says what was missing and why."""

    def __init__(
        self, message: str, behind: dict[int, tuple[int, int]], unreachable: Exception | None
    ) -> None:
        super().__init__(message)
        self.behind = behind  # partition → (stored offset, wanted offset)
        self.unreachable = unreachable  # the last error reading the progress, if any


def wait_until_stored(
    engine: Engine,
    settings: Settings,
    offsets: dict[int, int],
    timeout: float,
    poll: float = 0.2,
    tolerate: tuple[type[Exception], ...] = (),
) -> None:
    """Block until the workers' progress covers `offsets` of the events topic
    on the broker's current log, or raise NotStoredInTime (a TimeoutError).

    Progress stored for another log (a replaced broker or topic, before a
    worker has noticed and re-based it) can hold higher offsets than the
    new log has: a position counts only once the message at its offset is
    found on the broker (streams.rules.positions.judge_log).

    Errors of the `tolerate` types while reading the progress (ClickHouse
    restarting) are waited out until the deadline, as the workers wait them
    out; the timeout then names the last one.
    """
    topic = settings.events_topic
    deadline = time.monotonic() + timeout
    stored: dict[int, int] = {}
    behind = dict(offsets)
    unreachable: Exception | None = None
    while True:
        try:
            positions = stored_positions(engine, topic)
        except tolerate as exc:
            unreachable = exc
        else:
            unreachable = None
            stored = {p: offset for p, (_, offset, _) in positions.items()}
            behind = {p: o for p, o in offsets.items() if stored.get(p, -1) < o}
            if not behind and _on_current_log(settings, topic, positions, offsets):
                return
        if time.monotonic() > deadline:
            raise NotStoredInTime(
                f"after {timeout:.0f} s the workers have not stored all replayed events: "
                + ", ".join(
                    f"partition {p}: stored {stored.get(p, -1)} < {o}"
                    for p, o in sorted(behind.items())
                )
                + (" (stored progress belongs to another log)" if not behind else "")
                + (f" (ClickHouse: {unreachable!r})" if unreachable else "")
                + " (are the workers running? see `motcua run` / `motcua worker`)",
                {p: (stored.get(p, -1), o) for p, o in behind.items()},
                unreachable,
            )
        time.sleep(poll)


def _on_current_log(
    settings: Settings,
    topic: str,
    positions: dict[int, tuple[int, int, str]],
    offsets: dict[int, int],
) -> bool:
    wanted = {(topic, p): positions[p][1] for p in offsets}
    samples = sample_logs(settings, wanted, timeout=1.0)
    for (_, p), sample in samples.items():
        judged = judge_log(Position(*positions[p]), sample.log_start, sample.found)
        if judged.verdict is not Verdict.SAME_LOG:
            return False
    return True
