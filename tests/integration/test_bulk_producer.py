"""`streams.kafka.bulk.BulkProducer` (what `motcua replay` sends with) on a real
broker: a key lands on the partition kafka-python's default partitioner
gives it (the other ways in still send with kafka-python, and a dossier's
events must share one partition), one key's messages keep their order across
many batches, and `flush` reports the highest offset of each partition."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from schemas.settings import Settings
from streams.kafka.bulk import BulkProducer

pytestmark = pytest.mark.integration
PARTITIONS = 3


def _topic(bootstrap: str) -> str:
    name = f"bulk-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    admin.close()
    return name


def _read(bootstrap: str, topic: str, expected: int) -> list:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    records: list = []
    for _ in range(100):
        records += [r for rs in consumer.poll(timeout_ms=500).values() for r in rs]
        if len(records) >= expected:
            break
    consumer.close()
    return records


def test_keys_land_where_kafka_python_puts_them(broker) -> None:
    ours, theirs = _topic(broker.bootstrap), _topic(broker.bootstrap)
    keys = [f"H44-{n:05d}".encode() for n in range(300)]
    bulk = BulkProducer(Settings(bootstrap_servers=broker.bootstrap))
    for key in keys:
        bulk.send(ours, key, b"v")
    highest = bulk.flush()
    bulk.close()
    plain = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for key in keys:
        plain.send(theirs, key=key, value=b"v")
    plain.flush()
    plain.close()
    placed = {r.key: r.partition for r in _read(broker.bootstrap, ours, len(keys))}
    expected = {r.key: r.partition for r in _read(broker.bootstrap, theirs, len(keys))}
    assert len(placed) == len(keys) and placed == expected
    counts = {p: list(placed.values()).count(p) for p in range(PARTITIONS)}
    assert highest == {(ours, p): n - 1 for p, n in counts.items() if n}


def test_one_keys_messages_keep_their_order_across_many_batches(broker) -> None:
    topic = _topic(broker.bootstrap)
    bulk = BulkProducer(Settings(bootstrap_servers=broker.bootstrap))
    padding = b"x" * 2000  # ~6 MB for one key: several 1 MB record batches
    for n in range(3000):
        bulk.send(topic, b"one-dossier", f"{n:05d}".encode() + padding)
    highest = bulk.flush()
    bulk.close()
    records = _read(broker.bootstrap, topic, 3000)
    assert [int(r.value[:5]) for r in records] == list(range(3000))
    assert [r.offset for r in records] == list(range(3000))
    assert list(highest.values()) == [2999]
