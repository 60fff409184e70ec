"""`motcua ingest poll` against a fake of the provincial REST source (a small aiohttp
server on loopback: the real one cannot run here) and the real broker: pages
with a cursor, 429/500 retried, a 400 stops the poller after page 2, a restart
resumes at page 3 and nothing is published twice."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from typer.testing import CliRunner

from ingest.poll import (
    Backoff,
    MalformedPage,
    PageReport,
    Poller,
    PollError,
    PollSource,
    RetryNotice,
    SourceUnavailable,
    fetch_page,
    parse_page,
    retry_after,
)
from ingest.publish import KafkaSender, RecordPublisher
from ingest.record_history import SqliteRecords
from ingest.sync import parse_record, read_unit_directory
from motcua import app
from schemas.settings import Settings
from streams.kafka.clients import make_producer
from tests.integration.loopback import topic_values

pytestmark = pytest.mark.integration
UNITS = Path(__file__).resolve().parents[1] / "fixtures" / "sync" / "units.json"
PLANTED = {"ChuHoSo": "PLANTED-NAME", "SoDienThoai": "0900000009", "SoCCCD": "001090999999"}


def _record(code: str, status: int, received: str, **more: Any) -> dict[str, Any]:
    return {
        "MaHoSo": code,
        "MaTTHC": "1.003003",
        "TenTTHC": "Đăng ký biến động đất đai",
        "MaLinhVuc": "DD",
        "TenLinhVuc": "Đất đai",
        "KenhThucHien": 2,
        "NgayTiepNhan": received,
        "TrangThaiHoSo": status,
        **PLANTED,
        **more,
    }


D1, D2, D3, D4 = (
    "H44.100-260504-0001",
    "H44.12-260504-0002",
    "H44.100-260505-0003",
    "H44.100-260506-0004",
)
PAGE_1 = {
    "items": [
        _record(D1, 4, "20260504090000", NgayHenTra="20260507090000"),
        _record(D2, 2, "20260504100000"),
    ],
    "next_cursor": "c1",
    "has_more": True,
}
PAGE_2 = {
    "items": [
        _record(D3, 9, "20260505080000", NgayKetThucXuLy="20260505160000"),
        {"MaHoSo": "H44.100-260505-0099", "TrangThaiHoSo": 11, **PLANTED},  # no such status
    ],
    "next_cursor": "c2",
    "has_more": True,
}
PAGE_3 = {
    "items": [
        _record(
            D1, 10, "20260504090000", NgayKetThucXuLy="20260506100000", NgayTra="20260506150000"
        ),
        _record(D4, 7, "20260506090000", NgayKetThucXuLy="20260506110000"),
    ],
    "next_cursor": "c3",
    "has_more": False,
}
# worked out from EVENTS.md §2: each dossier's events, at the times its records carry
EXPECTED = sorted(
    [
        (f"{D1}:received:0", "2026-05-04T09:00:00+07:00"),
        (f"{D2}:received:0", "2026-05-04T10:00:00+07:00"),
        (f"{D3}:received:0", "2026-05-05T08:00:00+07:00"),
        (f"{D3}:resolved:0", "2026-05-05T16:00:00+07:00"),
        (f"{D1}:resolved:0", "2026-05-06T10:00:00+07:00"),
        (f"{D1}:returned:0", "2026-05-06T15:00:00+07:00"),
        (f"{D4}:received:0", "2026-05-06T09:00:00+07:00"),
        (f"{D4}:withdrawn:0", "2026-05-06T11:00:00+07:00"),
    ]
)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def page(cls, page: dict[str, Any]) -> Answer:
        return cls(200, json.dumps(page, ensure_ascii=False).encode())


@dataclass
class Request:
    at: float
    since: str | None
    limit: str | None
    authorization: str | None


class FakeSource:
    """The provincial change list: per `since`, scripted answers served in turn
    (the last one repeats). Runs its own event loop in a thread."""

    def __init__(self, script: dict[str | None, list[Answer]]) -> None:
        self.script = {since: list(answers) for since, answers in script.items()}
        self.requests: list[Request] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        since = request.query.get("since")
        self.requests.append(
            Request(
                time.monotonic(),
                since,
                request.query.get("limit"),
                request.headers.get("Authorization"),
            )
        )
        answers = self.script[since]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)

    async def _start(self) -> str:
        application = web.Application()
        application.router.add_get("/api/hoso/thay-doi", self._handle)
        self.runner = web.AppRunner(application)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/api/hoso/thay-doi"

    def __enter__(self) -> FakeSource:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def sinces(self) -> list[str | None]:
        return [r.since for r in self.requests]


def _env(broker) -> tuple[dict[str, str], str, str]:
    run = uuid.uuid4().hex[:8]
    env = {
        "MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "MOTCUA_EVENTS_TOPIC": f"ev-{run}",
        "MOTCUA_DEAD_LETTER_TOPIC": f"dl-{run}",
        "MOTCUA_POLL_TOKEN": "test-token-0123456789",
    }
    return env, f"ev-{run}", f"dl-{run}"


def _poll(env: dict[str, str], url: str, state: Path):
    args = ["ingest", "poll", "--url", url, "--units", str(UNITS), "--state", str(state)]
    args += ["--source-name", "tinh", "--once", "--page-size", "2"]
    result = CliRunner().invoke(app, args, env=env)
    return result, " ".join(result.output.split())  # the console wraps long lines


def _cursor(state: Path) -> str | None:
    store = SqliteRecords(state)
    try:
        return store.get_cursor("tinh")
    finally:
        store.close()


def test_pages_retries_stop_and_resume_exactly_once(broker, tmp_path: Path) -> None:
    env, events_topic, letters_topic = _env(broker)
    state = tmp_path / "records.sqlite"
    script = {
        None: [Answer(429, b"busy", {"Retry-After": "1"}), Answer.page(PAGE_1)],
        "c1": [Answer(500, b"oops"), Answer.page(PAGE_2)],
        "c2": [Answer(400, b'{"error": "since out of range"}'), Answer.page(PAGE_3)],
    }
    with FakeSource(script) as source:
        first, output = _poll(env, source.url, state)
        assert first.exit_code == 1, first.output
        assert "HTTP 429" in output and "HTTP 500" in output  # retried, said so
        assert "Lỗi: dừng lấy dữ liệu: HTTP 400 Bad Request" in output
        # the error body is named by size and hash: it may echo a record back
        assert "since out of range" not in output
        body = b'{"error": "since out of range"}'
        assert hashlib.sha256(body).hexdigest()[:20] in output.replace("\n", "")
        assert source.sinces() == [None, None, "c1", "c1", "c2"]
        # Retry-After: 1 honoured; a computed first wait would be 0.5-1 s (Backoff())
        assert 1.0 <= source.requests[1].at - source.requests[0].at < 5.0
        assert 0.5 <= source.requests[3].at - source.requests[2].at < 5.0  # the 500, backed off
        assert _cursor(state) == "c2"  # page 2 confirmed, page 3 not

        second, output = _poll(env, source.url, state)  # the restart
        assert second.exit_code == 0, second.output
        assert source.sinces()[5:] == ["c2"]  # resumes exactly at page 3
        assert "Trang 1: 2 bản ghi, 4 sự kiện, 0 lỗi · con trỏ c3" in output
        assert _cursor(state) == "c3"
        assert {r.limit for r in source.requests} == {"2"}
        assert {r.authorization for r in source.requests} == {"Bearer test-token-0123456789"}

    raw_events = topic_values(broker.bootstrap, events_topic, len(EXPECTED))
    events = [json.loads(v) for v in raw_events]
    assert sorted((e["event_id"], e["at"]) for e in events) == EXPECTED  # each id once
    assert {e["source"] for e in events} == {"tinh"}
    raw_letters = topic_values(broker.bootstrap, letters_topic, 1)
    letters = [json.loads(v) for v in raw_letters]
    assert [x["dead_letter_id"] for x in letters] == ["ingest poll:tinh:since=c1#1"]
    assert "TrangThaiHoSo" in letters[0]["reason"]
    everything = b"\n".join(raw_events + raw_letters).decode()
    assert not any(value in everything for value in PLANTED.values())


def test_malformed_page_is_a_dead_letter_and_the_cursor_stays(broker, tmp_path: Path) -> None:
    env, events_topic, letters_topic = _env(broker)
    state = tmp_path / "records.sqlite"
    page = {"items": [_record(D2, 2, "20260504100000")], "next_cursor": "c1"}
    script = {None: [Answer(200, b"<html>maintenance</html>"), Answer.page(page)]}
    with FakeSource(script) as source:
        first, output = _poll(env, source.url, state)
        assert first.exit_code == 1, first.output
        assert "Lỗi: dừng lấy dữ liệu: malformed page: Invalid JSON" in output
        assert _cursor(state) is None
        second, _ = _poll(env, source.url, state)
        assert second.exit_code == 0, second.output
        assert source.sinces() == [None, None] and _cursor(state) == "c1"
    letters = [json.loads(v) for v in topic_values(broker.bootstrap, letters_topic, 1)]
    assert [x["dead_letter_id"] for x in letters] == ["ingest poll:tinh:since="]
    assert letters[0]["reason"].startswith("malformed page: Invalid JSON")
    # the page's size and hash, never its text (24 bytes of not-JSON)
    assert json.loads(letters[0]["original"]) == {
        "bytes": 24,
        "sha256": hashlib.sha256(b"<html>maintenance</html>").hexdigest(),
        "kind": "not JSON",
    }
    events = [json.loads(v) for v in topic_values(broker.bootstrap, events_topic, 1)]
    assert [e["event_id"] for e in events] == [f"{D2}:received:0"]


def test_cursor_and_last_records_commit_together(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    store = SqliteRecords(path)
    store.put(parse_record(_record(D2, 2, "20260504100000")))
    store.put_cursor("tinh", "c1")
    store.close()  # a crash before commit: neither survives
    store = SqliteRecords(path)
    assert (store.get_cursor("tinh"), len(store)) == (None, 0)
    store.put(parse_record(_record(D2, 2, "20260504100000")))
    store.put_cursor("tinh", "c1")
    store.commit()
    store.close()
    store = SqliteRecords(path)
    assert (store.get_cursor("tinh"), store.get_cursor("other"), len(store)) == ("c1", None, 1)
    store.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "^malformed page: Input should be an object$"),
        (b'{"next_cursor": "c1"}', "items: Field required"),
        (b'{"items": {"MaHoSo": "x"}}', "items: Input should be a valid array"),
        (b'{"items": [], "next_cursor": 7}', "next_cursor: Input should be a valid string"),
        (b'{"items": [], "has_more": "yes"}', "has_more: Input should be a valid boolean"),
        (b'{"items": [], "next_cursor": "c1", "has_more": true}', "next_cursor does not move"),
        (b'{"items": [], "has_more": true}', "next_cursor does not move"),
    ],
)
def test_malformed_pages_are_named(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPage, match=reason):
        parse_page(body, "c1")


def test_page_contract_defaults() -> None:
    page = parse_page(b'{"items": [{"MaHoSo": "x"}], "extra": 1}', None)
    assert (page.items, page.next_cursor, page.has_more) == ([{"MaHoSo": "x"}], None, False)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1", 1.0), (" 2.5 ", 2.5), ("0", 0.0), ("-1", None), ("soon", None), (None, None)],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_is_capped() -> None:
    assert retry_after("86400") == 900.0


def test_unreachable_source_is_retried_then_unavailable() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = PollSource(url=f"http://127.0.0.1:{port}/api")
    notices: list[RetryNotice] = []

    async def fetch() -> bytes:
        async with aiohttp.ClientSession() as session:
            backoff = Backoff(initial=0.01, maximum=0.05, attempts=3)
            return await fetch_page(session, source, None, backoff, notices.append)

    with pytest.raises(SourceUnavailable, match="after 3 attempts"):
        asyncio.run(fetch())
    assert [n.attempt for n in notices] == [1, 2]
    assert all(0.01 <= n.delay <= 0.06 for n in notices)


class _Enough(Exception):
    pass


def test_the_endless_loop_reports_a_bad_page_and_polls_on(broker, tmp_path: Path) -> None:
    env, events_topic, _ = _env(broker)
    settings = Settings(
        bootstrap_servers=broker.bootstrap,
        events_topic=env["MOTCUA_EVENTS_TOPIC"],
        dead_letter_topic=env["MOTCUA_DEAD_LETTER_TOPIC"],
    )
    store = SqliteRecords(tmp_path / "records.sqlite")
    producer = make_producer(settings)
    directory = read_unit_directory(UNITS)
    publisher = RecordPublisher(
        settings, KafkaSender(producer), store, directory, "ingest poll", "tinh"
    )
    page = {"items": [_record(D2, 2, "20260504100000")], "next_cursor": "c1"}
    script = {
        None: [Answer(200, b'{"items": null}'), Answer.page(page)],
        "c1": [Answer.page({"items": [], "next_cursor": "c1"})],
    }
    errors: list[PollError] = []
    reports: list[PageReport] = []

    def on_page(report: PageReport) -> None:
        reports.append(report)
        if len(reports) == 2:
            raise _Enough

    try:
        with FakeSource(script) as fake:
            poller = Poller(PollSource(url=fake.url, name="tinh"), publisher, on_page=on_page)
            with pytest.raises(_Enough):
                asyncio.run(poller.run(interval=0.05, on_error=errors.append))
            assert fake.sinces() == [None, None, "c1"]
    finally:
        producer.close()
        store.close()
    assert [type(e) for e in errors] == [MalformedPage]
    assert [(r.since, r.next_cursor, r.records, r.events) for r in reports] == [
        (None, "c1", 1, 1),
        ("c1", "c1", 0, 0),
    ]
    events = [json.loads(v) for v in topic_values(broker.bootstrap, events_topic, 1)]
    assert [e["event_id"] for e in events] == [f"{D2}:received:0"]
