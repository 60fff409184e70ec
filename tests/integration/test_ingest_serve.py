"""`motcua ingest serve` over real HTTP onto the real broker: auth, size bounds,
malformed bodies, partly bad batches, re-sends, broker failure, no personal
data anywhere, and a schemathesis fuzz run against the served OpenAPI."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (  # the check registry's public names
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from typer.testing import CliRunner

from ingest.publish import KafkaSender, RecordPublisher
from ingest.record_history import SqliteRecords
from ingest.serve import RECORDS_PATH, AccessLogger, make_app, publisher_thread
from ingest.sync import UnitDirectory, read_unit_directory
from motcua import app
from schemas.settings import Settings
from streams.kafka.clients import make_producer
from streams.services import Broker, free_port
from tests.integration.loopback import topic_values

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "tests" / "fixtures" / "sync" / "units.json"
TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
MAX_BODY = 20_000
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PLANTED = {"ChuHoSo": "PLANTED-NAME", "SoCMND": "079912345678", "SoDienThoai": "0912345678"}
PLANTED_VALUES = tuple(PLANTED.values())

# status 4, first seen: only `received` (EVENTS.md §2: 2 → received; 4 with nothing pending)
PROCESSING = {
    "MaHoSo": "H44.100-260504-0101",
    "MaTTHC": "1.003003",
    "TenTTHC": "Đăng ký biến động đất đai",
    "MaLinhVuc": "DD",
    "TenLinhVuc": "Đất đai",
    "DonViXuLy": "UBND Phường Việt Trì",
    "KenhThucHien": 2,
    "NgayTiepNhan": "20260504090000",
    "NgayHenTra": "20260507090000",
    "TrangThaiHoSo": 4,
    **PLANTED,
}
# status 2 without NgayTiepNhan: a received dossier needs its receipt time
NO_RECEIPT = {
    "MaHoSo": "H44.100-260504-0102",
    "MaTTHC": "1.003003",
    "MaLinhVuc": "DD",
    "TrangThaiHoSo": 2,
    **PLANTED,
}
# status 5 with one listed round: received (due = the round's old due), the request
SUPPLEMENT = {
    "MaHoSo": "H44.12-260505-0007",
    "MaTTHC": "2.001234",
    "MaLinhVuc": "MT",
    "TenLinhVuc": "Môi trường",
    "DonViXuLy": "Sở Tài nguyên và Môi trường",
    "KenhThucHien": 1,
    "NgayTiepNhan": "20260505100000",
    "NgayHenTra": "20260512170000",
    "TrangThaiHoSo": 5,
    "DanhSachHoSoBoSung": [
        {
            "NgayYeuCauBoSung": "20260506080000",
            "NgayHenTraTruoc": "20260510170000",
            "NgayHenTraMoi": "20260512170000",
        }
    ],
    **PLANTED,
}
# status 9, first seen: received, then resolved at NgayKetThucXuLy
RESOLVED = {
    "MaHoSo": "H44.100-260504-0201",
    "MaTTHC": "1.003003",
    "MaLinhVuc": "DD",
    "DonViXuLy": "UBND Phường Việt Trì",
    "NgayTiepNhan": "20260504080000",
    "NgayHenTra": "20260506170000",
    "NgayKetThucXuLy": "20260505160000",
    "TrangThaiHoSo": 9,
    **PLANTED,
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=HCM)


# --- a live server on a loopback port ------------------------------------------------


class LiveServer:
    """The aiohttp app on a free loopback port, its loop in a background thread."""

    def __init__(self, application: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(
            application,
            access_log=logging.getLogger("motcua.ingest.access"),
            access_log_class=AccessLogger,
        )

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        try:
            self._call(self.runner.setup())
        except BaseException:
            self._stop_loop()
            raise
        self._call(web.TCPSite(self.runner, "127.0.0.1", 0).start())
        self.host, self.port = self.runner.addresses[0][:2]
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self.runner.cleanup())
        self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class Served:
    server: LiveServer
    settings: Settings
    executor: ThreadPoolExecutor
    store: SqliteRecords

    @property
    def base(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def post(
        self, body: bytes | Any, headers: dict[str, str] | None = None, chunked: bool = False
    ) -> tuple[int, http.client.HTTPMessage, Any]:
        """`headers` replace the default ones (token, JSON content type)."""
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        sent = AUTH if headers is None else headers
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            if chunked:
                chunks = (raw[i : i + 4096] for i in range(0, len(raw), 4096))
                conn.request("POST", RECORDS_PATH, chunks, sent, encode_chunked=True)
            else:
                conn.request("POST", RECORDS_PATH, raw, sent)
            response = conn.getresponse()
            text = response.read()
        finally:
            conn.close()
        return response.status, response.headers, json.loads(text) if text else None

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def events(self) -> list[dict]:
        return _read_all(self.settings.bootstrap_servers, self.settings.events_topic)

    def letters(self) -> list[dict]:
        return _read_all(self.settings.bootstrap_servers, self.settings.dead_letter_topic)

    def stored(self, dossier_id: str) -> Any:
        return self.executor.submit(self.store.get, dossier_id).result()


@contextmanager
def serving(bootstrap: str, tmp_path: Path, **producer_overrides: Any) -> Iterator[Served]:
    run = uuid.uuid4().hex[:8]
    config = Settings(
        bootstrap_servers=bootstrap,
        events_topic=f"serve-ev-{run}",
        dead_letter_topic=f"serve-dl-{run}",
    )
    executor = publisher_thread()
    store = executor.submit(SqliteRecords, tmp_path / f"records-{run}.sqlite").result()
    producer = make_producer(config, **producer_overrides)
    directory = read_unit_directory(UNITS)
    sender = KafkaSender(producer)
    publisher = RecordPublisher(config, sender, store, directory, stage="ingest serve")
    application = make_app(publisher, TOKEN, MAX_BODY, HCM, executor=executor)
    try:
        with LiveServer(application) as server:
            yield Served(server, config, executor, store)
    finally:
        producer.close(timeout=5)
        executor.submit(store.close).result()
        executor.shutdown()


@pytest.fixture
def served(broker, tmp_path: Path) -> Iterator[Served]:
    with serving(broker.bootstrap, tmp_path) as running:
        yield running


def _read_all(bootstrap: str, topic: str) -> list[dict]:
    """Every message now on `topic` (the server answered after the broker's acks).
    Read to an empty poll, not to the listed end offsets: Tansu lists them
    short of the last records."""
    return [json.loads(v) for v in topic_values(bootstrap, topic)]


def _no_personal_data(*things: Any) -> None:
    text = json.dumps(things, ensure_ascii=False, default=str)
    for value in PLANTED_VALUES:
        assert value not in text


# --- tests ---------------------------------------------------------------------------


def test_token_is_required(served: Served) -> None:
    missing = served.post(PROCESSING, headers={"Content-Type": "application/json"})
    wrong = served.post(PROCESSING, headers=AUTH | {"Authorization": "Bearer not-the-token-x"})
    basic = served.post(PROCESSING, headers=AUTH | {"Authorization": f"Basic {TOKEN}"})
    longer = served.post(PROCESSING, headers=AUTH | {"Authorization": f"Bearer {TOKEN}x"})
    for status, headers, body in (missing, wrong, basic, longer):
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Bearer ")
        assert "token" in body["error"]
    assert "invalid_token" not in missing[1]["WWW-Authenticate"]
    assert "invalid_token" in wrong[1]["WWW-Authenticate"]
    assert served.events() == [] and served.letters() == []  # not even a dead letter
    assert served.stored(PROCESSING["MaHoSo"]) is None


def test_body_size_is_bounded(served: Served) -> None:
    big = json.dumps([PROCESSING] * 60, ensure_ascii=False).encode()
    assert len(big) > MAX_BODY
    declared = served.post(big)
    assert declared[0] == 413 and str(MAX_BODY) in declared[2]["error"]
    chunked = served.post(big, chunked=True)  # no Content-Length: the read is bounded
    assert chunked[0] == 413
    many = json.dumps(
        [{}] * 5001, separators=(",", ":")
    ).encode()  # small, but more records than one request takes
    assert len(many) < MAX_BODY
    too_many = served.post(many)
    assert too_many[0] == 413 and "5000 records" in too_many[2]["error"]
    assert served.events() == [] and served.letters() == []
    # exactly at the limit is fine (JSON allows trailing whitespace)
    record = json.dumps(PROCESSING, ensure_ascii=False).encode()
    padded = record + b" " * (MAX_BODY - len(record))
    at_limit = served.post(padded)
    assert at_limit[0] == 200, at_limit
    assert at_limit[2] == {"accepted": 1, "events": 1, "rejected": []}


def test_malformed_requests_are_400_and_dead_lettered(served: Served) -> None:
    broken = b'{"ChuHoSo": "PLANTED-NAME", "SoDienThoai": "0912345678", "MaHoSo": '
    cases = {
        "json": (broken, AUTH, "not valid JSON"),
        "type": (
            json.dumps(PROCESSING).encode(),
            AUTH | {"Content-Type": "text/plain"},
            "Content-Type",
        ),
        "charset": (b"{}", AUTH | {"Content-Type": "application/json; charset=latin-1"}, "UTF-8"),
        "scalar": (b"42", AUTH, "expected a record (JSON object) or a list of records, got int"),
        "deep": (b'{"MaHoSo": ' + b"[" * 600 + b"]" * 600 + b"}", AUTH, "nested deeper than"),
        "bytes": (b"\xff\xfe{", AUTH, "not valid JSON"),
    }
    ids = {}
    for name, (body, headers, reason) in cases.items():
        status, response_headers, answer = served.post(body, headers=headers)
        assert status == 400, (name, answer)
        assert reason in answer["error"], (name, answer)
        ids[name] = response_headers["X-Request-Id"]
    letters = served.letters()
    assert len(letters) == len(cases)
    by_request = {letter["dead_letter_id"]: letter for letter in letters}
    for name, request_id in ids.items():
        letter = by_request[f"ingest serve:request {request_id}"]
        assert letter["source"] == "ingest serve"
        assert cases[name][2] in letter["reason"]
    # broken JSON: its size and hash only; a deep body too (nothing recurses into it)
    json_letter = json.loads(by_request[f"ingest serve:request {ids['json']}"]["original"])
    assert json_letter == {
        "bytes": len(broken),
        "sha256": hashlib.sha256(broken).hexdigest(),
        "kind": "not JSON",
    }
    deep = json.loads(by_request[f"ingest serve:request {ids['deep']}"]["original"])
    assert deep["fields"] == {"MaHoSo": "list of 1 items"} and deep["bytes"] == 1212
    assert json.loads(by_request[f"ingest serve:request {ids['scalar']}"]["original"]) == {
        "bytes": 2,
        "sha256": hashlib.sha256(b"42").hexdigest(),
        "kind": "number",
    }
    assert served.events() == []
    _no_personal_data(letters)


def test_partly_bad_batch(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="motcua.ingest")
    status, headers, answer = served.post([PROCESSING, NO_RECEIPT, SUPPLEMENT])
    assert status == 422
    assert answer["accepted"] == 2 and answer["events"] == 3
    [rejected] = answer["rejected"]
    assert rejected["index"] == 1
    assert "NgayTiepNhan" in rejected["reason"] and "TrangThaiHoSo is 2" in rejected["reason"]

    events = sorted(served.events(), key=lambda e: e["event_id"])
    got = [(e["event_id"], e["type"], _at(e["at"]), e.get("due_at")) for e in events]
    assert got == [
        (
            "H44.100-260504-0101:received:0",
            "received",
            _local(2026, 5, 4, 9),
            "2026-05-07T09:00:00+07:00",
        ),
        (
            "H44.12-260505-0007:received:0",
            "received",
            _local(2026, 5, 5, 10),
            "2026-05-10T17:00:00+07:00",  # the round's NgayHenTraTruoc, not the shifted due
        ),
        (
            "H44.12-260505-0007:supplement_requested:1",
            "supplement_requested",
            _local(2026, 5, 6, 8),
            None,
        ),
    ]
    commune, province = events[0], events[1]
    assert (commune["agency_code"], commune["level"], commune["district_code"]) == (
        "H44.100",
        "commune",
        "H44.D01",
    )
    assert commune["channel"] == "online" and commune["field_name"] == "Đất đai"
    assert (province["agency_code"], province["level"], province["district_code"]) == (
        "H44.12",
        "province",
        "H44.D00",
    )
    assert province["channel"] == "direct"
    assert province["agency_name"] == "Sở Tài nguyên và Môi trường"

    [letter] = served.letters()
    assert letter["dead_letter_id"] == f"ingest serve:request {headers['X-Request-Id']}#1"
    assert "NgayTiepNhan" in letter["reason"]
    assert json.loads(letter["original"])["fields"]["MaHoSo"] == "H44.100-260504-0102"

    # the same batch again: the bad record is refused again, nothing new is derived
    again = served.post([PROCESSING, NO_RECEIPT, SUPPLEMENT])
    assert again[0] == 422
    assert again[2] == {"accepted": 2, "events": 0, "rejected": [rejected]}
    assert len(served.events()) == 3
    assert len(served.letters()) == 2

    access = [r.getMessage() for r in caplog.records if r.name == "motcua.ingest.access"]
    assert sum(f"POST {RECORDS_PATH} 422" in line for line in access) == 2
    _no_personal_data(answer, again, served.events(), served.letters(), caplog.text)


def test_good_batch_sent_twice_adds_nothing(served: Served) -> None:
    first = served.post([PROCESSING, RESOLVED])
    assert first[0] == 200 and first[2] == {"accepted": 2, "events": 3, "rejected": []}
    second = served.post([PROCESSING, RESOLVED])
    assert second[0] == 200 and second[2] == {"accepted": 2, "events": 0, "rejected": []}
    single = served.post(RESOLVED)  # one record, not a list
    assert single[0] == 200 and single[2] == {"accepted": 1, "events": 0, "rejected": []}
    events = served.events()
    assert sorted((e["event_id"], _at(e["at"])) for e in events) == [
        ("H44.100-260504-0101:received:0", _local(2026, 5, 4, 9)),
        ("H44.100-260504-0201:received:0", _local(2026, 5, 4, 8)),
        ("H44.100-260504-0201:resolved:0", _local(2026, 5, 5, 16)),
    ]
    assert served.letters() == []
    _no_personal_data(first, second, events)


def test_broker_failure_is_503_and_rolls_back(tmp_path: Path) -> None:
    # A broker of its own, stopped mid-test; the producer gives up within ~2 s.
    quick = {"max_block_ms": 2000, "request_timeout_ms": 1000, "delivery_timeout_ms": 1500}
    with Broker(tmp_path / "lone-broker") as lone, serving(lone.bootstrap, tmp_path, **quick) as s:
        assert s.post(PROCESSING)[0] == 200
        lone.process.kill()  # a crash (SIGTERM makes Tansu linger for seconds)
        lone.process.wait(timeout=10)
        status, headers, answer = s.post(RESOLVED)
        assert status == 503, answer
        assert int(headers["Retry-After"]) > 0
        assert "retry" in answer["error"]
        assert s.stored(RESOLVED["MaHoSo"]) is None  # rolled back: a retry re-derives it
        assert s.stored(PROCESSING["MaHoSo"]) is not None


def test_store_locked_by_another_process_is_503(served: Served, tmp_path: Path) -> None:
    # e.g. `motcua ingest file` importing into the same state file: SQLite's
    # 5 s busy wait runs out, the sender is told to retry, and the retry works.
    [path] = tmp_path.glob("records-*.sqlite")
    other = sqlite3.connect(path)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        status, headers, answer = served.post(RESOLVED)
    finally:
        other.rollback()
        other.close()
    assert status == 503, answer
    assert int(headers["Retry-After"]) > 0
    assert served.events() == []
    retried = served.post(RESOLVED)
    assert retried[0] == 200 and retried[2]["events"] == 2


def test_openapi_and_health(served: Served) -> None:
    status, body = served.get("/healthz")
    assert status == 200
    status, body = served.get("/openapi.json")
    assert status == 200
    doc = json.loads(body)
    schemathesis.openapi.from_dict(doc).validate()  # against the OpenAPI 3.0 meta-schema
    post = doc["paths"][RECORDS_PATH]["post"]
    assert post["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert set(post["responses"]) == {"200", "400", "401", "408", "413", "422", "503"}
    record = doc["components"]["schemas"]["SyncRecord"]
    assert record["additionalProperties"] is True
    assert {"MaHoSo", "TrangThaiHoSo", "NgayTiepNhan", "DanhSachHoSoBoSung"} <= set(
        record["properties"]
    )


def test_fuzz_against_openapi_never_5xx(served: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base}/openapi.json")
    operation = schema[RECORDS_PATH]["POST"]
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    statuses: Counter[int] = Counter()
    auth = {"Authorization": AUTH["Authorization"]}
    session = requests.Session()

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: schemathesis.Case) -> None:
        # Sent with requests itself: schemathesis' own `case.call` trips over
        # urllib3-future (pulled in by grafana-client), which replaces urllib3 here.
        sent = case.as_transport_kwargs(base_url=served.base, headers=auth)
        response = session.request(**sent, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=checks)

    run()
    assert sum(statuses.values()) >= 100, statuses
    assert all(code < 500 for code in statuses), statuses


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
RECORD_LIKE = st.fixed_dictionaries(
    {"MaHoSo": st.text(max_size=30), "TrangThaiHoSo": JSON_VALUES},
    optional={k: JSON_VALUES for k in ("NgayTiepNhan", "DanhSachHoSoBoSung", "KenhThucHien")},
)


def test_fuzz_arbitrary_bodies_and_headers_never_5xx(served: Served) -> None:
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=st.binary(max_size=200)
        | JSON_VALUES.map(json.dumps).map(str.encode)
        | st.lists(RECORD_LIKE, max_size=3).map(json.dumps).map(str.encode),
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/json; charset=utf-16"]
        ),
        authorization=st.sampled_from([AUTH["Authorization"], "Bearer ", "", "bearer x"]),
    )
    def run(body: bytes, content_type: str, authorization: str) -> None:
        status, _, answer = served.post(
            body, headers={"Content-Type": content_type, "Authorization": authorization}
        )
        statuses[status] += 1
        assert status in (200, 400, 401, 422), (status, answer)

    run()
    assert {400, 401} <= set(statuses), statuses


def test_store_opened_in_another_thread_fails_at_startup(tmp_path: Path) -> None:
    store = SqliteRecords(tmp_path / "r.sqlite")  # this thread, not the app's
    publisher = RecordPublisher(Settings(), None, store, UnitDirectory(), stage="ingest serve")
    application = make_app(publisher, TOKEN, MAX_BODY, HCM)
    with pytest.raises(RuntimeError, match="executor thread"), LiveServer(application):
        pass
    store.close()


def test_cli_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    args = ["ingest", "serve", "--units", str(UNITS), "--state", str(tmp_path / "r.sqlite")]
    for token in ("", "short"):
        result = CliRunner().invoke(app, args, env={"MOTCUA_INGEST_TOKEN": token})
        assert result.exit_code == 2, result.output
        assert "MOTCUA_INGEST_TOKEN" in result.output and "Không thể khởi động" in result.output
    assert not (tmp_path / "r.sqlite").exists()  # refused before opening anything


def test_cli_serves_until_interrupted(broker, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    port = free_port()
    env = os.environ | {
        "MOTCUA_INGEST_TOKEN": TOKEN,
        "MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "MOTCUA_EVENTS_TOPIC": f"cli-ev-{run}",
        "MOTCUA_DEAD_LETTER_TOPIC": f"cli-dl-{run}",
    }
    argv = [sys.executable, "-m", "motcua", "ingest", "serve", "--units", str(UNITS)]
    argv += ["--state", str(tmp_path / "r.sqlite"), "--port", str(port)]
    argv += ["--max-body-bytes", str(MAX_BODY)]
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_port(port, process)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", RECORDS_PATH, json.dumps([RESOLVED, NO_RECEIPT]), AUTH)
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert response.status == 422, answer
    assert answer["accepted"] == 1 and answer["events"] == 2
    assert process.returncode == 0, stderr
    assert "Đang nhận bản ghi đồng bộ" in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    access = [line["message"] for line in lines if line["logger"] == "motcua.ingest.access"]
    assert len(access) == 1 and access[0].startswith(f"POST {RECORDS_PATH} 422 ")
    assert len(_read_all(broker.bootstrap, f"cli-ev-{run}")) == 2
    assert len(_read_all(broker.bootstrap, f"cli-dl-{run}")) == 1
    assert TOKEN not in stderr
    _no_personal_data(answer, stderr)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited while starting"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after 20 s")
