"""kafka-python clients: the at-least-once producer, and reading a partition's
log at an offset (what `streams.rules.positions.judge_log` compares)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schemas.settings import Settings
from streams.kafka.config import client_options
from streams.rules.positions import fingerprint


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
        # an empty log (its listed end at its start) has nothing to wait for;
        # any other may hold records past its listed end (Tansu lists a
        # partition's end as its last batch's base offset + 1)
        ends = consumer.end_offsets(list(tps))
        waited = {tp for tp in tps if ends[tp] > starts[tp]}
        for tp, offset in tps.items():
            consumer.seek(tp, max(offset, 0))
        found: dict[TopicPartition, tuple[int, str]] = {}
        deadline = time.monotonic() + timeout
        while not waited <= found.keys() and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                if tp not in found and records:
                    first = records[0]
                    found[tp] = (first.offset, fingerprint(first.key, first.value))
                    consumer.pause(tp)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): LogSample(starts[tp], found.get(tp)) for tp in tps}
