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
from schemas.events import DossierEvent
from streams.clickhouse.sql import DATABASE
from streams.progress import stored_offsets, wait_until_stored
from streams.rules.calendar import working_calendar
from streams.rules.facts import dossier_facts
from streams.rules.period import UnitKind, period_report
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
RUNS = REPORT.with_name("faults-runs.jsonl")  # every run since `make faults` began
PERIODS = [
    (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ)),
    (datetime(2026, 4, 1, tzinfo=TZ), datetime(2026, 7, 1, tzinfo=TZ)),
]


@pytest.fixture
def pipeline(broker, clickhouse, tmp_path):
    p = Pipeline(broker, clickhouse, tmp_path)
    yield p
    p.stop_worker()


def _reports_match(pipeline: Pipeline, events) -> tuple[bool, str]:
    """(reports identical, and if not: where the stored state differs per dossier)."""
    cal = working_calendar(pipeline.settings)
    differing = []
    for start, end in PERIODS:
        for by in (UnitKind.AGENCY, UnitKind.FIELD):
            expected = period_report(states_at(events, end, cal), start, end, by, cal)
            if pipeline.csv(start, end, by) != _csv(expected):
                differing.append(f"{start:%Y-%m} by {by.value}")
    stored = pipeline.engine.rows(f"SELECT count() FROM {DATABASE}.raw_events FINAL")
    if stored != [(len({e.event_id for e in events}),)]:
        differing.append(f"raw_events holds {stored[0][0]} of {len(events)} events")
    if not differing:
        return True, ""
    return False, "reports differ: " + "; ".join(differing) + "\n\n" + _dossier_diff(
        pipeline, events
    )


def _dossier_diff(pipeline: Pipeline, events, limit: int = 20) -> str:
    """Per dossier: the events each side has, and the stored facts against the
    fold of the stored raw events (which side lost what)."""
    cal = working_calendar(pipeline.settings)
    sent: dict[str, set[str]] = {}
    for e in events:
        sent.setdefault(e.dossier_id, set()).add(e.event_id)
    stored: dict[str, list] = {}
    for dossier_id, payload in pipeline.engine.rows(
        f"SELECT dossier_id, payload FROM {DATABASE}.raw_events FINAL"
    ):
        stored.setdefault(dossier_id, []).append(DossierEvent.model_validate_json(payload))
    facts = {
        r[0]: r[1:]
        for r in pipeline.engine.rows(
            f"SELECT dossier_id, toString(end_at), final_standing, toUInt32(version >> 32) "
            f"FROM {DATABASE}.dossier_facts FINAL"
        )
    }
    lines = []
    for dossier_id in sorted(sent):
        have = {e.event_id for e in stored.get(dossier_id, [])}
        folded = dossier_facts(stored.get(dossier_id, []), cal)
        fact = facts.get(dossier_id)
        count_ok = fact is not None and folded is not None and fact[2] == folded.event_count
        if have == sent[dossier_id] and count_ok:
            continue
        lines.append(
            f"- {dossier_id}: sent {len(sent[dossier_id])} events, raw_events "
            f"{len(have)} (missing {sorted(sent[dossier_id] - have)}); facts {fact} "
            f"judged on {None if folded is None else folded.event_count} stored events"
        )
    if not lines:
        return "every dossier's raw events and facts agree with what was sent"
    return f"{len(lines)} dossiers differ:\n" + "\n".join(lines[:limit])


def _record(name: str, injected: int, result: tuple[bool, str]) -> None:
    matched, diff = result
    if FULL:
        run = {
            "run": os.environ.get("MOTCUA_FAULTS_RUN", "1"),
            "at": datetime.now().isoformat(timespec="seconds"),
            "fault": name,
            "injected": injected,
            "identical": matched,
            "diff": diff,
        }
        with RUNS.open("a", encoding="utf-8") as out:
            out.write(orjson.dumps(run).decode() + "\n")
        _write_report()
    assert matched, f"{name}\n{diff}"


