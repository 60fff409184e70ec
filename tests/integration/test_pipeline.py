"""The live pipeline on the real broker (Tansu) and the real ClickHouse server:
replay → faust worker (its own process) → ClickHouse → report."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.request import urlopen

import pytest
from kafka import KafkaConsumer

from ingest.replay import ReplayResult, replay_files
from reports.offline import states_at
from reports.render import write_csv
from schemas.settings import Settings
from streams.clickhouse.migrations import migrate
from streams.clickhouse.queries import report_rows
from streams.clickhouse.recompute import recompute_facts
from streams.clickhouse.sql import DATABASE
from streams.kafka.bulk import BulkProducer
from streams.progress import wait_until_stored
from streams.rules.calendar import working_calendar
from streams.rules.period import CSV_COLUMNS, UnitKind, period_report
from streams.services import free_port
from tests.histories import TZ, random_province
from tests.unit.cli.test_report_command import EXPECTED, LINES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
MAY, JUNE = datetime(2026, 5, 1, tzinfo=TZ), datetime(2026, 6, 1, tzinfo=TZ)


@pytest.fixture
def pipeline(broker, clickhouse, tmp_path) -> Iterator[Pipeline]:
    p = Pipeline(broker, clickhouse, tmp_path)
    yield p
    p.stop_worker()


class Pipeline:
    """One isolated run: fresh topics, a fresh database, one worker process."""

    def __init__(self, broker, clickhouse, tmp_path: Path) -> None:
        run = uuid.uuid4().hex[:8]
        self.clickhouse = clickhouse
        self.tmp = tmp_path
        self.settings = Settings(
            app_id=f"motcua-test-{run}",
            bootstrap_servers=broker.bootstrap,
            events_topic=f"events-{run}",
            dead_letter_topic=f"dead-{run}",
            topic_partitions=2,
            clickhouse_host=clickhouse.host,
            clickhouse_port=clickhouse.tcp_port,
            data_dir=tmp_path / "worker",
            batch_max_seconds=0.2,
            broker_session_timeout=10.0,
            broker_rebalance_timeout=10.0,
        )
        self.engine = clickhouse.engine()  # the administrator: the tests' own eyes
        self.engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
        migrate(self.engine)
        self.worker: subprocess.Popen | None = None
        self.metrics_port = free_port()
        self.start_worker()

    def env(self) -> dict[str, str]:
        s = self.settings
        return {
            "PATH": "/usr/bin:/bin",
            "MOTCUA_APP_ID": s.app_id,
            "MOTCUA_BOOTSTRAP_SERVERS": s.bootstrap_servers,
            "MOTCUA_EVENTS_TOPIC": s.events_topic,
            "MOTCUA_DEAD_LETTER_TOPIC": s.dead_letter_topic,
            "MOTCUA_TOPIC_PARTITIONS": str(s.topic_partitions),
            # the worker writes as the insert-only user and `--wait` reads as
            # the reader, as in production; neither sees the admin's password
            **self.clickhouse.env("writer", "reader"),
            "MOTCUA_DATA_DIR": str(s.data_dir),
            "MOTCUA_BATCH_MAX_SECONDS": str(s.batch_max_seconds),
            "MOTCUA_BROKER_SESSION_TIMEOUT": "10",
            "MOTCUA_BROKER_REBALANCE_TIMEOUT": "10",
            "MOTCUA_METRICS_PORT": str(self.metrics_port),
        }

    def start_worker(self, **env: str) -> None:
        log = (self.tmp / "worker.log").open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "motcua", "worker"],
            cwd=ROOT,
            env=self.env() | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()

    def publish(self, lines: list, name: str = "events.jsonl") -> ReplayResult:
        """The lines on the topic (as `motcua replay` sends them), not waited for."""
        path = self.tmp / name
        path.write_text(
            "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
            + "\n",
            encoding="utf-8",
        )
        producer = BulkProducer(self.settings)
        try:
            return replay_files([path], self.settings, producer)
        finally:
            producer.close()

    def replay(self, lines: list, name: str = "events.jsonl", timeout: float = 90) -> int:
        result = self.publish(lines, name)
        try:
            wait_until_stored(self.engine, self.settings, result.offsets, timeout)
        except TimeoutError:
            log = (self.tmp / "worker.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"worker did not store the replay; its log:\n{log}") from None
        return result.rejected

    def explain(self) -> str:
        """Where a report that differs went wrong: the events on the topic that
        raw_events lacks, the stored progress, the worker's warnings."""
        consumer = KafkaConsumer(
            self.settings.events_topic,
            bootstrap_servers=self.settings.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
            consumer_timeout_ms=3000,
        )
        on_topic = {json.loads(r.value)["event_id"]: (r.partition, r.offset) for r in consumer}
        consumer.close()
        stored = {r[0] for r in self.engine.rows(f"SELECT event_id FROM {DATABASE}.raw_events")}
        missing = sorted((where, e) for e, where in on_topic.items() if e not in stored)
        progress = self.engine.rows(
            "SELECT topic, partition, argMax(epoch, version), argMax(offset, version), "
            f"max(stored_at) FROM {DATABASE}.partition_progress "
            "GROUP BY topic, partition ORDER BY topic, partition"
        )
        log = (self.tmp / "worker.log").read_text(errors="replace")
        warnings = [line[-400:] for line in log.splitlines() if '"level":"info"' not in line]
        return (
            f"stored progress {progress}; "
            f"{len(on_topic)} events on the topic, {len(missing)} not in raw_events: "
            f"{missing[:20]}\n"
            "worker log:\n" + "\n".join(warnings[-40:])
        )

    def csv(self, start: datetime, end: datetime, by: UnitKind) -> list[str]:
        rows = report_rows(self.engine, start, end, by, working_calendar(self.settings))
        return _csv(rows)


