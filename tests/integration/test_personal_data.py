"""Personal data planted in every shape, sent through the real broker and worker
(`replay`, `ingest file`, and raw messages straight onto the events topic),
then searched for everywhere it could land: every table of the motcua
database (every row, every column as text), the dead-letter topic, the
events topic, the worker's log and the commands' output. Nothing may be
found; the dead letters must still say what to fix.

Shapes: a name as a nested object under ChuHoSo, a phone as the second item
of a SoDienThoai list, ChuHoSo written with a JSON escape (`\\u0043huHoSo`)
in a valid and in a broken line, an object under DiaChi, keys no scrubber
lists (SoCanCuoc, NguoiDaiDien, MaSoThue, TenNguoiYeuCau, SoBHXH), broken
JSON, arrays, scalars and bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer
from typer.testing import CliRunner

from ingest.replay import replay_files
from motcua import app
from streams.clickhouse.sql import DATABASE
from streams.kafka.bulk import BulkProducer
from streams.progress import wait_until_stored
from tests.integration.loopback import topic_values
from tests.integration.test_pipeline import Pipeline

pytestmark = pytest.mark.integration
UNITS = Path(__file__).resolve().parents[1] / "fixtures" / "sync" / "units.json"
# a phone number of its own per way in (digits only: no tag to find it by)
PHONES = {"PLANTED-REPLAY": "0987650011", "PLANTED-FILE": "0987650022", "PLANTED-RAW": "0987650033"}


@pytest.fixture
def pipeline(broker, clickhouse, tmp_path):
    p = Pipeline(broker, clickhouse, tmp_path)
    yield p
    p.stop_worker()


def personal(tag: str) -> dict:
    """Nine personal keys in the awkward shapes; every value carries `tag`."""
    return {
        "ChuHoSo": {"HoTen": f"{tag}-NAME-NESTED", "NgaySinh": f"{tag}-DOB"},
        "SoDienThoai": [PHONES[tag], f"{tag}-PHONE-SECOND"],
        "DiaChi": {"SoNha": f"{tag}-ADDRESS-OBJECT", "Xa": "Phường Gia Cẩm"},
        "SoCanCuoc": f"{tag}-CCCD",
        "NguoiDaiDien": f"{tag}-REPRESENTATIVE",
        "MaSoThue": f"{tag}-TAXCODE",
        "TenNguoiYeuCau": f"{tag}-REQUESTER",
        "SoBHXH": f"{tag}-BHXH",
        "Email": f"{tag.lower()}@example.vn",
    }


def escaped(obj: dict, value: str) -> str:
    """`obj` as JSON with one more key, ChuHoSo spelt with a JSON escape."""
    return json.dumps(obj, ensure_ascii=False)[:-1] + f', "\\u0043huHoSo": "{value}"}}'


def received(dossier_id: str, event_id: str) -> dict:
    return {
        "event_id": event_id,
        "dossier_id": dossier_id,
        "type": "received",
        "at": "2026-05-04T09:00:00",
        "agency_code": "H44.100",
        "agency_name": "UBND Phường Việt Trì",
        "level": "commune",
        "district_code": "D01",
        "district_name": "Thành phố Việt Trì",
        "procedure_code": "1.004227",
        "field_code": "DD",
        "field_name": "Đất đai",
        "channel": "online",
        "due_at": "2026-05-07T09:00:00",
    }


def record(dossier_id: str, status: int) -> dict:
    return {
        "MaHoSo": dossier_id,
        "MaTTHC": "1.003003",
        "TenTTHC": "Đăng ký biến động đất đai",
        "MaLinhVuc": "DD",
        "TenLinhVuc": "Đất đai",
        "DonViXuLy": "UBND Phường Việt Trì",
        "KenhThucHien": 2,
        "NgayTiepNhan": "20260505090000",
        "NgayHenTra": "20260508090000",
        "TrangThaiHoSo": status,
    }


def _lines(path: Path, lines: list[str | bytes]) -> Path:
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return path


def _wait_letters(pipeline: Pipeline, count: int, timeout: float = 90) -> list[tuple]:
    sql = f"SELECT dead_letter_id, source, reason, original FROM {DATABASE}.dead_letters FINAL"
    deadline = time.monotonic() + timeout
    while len(rows := pipeline.engine.rows(sql)) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    return rows


def _every_table(pipeline: Pipeline) -> str:
    """Every row of every table of the database, every column as text."""
    dump = []
    for (table,) in pipeline.engine.rows(f"SHOW TABLES FROM {DATABASE}"):
        columns = [c for c, *_ in pipeline.engine.rows(f"DESCRIBE TABLE {DATABASE}.{table}")]
        rows = pipeline.engine.rows(f"SELECT * FROM {DATABASE}.{table}")
        assert all(len(r) == len(columns) for r in rows)
        dump.append(json.dumps([table, rows], ensure_ascii=False, default=str))
    return "\n".join(dump)


def _found(tag: str, texts: dict[str, str]) -> dict[str, list[str]]:
    """Where each planted value of `tag` turns up (empty: nowhere)."""
    values = [tag, tag.lower(), PHONES[tag]]  # every planted value contains one of these
    return {
        where: [v for v in values if v in text]
        for where, text in texts.items()
        if any(v in text for v in values)
    }


def test_planted_personal_data_reaches_no_table_topic_or_log(pipeline: Pipeline, tmp_path) -> None:
    settings = pipeline.settings
    # -- 1. `replay` (canonical events): validated before the broker ------------------
    a = "PLANTED-REPLAY"
    dossier = "H44.100-260504-0901"
    lines: list[str | bytes] = [
        escaped(received(dossier, "r1") | personal(a), f"{a}-ESCAPED-VALID"),  # accepted
        escaped(received(dossier, "r2") | personal(a) | {"type": "approved"}, f"{a}-ESC-BAD"),
        '{"\\u0043huHoSo": "' + a + '-ESCAPED-BROKEN", "SoDienThoai": ["0987650011", ',
        json.dumps([f"{a}-ARRAY-ITEM", {"ChuHoSo": f"{a}-ARRAY-NAME"}]),
        json.dumps(f"{a}-SCALAR"),
        b"\xff\xfe " + a.encode() + b"-NOT-UTF8",
        json.dumps({"event_id": "r3", "dossier_id": dossier, "type": "resolved",
                    "at": "2026-05-06T10:00:00"}),
    ]  # fmt: skip
    reasons: list[str] = []
    producer = BulkProducer(settings)
    result = replay_files(
        [_lines(tmp_path / "events.jsonl", lines)],
        settings,
        producer,
        lambda path, line, reason: reasons.append(f"{path}:{line}: {reason}"),
    )
    producer.close()
    assert (result.published, result.rejected) == (2, 5)
    wait_until_stored(pipeline.engine, settings, result.offsets, 90)

    # -- 2. `ingest file` (portal sync records), as an operator runs it ------------------
    f = "PLANTED-FILE"
    sync_lines: list[str | bytes] = [
        json.dumps(record("H44.100-260505-0902", 4) | personal(f), ensure_ascii=False),
        json.dumps(record("H44.100-260505-0903", 11) | personal(f), ensure_ascii=False),
        '{"MaHoSo": "H44.100-260505-0904", "\\u0043huHoSo": "' + f + '-ESCAPED-BROKEN", ',
        json.dumps([f"{f}-ARRAY-ITEM", {"ChuHoSo": f"{f}-ARRAY-NAME"}]),
        json.dumps(f"{f}-SCALAR"),
        b"\xff\xfe " + f.encode() + b"-NOT-UTF8",
        escaped(record("H44.100-260505-0905", 2) | {"DiaChi": {"Duong": f"{f}-ROAD"}},
                f"{f}-ESCAPED-VALID"),
    ]  # fmt: skip
    export = _lines(tmp_path / "export.jsonl", sync_lines)
    args = ["ingest", "file", str(export), "--units", str(UNITS), "--wait", "--timeout", "90"]
    args += ["--state", str(tmp_path / "records.sqlite"), "--seen-at", "2026-05-06T16:00:00+07:00"]
    ingested = CliRunner().invoke(app, args, env=pipeline.env())
    assert ingested.exit_code == 3, ingested.output  # done, with rejected records
    # good: 0902 and 0905 (a received event each); bad: 0903, the broken line,
    # both array items, the scalar, the bytes
    assert "2 bản ghi, 2 sự kiện, 6 lỗi" in " ".join(ingested.output.split())

    # -- 3. raw messages straight onto the events topic (a hostile upstream): the
    # worker's own dead letters. That topic holds what this producer wrote, so
    # it is searched for the first two tags only.
    w = "PLANTED-RAW"
    raw = [
        escaped(received("H44.100-260504-0906", "w1") | personal(w), f"{w}-ESCAPED-VALID"),
        escaped(received("H44.100-260504-0906", "w2") | personal(w) | {"type": "x"}, f"{w}-ESC"),
        '{"\\u0043huHoSo": "' + w + '-ESCAPED-BROKEN", ',
        json.dumps([f"{w}-ARRAY-ITEM", {"ChuHoSo": f"{w}-ARRAY-NAME"}]),
        b"\xff\xfe " + w.encode() + b"-NOT-UTF8",
        "987650099",
    ]
    sender = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    offsets: dict[int, int] = {}
    for value in raw:
        sent = sender.send(
            settings.events_topic,
            key=b"H44.100-260504-0906",
            value=value if isinstance(value, bytes) else value.encode(),
        ).get(timeout=30)
        offsets[sent.partition] = max(offsets.get(sent.partition, -1), sent.offset)
    sender.close()
    wait_until_stored(pipeline.engine, settings, offsets, 90)

    letters = _wait_letters(pipeline, 5 + 6 + 5)
    assert len(letters) == 16, letters

    # -- nothing planted anywhere --------------------------------------------------------
    texts = {
        "clickhouse": _every_table(pipeline),
        "dead-letter topic": b"\n".join(
            topic_values(settings.bootstrap_servers, settings.dead_letter_topic, 16)
        ).decode("utf-8", "replace"),
        "events topic": b"\n".join(
            topic_values(settings.bootstrap_servers, settings.events_topic)
        ).decode("utf-8", "replace"),
        "worker log": (pipeline.tmp / "worker.log").read_text(errors="replace"),
        "ingest file output": ingested.output,
        "replay reasons": "\n".join(reasons),
    }
    for tag in (a, f):
        assert _found(tag, texts) == {}, tag
    raw_searched = {k: v for k, v in texts.items() if k != "events topic"}
    assert _found(w, raw_searched) == {}

    # -- and the letters still say what to fix ---------------------------------------------
    by_id = {
        lid: (source, reason, json.loads(original)) for lid, source, reason, original in letters
    }
    stage, reason, bad = by_id[f"ingest file:{export}:2#0"]
    assert stage == "ingest file" and reason.startswith("TrangThaiHoSo: expected a status 1-10")
    assert bad["fields"] == record("H44.100-260505-0903", 11)  # the contract's fields, all
    assert bad["omitted"] == 9  # the nine personal keys, by count only
    _, reason, broken = by_id["replay:events.jsonl:3"]
    assert reason.startswith("not valid JSON") and broken["kind"] == "not JSON"
    assert broken["bytes"] == len(lines[2]) - 1  # replay names the line without its end space
    _, _, array = by_id["replay:events.jsonl:4"]
    assert (array["kind"], array["items"]) == ("array", 2)
    _, reason, wrong_type = by_id["replay:events.jsonl:2"]
    assert reason.startswith("type: Input should be")
    # nine personal keys: the escaped one is ChuHoSo again to a JSON parser (the last wins)
    assert wrong_type["fields"]["type"] == "approved" and wrong_type["omitted"] == 9
    worker_letters = [v for k, v in by_id.items() if k.startswith(f"{settings.events_topic}:")]
    assert sorted(o["kind"] for _, _, o in worker_letters) == [
        "array", "not JSON", "not UTF-8", "number", "object"
    ]  # fmt: skip