def _write_report() -> None:
    runs = [orjson.loads(line) for line in RUNS.read_text(encoding="utf-8").splitlines()]
    green = {r["run"] for r in runs} - {r["run"] for r in runs if not r["identical"]}
    lines = [
        f"# Fault runs ({SCALE['dossiers']} dossiers, {SCALE['kills']} kills a run, "
        f"ClickHouse down {SCALE['clickhouse_down']:.0f} s, {SCALE['fuzz']} fuzzed messages)",
        "",
        f"{len(green)} of {len({r['run'] for r in runs})} runs with every final report identical.",
        "",
        "| run | at | fault | injected | final reports identical |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['run']} | {r['at']} | {r['fault']} | {r['injected']} | "
        f"{'yes' if r['identical'] else 'NO'} |"
        for r in runs
    ]
    for r in runs:
        if not r["identical"]:
            lines += ["", f"## Run {r['run']}: {r['fault']}", "", r["diff"]]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_kill_9_at_random_points(pipeline: Pipeline) -> None:
    events = random_province(
        seed=31, dossiers=SCALE["dossiers"], start=datetime(2026, 3, 2, tzinfo=TZ)
    )
    pipeline.stop_worker()
    pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="100")
    offsets = pipeline.publish(_events_as_lines(events), "all.jsonl").offsets
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
    first = pipeline.publish(lines[: len(lines) // 3], "first.jsonl").offsets
    wait_until_stored(pipeline.engine, pipeline.settings, first, 120)
    pipeline.clickhouse.stop()
    offsets = pipeline.publish(lines[len(lines) // 3 :], "rest.jsonl").offsets
    time.sleep(SCALE["clickhouse_down"])
    # an outage is waited out (writes and the reads a batch needs retry), not a crash
    assert pipeline.worker.poll() is None, "the worker exited while ClickHouse was down"
    pipeline.clickhouse.start()
    pipeline.engine = pipeline.clickhouse.engine()
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
    offsets = pipeline.publish(_events_as_lines(noisy), "noisy.jsonl").offsets
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
    offsets_good = pipeline.publish(good, "good.jsonl").offsets
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
    diff = "" if matched else f"{letters} of {len(messages)} dead-lettered; planted text stored"
    _record(
        "fuzzed malformed messages (all dead-lettered, no crash)", len(messages), (matched, diff)
    )


def test_rebalances_while_replaying(pipeline: Pipeline) -> None:
    """A second worker joins mid-replay, then the first leaves: partitions move
    twice while batches are in flight (fencing, positions re-read on assignment)."""
    events = random_province(
        seed=35, dossiers=SCALE["dossiers"], start=datetime(2026, 3, 2, tzinfo=TZ)
    )
    lines = _events_as_lines(events)
    thirds = [lines[: len(lines) // 3], lines[len(lines) // 3 : 2 * len(lines) // 3]]
    thirds.append(lines[2 * len(lines) // 3 :])
    pipeline.stop_worker()
    pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="50")
    first = pipeline.worker
    offsets = pipeline.publish(thirds[0], "first.jsonl").offsets
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the first worker is storing
        if stored_offsets(pipeline.engine, pipeline.settings.events_topic):
            break
        time.sleep(0.05)
    # joins: the group rebalances (its own metrics port: the first holds the test's)
    pipeline.start_worker(MOTCUA_BATCH_MAX_EVENTS="50", MOTCUA_METRICS_PORT="0")
    second = pipeline.worker
    offsets |= pipeline.publish(thirds[1], "second.jsonl").offsets  # while the group rebalances
    time.sleep(8)  # the second worker's join (about half the 10 s session timeout)
    offsets |= pipeline.publish(thirds[2], "third.jsonl").offsets  # later offsets: higher
    pipeline.worker = first
    pipeline.stop_worker()  # leaves while the last third is read: its partitions move
    pipeline.worker = second
    wait_until_stored(pipeline.engine, pipeline.settings, offsets, 300)
    assert second.poll() is None  # the second worker carried on alone
    _record(
        "a worker joins, then another leaves, mid-replay",
        2,
        _reports_match(pipeline, events),
    )