def _csv(rows) -> list[str]:
    import io

    out = io.StringIO()
    write_csv(rows, out)
    return out.getvalue().splitlines()


def _events_as_lines(events) -> list[str]:
    return [e.model_dump_json(exclude_none=True) for e in events]


def test_hand_worked_history_lands_with_the_expected_numbers(pipeline: Pipeline) -> None:
    pipeline.replay(LINES)
    assert pipeline.csv(MAY, JUNE, UnitKind.AGENCY) == [",".join(CSV_COLUMNS), *EXPECTED]
    facts = pipeline.engine.rows(
        f"SELECT dossier_id, final_standing FROM {DATABASE}.dossier_facts FINAL ORDER BY dossier_id"
    )
    assert facts == [
        ("H44.07-260529-0001", ""),
        ("H44.100-260428-0001", "on_time"),
        ("H44.100-260504-0001", "early"),
    ]
    # the worker's Prometheus endpoint counted the five valid events
    with urlopen(f"http://127.0.0.1:{pipeline.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'motcua_events_total{outcome="new"} 5.0' in text
    assert 'motcua_events_total{outcome="dead_letter"} 0.0' in text
    assert "motcua_sink_batch_seconds_count" in text


def test_the_leader_drops_finished_dossiers_from_open_dossiers(pipeline: Pipeline) -> None:
    """Of the hand-worked history's three dossiers only H44.07-260529-0001 is
    unfinished: with a 1 s cleanup interval, that is all open_dossiers keeps.

    The cleanup is an ALTER: production's writer is granted it on this one
    table (deploy/clickhouse/users.sql), but an 18.16 profile can only allow
    all DDL or none, so here the worker connects as the administrator."""
    pipeline.stop_worker()
    user, password = pipeline.clickhouse.credentials("admin")
    admin = {"MOTCUA_CLICKHOUSE_WRITER_USER": user, "MOTCUA_CLICKHOUSE_WRITER_PASSWORD": password}
    pipeline.start_worker(MOTCUA_OPEN_CLEANUP_INTERVAL="1", **admin)
    pipeline.replay(LINES)
    sql = f"SELECT DISTINCT dossier_id FROM {DATABASE}.open_dossiers ORDER BY dossier_id"
    deadline = time.monotonic() + 60
    while (left := pipeline.engine.rows(sql)) != [("H44.07-260529-0001",)]:
        if time.monotonic() > deadline:
            log = (pipeline.tmp / "worker.log").read_text(errors="replace").splitlines()
            why = [line for line in log if "open_dossiers" in line][-3:]
            raise AssertionError(f"open_dossiers still holds {left}; worker log: {why}")
        time.sleep(0.5)
    assert pipeline.csv(MAY, JUNE, UnitKind.AGENCY) == [",".join(CSV_COLUMNS), *EXPECTED]


def test_a_restarted_worker_judges_with_the_stored_history(pipeline: Pipeline) -> None:
    p = pipeline
    p.replay([LINES[0]], "receipt.jsonl")  # dossier A received
    p.stop_worker()
    shutil.rmtree(p.settings.data_dir, ignore_errors=True)  # nothing local survives
    p.start_worker()
    p.replay([LINES[1]], "resolution.jsonl")  # resolved: judged with the stored receipt
    rows = p.engine.rows(f"SELECT final_standing FROM {DATABASE}.dossier_facts FINAL")
    assert rows == [("early",)]


def test_duplicates_and_shuffling_give_identical_reports(pipeline: Pipeline) -> None:
    events = random_province(seed=3, dossiers=250, start=datetime(2026, 3, 2, tzinfo=TZ))
    rnd = random.Random(5)
    noisy = events + rnd.sample(events, k=len(events) // 10)
    rnd.shuffle(noisy)
    pipeline.replay(_events_as_lines(noisy[: len(noisy) // 2]), "first.jsonl")
    pipeline.replay(_events_as_lines(noisy[len(noisy) // 2 :]), "second.jsonl")
    cal = working_calendar(pipeline.settings)
    for start, end in [
        (datetime(2026, 4, 1, tzinfo=TZ), datetime(2026, 5, 1, tzinfo=TZ)),
        (MAY, JUNE),
    ]:
        for by in (UnitKind.AGENCY, UnitKind.FIELD, UnitKind.PROVINCE):
            expected = period_report(states_at(events, end, cal), start, end, by, cal)
            assert pipeline.csv(start, end, by) == _csv(expected), (start, by)


def test_malformed_messages_go_to_dead_letters_and_the_rest_flows(pipeline: Pipeline) -> None:
    good = LINES[0], LINES[1]
    rejected = pipeline.replay(
        [
            good[0],
            '{"event_id": "z", "SoDienThoai": "0987654321", "type": ',
            good[1],
            {"event_id": "q", "dossier_id": "D", "type": "approved", "at": "2026-05-05T08:00:00"},
        ],
    )
    assert rejected == 2
    # the worker keeps going: the good dossier is stored, finished early
    assert pipeline.engine.rows(f"SELECT final_standing FROM {DATABASE}.dossier_facts FINAL") == [
        ("early",)
    ]
    letters = _wait_rows(
        pipeline.engine,
        f"SELECT dead_letter_id, reason, original FROM "
        f"{DATABASE}.dead_letters FINAL ORDER BY dead_letter_id",
        2,
    )
    assert [lid for lid, _, _ in letters] == ["replay:events.jsonl:2", "replay:events.jsonl:4"]
    assert letters[0][1].startswith("not valid JSON")
    assert letters[1][1].startswith("type: Input should be")
    assert "0987654321" not in repr(letters)


def test_clickhouse_down_mid_stream_loses_nothing(pipeline: Pipeline) -> None:
    events = random_province(seed=8, dossiers=200, start=datetime(2026, 3, 2, tzinfo=TZ))
    half = len(events) // 2
    pipeline.replay(_events_as_lines(events[:half]), "first.jsonl")
    pipeline.clickhouse.stop()
    producer = BulkProducer(pipeline.settings)
    path = pipeline.tmp / "second.jsonl"
    path.write_text("\n".join(_events_as_lines(events[half:])) + "\n", encoding="utf-8")
    result = replay_files([path], pipeline.settings, producer)  # the broker still takes them
    producer.close()
    time.sleep(3)  # the worker retries meanwhile
    pipeline.clickhouse.start()
    engine = pipeline.clickhouse.engine()
    wait_until_stored(engine, pipeline.settings, result.offsets, 120)
    pipeline.engine = engine
    cal = working_calendar(pipeline.settings)
    end = datetime(2026, 7, 1, tzinfo=TZ)
    expected = period_report(
        states_at(events, end, cal), datetime(2026, 3, 1, tzinfo=TZ), end, UnitKind.AGENCY, cal
    )
    assert pipeline.csv(datetime(2026, 3, 1, tzinfo=TZ), end, UnitKind.AGENCY) == _csv(expected)
    assert engine.rows(f"SELECT count() FROM {DATABASE}.raw_events FINAL") == [(len(events),)]


def test_recompute_reproduces_the_stream(pipeline: Pipeline) -> None:
    events = random_province(seed=9, dossiers=150, start=datetime(2026, 3, 2, tzinfo=TZ))
    pipeline.replay(_events_as_lines(events))
    columns = "dossier_id, received_at, due, end_at, final_standing, change_at, change_standing"
    query = f"SELECT {columns} FROM {DATABASE}.dossier_facts FINAL ORDER BY dossier_id"
    streamed = pipeline.engine.rows(query)
    before = pipeline.csv(MAY, JUNE, UnitKind.DISTRICT)
    written = recompute_facts(
        pipeline.engine,
        datetime(2026, 1, 1, tzinfo=TZ),
        datetime(2027, 1, 1, tzinfo=TZ),
        working_calendar(pipeline.settings),
    )
    assert written == 150
    versions = pipeline.engine.rows(
        f"SELECT uniqExact(updated_at) FROM {DATABASE}.dossier_facts FINAL"
    )
    assert versions == [(1,)]  # every row is now the recomputed one
    assert pipeline.engine.rows(query) == streamed
    assert pipeline.csv(MAY, JUNE, UnitKind.DISTRICT) == before


def test_no_personal_data_in_any_table_or_topic(pipeline: Pipeline) -> None:
    planted = {
        "ChuHoSo": "PLANTED-NAME",
        "SoDienThoai": "0900000001",
        "Email": "planted@example.vn",
        "DiaChi": "PLANTED-ADDRESS",
        "NgaySinh": "1990-01-01-PLANTED",
        "MaDoiTuong": "PLANTED-ID-001",
    }
    lines = [
        {**LINES[0], **planted},
        {**LINES[1], "applicant": {"phone": "0900000002"}},
        '{"event_id": "b", "ChuHoSo": "PLANTED-NAME", "DiaChi": "PLANTED-ADDRESS", ',
    ]
    pipeline.replay(lines)
    _wait_rows(pipeline.engine, f"SELECT * FROM {DATABASE}.dead_letters", 1)
    dump = ""
    for (table,) in pipeline.engine.rows(f"SHOW TABLES FROM {DATABASE}"):
        dump += repr(pipeline.engine.rows(f"SELECT * FROM {DATABASE}.{table}"))
    consumer = KafkaConsumer(
        bootstrap_servers=pipeline.settings.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
        group_id=None,
    )
    topics = [
        t
        for t in consumer.topics()
        if pipeline.settings.app_id in t
        or t in (pipeline.settings.events_topic, pipeline.settings.dead_letter_topic)
    ]
    consumer.subscribe(topics)
    messages = [m.value for m in consumer]
    consumer.close()
    assert len(messages) >= 3
    dump += repr(messages)
    assert "PLANTED" not in dump and "planted" not in dump
    assert "0900000001" not in dump and "0900000002" not in dump


def _wait_rows(engine, sql: str, count: int, timeout: float = 60) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        rows = engine.rows(sql)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_kill_9_mid_replay_then_restart_gives_the_same_report(pipeline: Pipeline) -> None:
    import signal

    events = random_province(seed=13, dossiers=400, start=datetime(2026, 3, 2, tzinfo=TZ))
    path = pipeline.tmp / "all.jsonl"
    path.write_text("\n".join(_events_as_lines(events)) + "\n", encoding="utf-8")
    # small batches so the kill lands between stored batches
    pipeline.settings = pipeline.settings.model_copy(update={"batch_max_events": 50})
    pipeline.stop_worker()
    pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="50")
    producer = BulkProducer(pipeline.settings)
    result = replay_files([path], pipeline.settings, producer)
    producer.close()
    deadline = time.monotonic() + 60
    while not pipeline.engine.rows(f"SELECT count() FROM {DATABASE}.partition_progress")[0][0]:
        assert time.monotonic() < deadline, "worker stored nothing"
        time.sleep(0.05)
    pipeline.worker.send_signal(signal.SIGKILL)  # mid-replay, no goodbye
    pipeline.worker.wait()
    pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="50")
    wait_until_stored(pipeline.engine, pipeline.settings, result.offsets, 120)
    cal = working_calendar(pipeline.settings)
    for start, end in [
        (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ)),
        (MAY, JUNE),
    ]:
        expected = period_report(states_at(events, end, cal), start, end, UnitKind.AGENCY, cal)
        assert pipeline.csv(start, end, UnitKind.AGENCY) == _csv(expected)
    stored = pipeline.engine.rows(f"SELECT count() FROM {DATABASE}.raw_events FINAL")
    assert stored == [(len(events),)]
