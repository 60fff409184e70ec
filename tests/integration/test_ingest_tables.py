"""`motcua ingest file TABLE --mapping` onto the real broker: CSV and XLSX dossier
tables → the canonical events worked out by hand; unmappable rows → dead letters
with their row numbers; the planted applicant columns appear on no topic."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from ingest import file_import
from ingest.publish import KafkaSender, RecordPublisher
from ingest.record_history import SqliteRecords
from ingest.sync import read_unit_directory
from motcua import app
from schemas.settings import Settings
from streams.kafka.clients import make_producer
from tests.integration.loopback import topic_values

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "tests" / "fixtures" / "sync" / "units.json"
SAMPLE = ROOT / "deploy" / "ingest" / "mapping.sample.toml"
CSV = ROOT / "tests" / "fixtures" / "tables" / "dossiers.csv"
# what the fixture CSV and the workbook below plant in their applicant columns
PLANTED = ("Plantedname", "0010900", "0011900", "0912000", "Họ tên", "CCCD", "Điện thoại")


def _topics(broker) -> tuple[dict[str, str], str, str]:
    run = uuid.uuid4().hex[:8]
    events, letters = f"ev-{run}", f"dl-{run}"
    env = {
        "MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "MOTCUA_EVENTS_TOPIC": events,
        "MOTCUA_DEAD_LETTER_TOPIC": letters,
    }
    return env, events, letters


def _import(env: dict[str, str], table: Path, mapping: Path, state: Path, seen_at: str):
    args = ["ingest", "file", str(table), "--units", str(UNITS), "--state", str(state)]
    args += ["--mapping", str(mapping), "--seen-at", seen_at]
    return CliRunner().invoke(app, args, env=env)


def _text(output: str) -> str:
    return " ".join(output.split())  # the console wraps long lines


def _assert_nothing_personal(raw: list[bytes]) -> None:
    text = b"\n".join(raw).decode()
    for planted in PLANTED:
        assert planted not in text, planted


def test_csv_table_becomes_events_and_row_dead_letters(broker, tmp_path: Path) -> None:
    env, events_topic, letters_topic = _topics(broker)
    state = tmp_path / "records.sqlite"
    first = _import(env, CSV, SAMPLE, state, "2026-05-06T16:00:00+07:00")
    assert first.exit_code == 3, first.output  # done, but rows were rejected
    assert "3 bản ghi, 7 sự kiện, 2 lỗi" in _text(first.output)
    # each rejected row named with its spreadsheet row and why, by the import itself
    said = first.stderr.splitlines()
    # the reason names the field, never the value (it may be personal: #15)
    assert f"{CSV}: dòng 4: bị từ chối — Ngày tiếp nhận (NgayTiepNhan): not a valid date" in (
        "\n".join(said)
    )
    assert any(line.startswith(f"{CSV}: dòng 5: bị từ chối — ") for line in said)
    assert "31/02/2026 08:00" not in first.stderr and "Đang chờ phê duyệt" not in first.stderr
    again = _import(env, CSV, SAMPLE, state, "2026-05-06T16:00:00+07:00")
    assert again.exit_code == 3, again.output  # the same export again adds no event

    raw_events = topic_values(broker.bootstrap, events_topic, 7)
    events = [json.loads(v) for v in raw_events]
    assert sorted((e["event_id"], e["type"], e["at"]) for e in events) == [
        ("H44.100-260504-0001:received:0", "received", "2026-05-04T09:00:00+07:00"),
        ("H44.100-260504-0001:resolved:0", "resolved", "2026-05-06T10:00:00+07:00"),
        ("H44.100-260504-0001:returned:0", "returned", "2026-05-06T15:00:00+07:00"),
        ("H44.100-260506-0005:received:0", "received", "2026-05-06T14:00:30+07:00"),
        ("H44.100-260506-0005:resolved:0", "resolved", "2026-05-06T15:00:00+07:00"),
        ("H44.100-260506-0005:returned:0", "returned", "2026-05-06T15:30:00+07:00"),
        ("H44.12-260505-0002:received:0", "received", "2026-05-05T08:30:00+07:00"),
    ]
    received = {e["dossier_id"]: e for e in events if e["type"] == "received"}
    online = received["H44.100-260504-0001"]
    assert (online["channel"], online["due_at"]) == ("online", "2026-05-07T09:00:00+07:00")
    assert (online["paid_online"], online["fee_due"]) == (True, True)  # "Có": paid, so a fee
    assert online["district_code"] == "H44.D01"
    assert online["procedure_name"] == "Đăng ký biến động đất đai"
    direct = received["H44.12-260505-0002"]
    assert (direct["channel"], direct["due_at"]) == ("direct", "2026-05-15T00:00:00+07:00")
    assert (direct["paid_online"], direct["district_code"]) == (False, "H44.D00")
    assert "paid_online" not in received["H44.100-260506-0005"]  # empty cell: not stated

    raw_letters = topic_values(broker.bootstrap, letters_topic, 4)
    letters = [json.loads(v) for v in raw_letters]
    by_row = {letter["dead_letter_id"].rsplit(":", 1)[1]: letter for letter in letters}
    assert len(letters) == 4 and set(by_row) == {"row 4", "row 5"}  # once per import
    assert by_row["row 4"]["dead_letter_id"] == f"ingest file:{CSV}:row 4"
    assert by_row["row 4"]["reason"].startswith("Ngày tiếp nhận (NgayTiepNhan): not a valid date")
    assert "Trạng thái (TrangThaiHoSo): unknown value (known: " in by_row["row 5"]["reason"]
    # the row's mapped fields, by field name, for the operator: the bad values are there
    row4 = json.loads(by_row["row 4"]["original"])["fields"]
    assert row4["MaHoSo"] == "H44.100-260505-0003"
    assert row4["NgayTiepNhan"] == "31/02/2026 08:00"
    row5 = json.loads(by_row["row 5"]["original"])["fields"]
    assert row5["TrangThaiHoSo"] == "Đang chờ phê duyệt"
    _assert_nothing_personal(raw_events + raw_letters)


def _workbook(path: Path) -> None:
    """A one-stop XLSX export: a notes sheet first, a title block, real date cells."""
    book = Workbook()
    book.active.title = "Hướng dẫn"
    book.active["A1"] = "Danh sách xuất từ hệ thống một cửa điện tử"
    sheet = book.create_sheet("Danh sách hồ sơ")
    sheet.append(["UBND TỈNH PHÚ THỌ"])
    sheet.append(["DANH SÁCH HỒ SƠ THÁNG 5/2026"])
    sheet.append([])
    sheet.append(
        [
            "STT",
            "Mã hồ sơ",
            "Họ tên người nộp",
            "Số CCCD",
            "Điện thoại",
            "Tên thủ tục hành chính",
            "Mã thủ tục",
            "Lĩnh vực",
            "Mã lĩnh vực",
            "Đơn vị xử lý",
            "Hình thức nộp",
            "Ngày tiếp nhận",
            "Ngày hẹn trả",
            "Ngày có kết quả",
            "Ngày trả kết quả",
            "Trạng thái",
            "Thanh toán trực tuyến",
        ]
    )
    rows = [
        ("H44.100-260507-0011", "UBND Phường Việt Trì", "Trực tuyến", datetime(2026, 5, 7, 8)),
        ("H44.12-260507-0012", "Sở Tài nguyên và Môi trường", "Trực tiếp", datetime(2026, 5, 7, 9)),
        ("H44.100-260507-0013", "UBND Phường Việt Trì", "Trực tiếp", "hôm qua"),
    ]
    ends = [
        (datetime(2026, 5, 12, 8), None, None, "Chờ bổ sung", "Không"),
        (None, datetime(2026, 5, 7, 10), None, "Công dân rút hồ sơ", None),
        (None, None, None, "Đang xử lý", None),
    ]
    for n, ((code, unit, channel, received), end) in enumerate(zip(rows, ends, strict=True), 1):
        applicant = (f"Nguyễn Văn Plantedname {n}", f"00109000{n}1111", f"091200{n}666")
        land = ("Đăng ký biến động đất đai", "1.003003", "Đất đai", "DD")
        sheet.append((n, code, *applicant, *land, unit, channel, received, *end))
    book.save(path)


def test_xlsx_table_becomes_events_and_row_dead_letters(broker, tmp_path: Path) -> None:
    env, events_topic, letters_topic = _topics(broker)
    table = tmp_path / "ho-so.xlsx"
    _workbook(table)
    mapping = tmp_path / "mapping.toml"
    sample = SAMPLE.read_text(encoding="utf-8")
    assert "header_row = 1\n" in sample
    layout = 'header_row = 4\nsheet = "Danh sách hồ sơ"\n'
    mapping.write_text(sample.replace("header_row = 1\n", layout), encoding="utf-8")
    result = _import(env, table, mapping, tmp_path / "r.sqlite", "2026-05-08T16:00:00+07:00")
    assert result.exit_code == 3, result.output
    assert "2 bản ghi, 4 sự kiện, 1 lỗi" in _text(result.output)
    assert f"{table}: dòng 7: bị từ chối — Ngày tiếp nhận (NgayTiepNhan): not a valid" in (
        result.stderr
    )
    assert "hôm qua" not in result.stderr

    raw_events = topic_values(broker.bootstrap, events_topic, 4)
    events = [json.loads(v) for v in raw_events]
    # status 5 without a listed round: the request is placed at the export time (seen_at)
    assert sorted((e["event_id"], e["type"], e["at"]) for e in events) == [
        ("H44.100-260507-0011:received:0", "received", "2026-05-07T08:00:00+07:00"),
        (
            "H44.100-260507-0011:supplement_requested:1",
            "supplement_requested",
            "2026-05-08T16:00:00+07:00",
        ),
        ("H44.12-260507-0012:received:0", "received", "2026-05-07T09:00:00+07:00"),
        ("H44.12-260507-0012:withdrawn:0", "withdrawn", "2026-05-07T10:00:00+07:00"),
    ]
    first = next(e for e in events if e["event_id"] == "H44.100-260507-0011:received:0")
    assert (first["channel"], first["due_at"]) == ("online", "2026-05-12T08:00:00+07:00")

    raw_letters = topic_values(broker.bootstrap, letters_topic, 1)
    letters = [json.loads(v) for v in raw_letters]
    assert [letter["dead_letter_id"] for letter in letters] == [f"ingest file:{table}:row 7"]
    assert letters[0]["reason"].startswith("Ngày tiếp nhận (NgayTiepNhan): not a valid date")
    assert json.loads(letters[0]["original"])["fields"]["NgayTiepNhan"] == "hôm qua"
    _assert_nothing_personal(raw_events + raw_letters)


def test_a_table_without_mapping_is_refused(broker, tmp_path: Path) -> None:
    env, _, _ = _topics(broker)
    args = ["ingest", "file", str(CSV), "--units", str(UNITS), "--state", str(tmp_path / "s")]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1  # a clear message, not a traceback
    said = " ".join(result.output.split())
    assert "không đọc được tệp" in said and "cần tệp ánh xạ cột (--mapping)" in said
    assert "Traceback" not in result.output
    old_excel = tmp_path / "ho-so.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0")  # the old binary format's signature
    args[2] = str(old_excel)
    result = CliRunner().invoke(app, [*args, "--mapping", str(SAMPLE)], env=env)
    assert result.exit_code == 1
    assert "hãy lưu bảng dưới dạng .xlsx hoặc .csv" in " ".join(result.output.split())


def test_progress_is_reported_per_chunk_of_rows(broker, tmp_path: Path, monkeypatch) -> None:
    env, _, _ = _topics(broker)
    settings = Settings(
        bootstrap_servers=broker.bootstrap,
        events_topic=env["MOTCUA_EVENTS_TOPIC"],
        dead_letter_topic=env["MOTCUA_DEAD_LETTER_TOPIC"],
    )
    monkeypatch.setattr(file_import, "CHUNK_ROWS", 2)
    store = SqliteRecords(tmp_path / "records.sqlite")
    producer = make_producer(settings)
    publisher = RecordPublisher(
        settings, KafkaSender(producer), store, read_unit_directory(UNITS), stage="ingest file"
    )
    calls: list[tuple[int, int]] = []
    try:
        seen_at = datetime.fromisoformat("2026-05-06T16:00:00+07:00")
        summary = file_import.import_file(
            CSV, publisher, seen_at, lambda *counts: calls.append(counts), mapping=SAMPLE
        )
    finally:
        producer.close()
        store.close()
    # rows 2-3 mapped, rows 4-5 rejected, row 7 mapped (row 6 is blank)
    assert calls == [(2, 0), (0, 2), (1, 0)]
    assert (summary.records, summary.events, summary.rejected) == (3, 7, 2)
