"""Fault injection on the real pipeline (DESIGN.md "Reliability and safety targets").

`make test` runs the quick variant; `make faults` sets MOTCUA_FAULTS=full
(more dossiers, several kills at random points, ClickHouse down for a
minute, thousands of fuzzed messages) and writes a report to
bench/results/faults-latest.md. Each scenario ends with the pipeline's
report compared with the offline report of the same events.
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.offline import states_at
from reports.period import UnitKind, period_report
from streams.engines import DriverEngine
from streams.replay import make_producer, replay_files, stored_offsets, wait_until_stored
from streams.store import DATABASE
from tests.histories import TZ, random_province
from tests.integration.test_pipeline import Pipeline, _csv, _events_as_lines

pytestmark = pytest.mark.integration
FULL = os.environ.get("MOTCUA_FAULTS") == "full"
SCALE = {
    "dossiers": 3000 if FULL else 300,
    "kills": 5 if FULL else 2,
    "clickhouse_down": 60.0 if FULL else 3.0,
    "fuzz": 3000 if FULL else 300,
}
REPORT = Path(__file__).resolve().parents[2] / "bench" / "results" / "faults-latest.md"
PERIODS = [
    (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ)),
    (datetime(2026, 4, 1, tzinfo=TZ), datetime(2026, 7, 1, tzinfo=TZ)),
]
RESULTS: list[tuple[str, int, bool]] = []


@pytest.fixture
def pipeline(broker, clickhouse, tmp_path):
    p = Pipeline(broker, clickhouse, tmp_path)
    yield p
    p.stop_worker()


def _publish(pipeline: Pipeline, lines: list[str], name: str) -> dict[int, int]:
    path = pipeline.tmp / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    producer = make_producer(pipeline.settings)
    result = replay_files([path], pipeline.settings, producer)
    producer.close()
    return result.offsets


def _reports_match(pipeline: Pipeline, events) -> bool:
    cal = pipeline.settings.calendar
    for start, end in PERIODS:
        for by in (UnitKind.AGENCY, UnitKind.FIELD):
            expected = period_report(states_at(events, end, cal), start, end, by, cal)
            if pipeline.csv(start, end, by) != _csv(expected):
                return False
    stored = pipeline.engine.rows(f"SELECT count() FROM {DATABASE}.raw_events FINAL")
    return stored == [(len({e.event_id for e in events}),)]


def _record(name: str, injected: int, matched: bool) -> None:
    RESULTS.append((name, injected, matched))
    if FULL:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        lines = ["| fault | injected | final reports identical |", "|---|---|---|"]
        lines += [f"| {n} | {i} | {'yes' if m else 'NO'} |" for n, i, m in RESULTS]
        REPORT.write_text(
            f"# Fault run ({SCALE['dossiers']} dossiers)\n\n" + "\n".join(lines) + "\n"
        )
    assert matched, name


def test_kill_9_at_random_points(pipeline: Pipeline) -> None:
    events = random_province(
        seed=31, dossiers=SCALE["dossiers"], start=datetime(2026, 3, 2, tzinfo=TZ)
    )
    pipeline.stop_worker()
    pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="100")
    offsets = _publish(pipeline, _events_as_lines(events), "all.jsonl")
    rnd = random.Random(7)
    total = sum(o + 1 for o in offsets.values())
    for _ in range(SCALE["kills"]):
        target = rnd.randrange(total // 10, total)  # kill once this many are stored
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stored = stored_offsets(pipeline.engine, pipeline.settings.events_topic)
            if sum(o + 1 for o in stored.values()) >= target or pipeline.worker.poll() is not None:
                break
            time.sleep(0.02)
        pipeline.worker.send_signal(signal.SIGKILL)
        pipeline.worker.wait()
        pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="100")
    wait_until_stored(pipeline.engine, pipeline.settings, offsets, 300)
    _record(
        "kill -9 of the worker mid-replay, then restart",
        SCALE["kills"],
        _reports_match(pipeline, events),
    )


def test_clickhouse_down_mid_run(pipeline: Pipeline) -> None:
    events = random_province(
        seed=32, dossiers=SCALE["dossiers"], start=datetime(2026, 3, 2, tzinfo=TZ)
    )
    lines = _events_as_lines(events)
    first = _publish(pipeline, lines[: len(lines) // 3], "first.jsonl")
    wait_until_stored(pipeline.engine, pipeline.settings, first, 120)
    pipeline.clickhouse.stop()
    offsets = _publish(pipeline, lines[len(lines) // 3 :], "rest.jsonl")
    time.sleep(SCALE["clickhouse_down"])
    pipeline.clickhouse.start()
    pipeline.engine = DriverEngine(pipeline.clickhouse.host, pipeline.clickhouse.tcp_port)
    wait_until_stored(pipeline.engine, pipeline.settings, offsets, 300)
    _record(
        f"ClickHouse stopped for {SCALE['clickhouse_down']:.0f} s",
        1,
        _reports_match(pipeline, events),
    )


def test_duplicated_and_reordered_within_an_hour(pipeline: Pipeline) -> None:
    events = random_province(
        seed=33, dossiers=SCALE["dossiers"], start=datetime(2026, 3, 2, tzinfo=TZ)
    )
    rnd = random.Random(3)
    noisy = events + rnd.sample(events, k=len(events) // 10)  # 10% duplicated
    # reordered within an hour: sort by a time jittered by up to an hour
    noisy.sort(key=lambda e: e.at + timedelta(seconds=rnd.randrange(3600)))
    offsets = _publish(pipeline, _events_as_lines(noisy), "noisy.jsonl")
    wait_until_stored(pipeline.engine, pipeline.settings, offsets, 300)
    _record(
        "10% duplicated, reordered within an hour",
        len(noisy) - len(events),
        _reports_match(pipeline, events),
    )


_junk = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=30)),
        max_size=6,
    ).map(orjson.dumps),
    st.fixed_dictionaries(
        {
            "event_id": st.text(max_size=300),
            "dossier_id": st.text(max_size=30),
            "type": st.sampled_from(["received", "resolved", "approved", ""]),
            "at": st.one_of(st.text(max_size=30), st.just("2999-01-01T00:00:00")),
            "ChuHoSo": st.just("PLANTED-FUZZ"),
        }
    ).map(orjson.dumps),
)


def test_fuzzed_messages_all_land_in_dead_letters(pipeline: Pipeline) -> None:
    messages: list[bytes] = []

    @settings(
        max_examples=SCALE["fuzz"],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_junk)
    def collect(raw: bytes) -> None:
        messages.append(raw)

    collect()
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=pipeline.settings.bootstrap_servers, acks="all")
    offsets: dict[int, int] = {}
    futures = [
        producer.send(pipeline.settings.events_topic, key=b"fuzz", value=m) for m in messages
    ]
    producer.flush()
    for f in futures:
        meta = f.get(timeout=30)
        offsets[meta.partition] = max(offsets.get(meta.partition, -1), meta.offset)
    producer.close()
    good = _events_as_lines(
        random_province(seed=34, dossiers=20, start=datetime(2026, 3, 2, tzinfo=TZ))
    )
    offsets_good = _publish(pipeline, good, "good.jsonl")
    wait_until_stored(pipeline.engine, pipeline.settings, offsets, 300)
    wait_until_stored(pipeline.engine, pipeline.settings, offsets_good, 300)
    assert pipeline.worker.poll() is None  # no crash
    deadline = time.monotonic() + 120
    letters = 0
    while time.monotonic() < deadline:
        letters = pipeline.engine.rows(
            f"SELECT count() FROM {DATABASE}.dead_letters FINAL "
            f"WHERE dead_letter_id LIKE '{pipeline.settings.events_topic}:%'"
        )[0][0]
        if letters >= len(messages):
            break
        time.sleep(0.5)
    dump = repr(pipeline.engine.rows(f"SELECT original, reason FROM {DATABASE}.dead_letters"))
    stored_good = pipeline.engine.rows(
        f"SELECT count() FROM {DATABASE}.raw_events FINAL WHERE dossier_id LIKE 'H44-34-%'"
    )
    matched = letters == len(messages) and "PLANTED" not in dump
    assert stored_good == [(len(good),)]  # the good ones around the junk still flow
    _record("fuzzed malformed messages (all dead-lettered, no crash)", len(messages), matched)
