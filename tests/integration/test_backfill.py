"""`motcua backfill` (aiokafka batches outside faust's stream) against the same
rules and the same stored progress as the worker (DESIGN.md: "a test holds the
two paths equal"): a history whose first half is backfilled and whose second
half the worker stores gives exactly the offline report of the whole; a
backfill killed (-9) mid-way and run again loses and doubles nothing; a
message the backfill turns into a dead letter is stored before it stops.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from kafka import KafkaProducer

from streams.clickhouse.sql import DATABASE
from streams.progress import stored_offsets, wait_until_stored
from tests.histories import TZ, random_province
from tests.integration.test_lost_broker import _assert_whole_history, _halves
from tests.integration.test_pipeline import ROOT, Pipeline, _events_as_lines

pytestmark = pytest.mark.integration


def _backfill(pipeline: Pipeline, **env: str) -> subprocess.Popen:
    log = (pipeline.tmp / "backfill.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "motcua", "backfill"],
        cwd=ROOT,
        env=pipeline.env() | env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _finished(pipeline: Pipeline, proc: subprocess.Popen, timeout: float = 180) -> None:
    code = proc.wait(timeout=timeout)
    log = (pipeline.tmp / "backfill.log").read_text(errors="replace")
    assert code == 0, log[-3000:]


def test_a_history_backfilled_then_continued_by_the_worker_gives_the_whole_report(
    broker, clickhouse, tmp_path
) -> None:
    events, first, second = _halves(seed=51)
    pipeline = Pipeline(broker, clickhouse, tmp_path)
    pipeline.stop_worker()
    try:
        offsets = pipeline.publish(_events_as_lines(first), "first.jsonl").offsets
        # a valid event under another dossier's key: the rules refuse it, so the
        # backfill sends it to the dead-letter topic and must store it before stopping
        wrong_key = KafkaProducer(bootstrap_servers=pipeline.settings.bootstrap_servers)
        wrong_key.send(
            pipeline.settings.events_topic,
            key=b"H44-other",
            value=_events_as_lines(first)[0].encode(),
        ).get(timeout=30)
        wrong_key.close()
        _finished(pipeline, _backfill(pipeline))
        wait_until_stored(pipeline.engine, pipeline.settings, offsets, timeout=5)
        letters = pipeline.engine.rows(f"SELECT reason FROM {DATABASE}.dead_letters FINAL")
        assert len(letters) == 1 and "dossier_id" in letters[0][0]

        pipeline.start_worker()  # the same group: it resumes where the backfill stopped
        pipeline.replay(_events_as_lines(second), "second.jsonl")
        _assert_whole_history(pipeline, events)
    finally:
        pipeline.stop_worker()


def test_a_backfill_killed_mid_way_and_run_again_stores_everything_once(
    broker, clickhouse, tmp_path
) -> None:
    events = random_province(seed=52, dossiers=1500, start=datetime(2026, 3, 2, tzinfo=TZ))
    pipeline = Pipeline(broker, clickhouse, tmp_path)
    pipeline.stop_worker()
    small = {"MOTCUA_BACKFILL_BATCH_EVENTS": "300"}  # many batches: the kill lands between them
    offsets = pipeline.publish(_events_as_lines(events), "events.jsonl").offsets
    total = sum(o + 1 for o in offsets.values())
    proc = _backfill(pipeline, **small)
    deadline = time.monotonic() + 120
    while True:
        stored = sum(
            o + 1 for o in stored_offsets(pipeline.engine, pipeline.settings.events_topic).values()
        )
        if stored > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < stored < total, f"the kill came too late to test anything ({stored} of {total})"
    _finished(pipeline, _backfill(pipeline, **small))
    wait_until_stored(pipeline.engine, pipeline.settings, offsets, timeout=5)
    _assert_whole_history(pipeline, events)
