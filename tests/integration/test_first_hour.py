"""Issue #19 against the real services: what a newcomer meets when a service
is down, when an import has bad lines, and what the worker's log holds.

ClickHouse is a server of this module's own (the session's is shared by
tests that must not see it stop); the broker is the session's.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from motcua import app
from streams.services import ClickHouseServer
from tests.integration.test_pipeline import Pipeline
from tests.unit.cli.test_report_command import LINES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "tests" / "fixtures" / "sync" / "units.json"
# the hand-worked history's five valid events (its line 3 is not JSON, line 7 lacks its agency)
VALID = [x for x in LINES if isinstance(x, dict) and x["event_id"] != "d1"]


@pytest.fixture(scope="module")
def own_clickhouse(tmp_path_factory) -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(tmp_path_factory.mktemp("own-clickhouse"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def pipeline(broker, own_clickhouse, tmp_path) -> Iterator[Pipeline]:
    if not own_clickhouse.running:
        own_clickhouse.start()
    p = Pipeline(broker, own_clickhouse, tmp_path)
    yield p
    p.stop_worker()
    if not own_clickhouse.running:
        own_clickhouse.start()


def _events_file(path: Path, lines: list) -> Path:
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _cli(pipeline: Pipeline, *args: str):
    return CliRunner().invoke(app, list(args), env=pipeline.env())


def _assert_json_log(log: str) -> list[dict]:
    """Every line of a worker log is one JSON object: no cursor codes, no backspaces."""
    assert "\x1b" not in log and "\b" not in log, repr(log[:200])
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def test_a_worker_stopped_while_clickhouse_is_down_stops(pipeline: Pipeline, tmp_path) -> None:
    # running: a first file stored
    first = _cli(pipeline, "replay", str(_events_file(tmp_path / "a.jsonl", VALID[:2])), "--wait")
    assert first.exit_code == 0, first.output
    pipeline.clickhouse.stop()
    # more events: the worker takes them and keeps retrying its write
    more = _cli(pipeline, "replay", str(_events_file(tmp_path / "b.jsonl", VALID[2:])))
    assert more.exit_code == 0, more.output
    log = tmp_path / "worker.log"
    deadline = time.monotonic() + 60
    while "failed (attempt" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "failed (attempt" in log.read_text()  # it is stuck in the outage
    worker = pipeline.worker
    assert worker is not None and worker.poll() is None
    began = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        code = worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise AssertionError("the worker did not stop within 30 s of SIGTERM") from None
    took = time.monotonic() - began
    assert took < 30 and code in (0, -signal.SIGTERM), (took, code)
    lines = _assert_json_log(log.read_text())
    assert all(line["level"] != "error" for line in lines), lines
    # nothing lost: ClickHouse back, a new worker stores the unacknowledged batch
    pipeline.clickhouse.start()
    pipeline.start_worker()
    again = _cli(pipeline, "replay", str(_events_file(tmp_path / "c.jsonl", VALID[2:])), "--wait")
    assert again.exit_code == 0, again.output
    stored = pipeline.engine.rows("SELECT count() FROM motcua.raw_events FINAL")
    assert stored == [(len(VALID),)]


def test_replay_wait_during_a_clickhouse_outage_says_so(pipeline: Pipeline, tmp_path) -> None:
    pipeline.clickhouse.stop()
    began = time.monotonic()
    events = _events_file(tmp_path / "a.jsonl", VALID)
    result = _cli(pipeline, "replay", str(events), "--wait", "--timeout", "4")
    took = time.monotonic() - began
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # an exit, not a traceback
    said = result.stderr.splitlines()
    assert said[0] == f"Đã gửi {len(VALID)} sự kiện, 0 dòng bị từ chối."
    assert said[-1].startswith("Lỗi: sau 4 giây vẫn không kết nối được ClickHouse tại 127.0.0.1:")
    assert "các sự kiện đã nằm trên broker" in said[-1]
    assert took < 20


def test_ingest_lists_each_rejected_line_and_exits_3(pipeline: Pipeline, tmp_path) -> None:
    good = {
        "MaHoSo": "H44.100-260504-0001",
        "MaTTHC": "1.003003",
        "TenTTHC": "Đăng ký biến động đất đai",
        "MaLinhVuc": "DD",
        "TenLinhVuc": "Đất đai",
        "DonViXuLy": "UBND Phường Việt Trì",
        "KenhThucHien": 2,
        "NgayTiepNhan": "20260504090000",
        "NgayHenTra": "20260507090000",
        "TrangThaiHoSo": 2,
    }
    lines = [json.dumps(good, ensure_ascii=False)] + ["not json"] * 24 + ["{}"]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = str(tmp_path / "s.sqlite")
    result = _cli(pipeline, "ingest", "file", str(path), "--units", str(UNITS), "--state", state)
    assert result.exit_code == 3, result.output
    said = result.stderr.splitlines()
    listed = [line for line in said if ": bị từ chối — " in line]
    # lines 2..26 are bad (25): the first 20 with their line number and reason, then a count
    assert [line.split(": bị từ chối")[0] for line in listed] == [
        f"{path}:{n}" for n in range(2, 22)
    ]
    assert all(line.split(" — ", 1)[1] for line in listed)  # a reason each
    assert "… và 5 bản ghi bị từ chối khác (đủ trong bảng motcua.dead_letters)" in said
    assert f"{path}: 1 bản ghi, 1 sự kiện, 25 lỗi (đã chuyển sang hàng đợi lỗi)" in said

    # nothing valid at all: exit 1, with the reason
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("nope\n", encoding="utf-8")
    result = _cli(pipeline, "ingest", "file", str(garbage), "--units", str(UNITS), "--state", state)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith(
        "Lỗi: không có bản ghi hợp lệ nào để nạp (1 bản ghi bị từ chối)"
    )
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")
    result = _cli(pipeline, "ingest", "file", str(empty), "--units", str(UNITS), "--state", state)
    assert result.exit_code == 1, result.output
    assert "không có bản ghi hợp lệ nào để nạp (tệp trống)" in result.stderr


def test_reports_from_clickhouse_refuse_an_unknown_unit(pipeline: Pipeline, tmp_path) -> None:
    result = _cli(pipeline, "replay", str(_events_file(tmp_path / "a.jsonl", LINES)), "--wait")
    assert result.exit_code == 3, result.output  # two bad lines, listed
    out = tmp_path / "may.xlsx"
    result = _cli(pipeline, "export", "monthly", "--month", "2026-05", "--output", str(out))
    assert result.exit_code == 0, result.output  # no --source: ClickHouse
    assert result.stderr.splitlines()[-1].startswith(f"Đã ghi {out}: tháng 2026-05 — 2 cơ quan")
    nope = tmp_path / "nope.xlsx"
    result = _cli(
        pipeline, "export", "monthly", "--month", "2026-05", "--output", str(nope), "--unit", "NOPE"
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        "Lỗi: không có cơ quan mã 'NOPE' trong số liệu — dùng một mã có thật "
        "(2 mã: H44.07, H44.100)"
    )
    assert not nope.exists()
    result = _cli(pipeline, "export", "monthly", "--month", "2025-05", "--output", str(nope))
    assert result.exit_code == 1 and not nope.exists()
    assert "không có hồ sơ nào trong tháng 2025-05" in result.stderr
