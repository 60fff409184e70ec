"""`motcua ingest file` onto the real broker: sync records → canonical events,
bad records → dead letters, a re-import adds nothing, no personal data."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kafka import KafkaConsumer
from typer.testing import CliRunner

from ingest.publish import KafkaSender, RecordPublisher
from ingest.record_history import SqliteRecords
from ingest.sync import read_unit_directory
from motcua import app
from schemas.settings import Settings
from streams.kafka.bulk import BulkProducer
from streams.kafka.clients import make_producer
from streams.kafka.topics import ensure_topics
from tests.integration.loopback import topic_values

pytestmark = pytest.mark.integration
UNITS = Path(__file__).resolve().parents[1] / "fixtures" / "sync" / "units.json"
RECORD = {
    "MaHoSo": "H44.100-260504-0001",
    "MaTTHC": "1.003003",
    "TenTTHC": "Đăng ký biến động đất đai",
    "MaLinhVuc": "DD",
    "TenLinhVuc": "Đất đai",
    "DonViXuLy": "UBND Phường Việt Trì",
    "KenhThucHien": 2,
    "NgayTiepNhan": "20260504090000",
    "NgayHenTra": "20260507090000",
    "TrangThaiHoSo": 10,
    "NgayKetThucXuLy": "20260506100000",
    "NgayTra": "20260506150000",
    "ChuHoSo": "PLANTED-NAME",
    "SoDienThoai": "0900000009",
    "DiaChi": "PLANTED-ADDRESS",
}
BAD = {"MaHoSo": "H44.100-260504-0002", "TrangThaiHoSo": 11, "NgayTiepNhan": "2026-05-04"}


def test_records_become_events_once(broker, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    env = {
        "MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "MOTCUA_EVENTS_TOPIC": f"ev-{run}",
        "MOTCUA_DEAD_LETTER_TOPIC": f"dl-{run}",
    }
    export = tmp_path / "export.json"
    export.write_text(json.dumps([RECORD, BAD], ensure_ascii=False), encoding="utf-8")
    args = [
        "ingest",
        "file",
        str(export),
        "--units",
        str(UNITS),
        "--state",
        str(tmp_path / "records.sqlite"),
        "--seen-at",
        "2026-05-06T16:00:00+07:00",
    ]
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 3, first.output  # one record rejected: said, and not exit 0
    # the import names the rejected record (its place in the list) and why
    [rejected] = [line for line in first.stderr.splitlines() if "bị từ chối" in line]
    assert rejected.startswith(f"{export} (bản ghi 2): bị từ chối — ")
    assert "TrangThaiHoSo" in rejected or "NgayTiepNhan" in rejected
    assert f"{export}: 1 bản ghi, 3 sự kiện, 1 lỗi" in " ".join(first.stderr.split())
    second = CliRunner().invoke(app, args, env=env)  # the same export again
    assert second.exit_code == 3, second.output
    events = [json.loads(v) for v in topic_values(broker.bootstrap, f"ev-{run}")]
    # status 10 with an end time, first seen: received, resolved, returned — once
    assert [(e["type"], e["at"]) for e in events] == [
        ("received", "2026-05-04T09:00:00+07:00"),
        ("resolved", "2026-05-06T10:00:00+07:00"),
        ("returned", "2026-05-06T15:00:00+07:00"),
    ]
    assert {e["dossier_id"] for e in events} == {"H44.100-260504-0001"}
    assert events[0]["channel"] == "online" and events[0]["district_code"] == "H44.D01"
    letters = [json.loads(v) for v in topic_values(broker.bootstrap, f"dl-{run}")]
    assert len(letters) == 2  # the bad record, once per import
    assert "TrangThaiHoSo" in letters[0]["reason"] or "NgayTiepNhan" in letters[0]["reason"]
    everything = json.dumps(events + letters, ensure_ascii=False)
    assert "PLANTED" not in everything and "0900000009" not in everything


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "kafka-python"])
def test_confirm_knows_the_acknowledged_offsets(broker, tmp_path: Path, bulk: bool) -> None:
    """What `--wait` waits for: per partition, the highest offset the broker
    acknowledged, the same as the last message read back from the topic;
    whole record batches (`ingest file`) or kafka-python (serve, poll)."""
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        bootstrap_servers=broker.bootstrap, events_topic=f"ev-{run}", dead_letter_topic=f"dl-{run}"
    )
    ensure_topics(settings)
    producer = BulkProducer(settings) if bulk else KafkaSender(make_producer(settings))
    store = SqliteRecords(tmp_path / "records.sqlite")
    publisher = RecordPublisher(
        settings, producer, store, read_unit_directory(UNITS), stage="ingest file"
    )
    seen_at = datetime(2026, 5, 6, 16, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    for n in range(1, 201):  # 200 dossiers, 3 events each, over the topic's partitions
        publisher.submit("test", RECORD | {"MaHoSo": f"H44.100-260504-{n:04d}"}, seen_at)
    publisher.submit("test", BAD, seen_at)  # its dead letter is not an events offset
    publisher.confirm()
    producer.close()
    store.close()
    consumer = KafkaConsumer(
        settings.events_topic,
        bootstrap_servers=broker.bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=3000,
    )
    last: dict[int, int] = {}
    for message in consumer:
        last[message.partition] = max(last.get(message.partition, -1), message.offset)
    consumer.close()
    assert sum(o + 1 for o in last.values()) == 600
    assert publisher.offsets == last
