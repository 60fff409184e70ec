"""ClickHouse down while a worker starts and reads what it needs (DESIGN.md:
"ClickHouse unavailable for a minute"): the worker waits for it, it does not
exit, and once ClickHouse is back every event is stored and every dossier
judged on its whole history.

A restarted worker has no cached histories, so its first batch must read the
stored positions and the continued dossiers' histories from ClickHouse: the
reads a batch cannot do without. Before they were retried like writes, the
worker exited here and stored nothing more.
"""

from __future__ import annotations

import re
import time

import pytest

from ingest.replay import replay_files
from streams.kafka.bulk import BulkProducer
from streams.progress import wait_until_stored
from tests.integration.test_lost_broker import _assert_whole_history, _halves
from tests.integration.test_pipeline import Pipeline, _events_as_lines

pytestmark = pytest.mark.integration


def test_a_worker_started_during_an_outage_waits_and_then_stores_everything(
    broker, clickhouse, tmp_path
) -> None:
    events, first, second = _halves(seed=43)
    pipeline = Pipeline(broker, clickhouse, tmp_path)
    try:
        pipeline.replay(_events_as_lines(first), "first.jsonl")
        pipeline.stop_worker()
        pipeline.start_worker(MOTCUA_LOG_LEVEL="INFO")  # migrates, joins, reads nothing yet
        log = tmp_path / "worker.log"
        deadline = time.monotonic() + 60
        assigned = re.compile(r"partitions assigned: [^\n]*" + pipeline.settings.events_topic)
        while not assigned.search(log.read_text(errors="replace")):
            assert time.monotonic() < deadline, "the worker was not assigned its partitions"
            time.sleep(0.2)
        clickhouse.stop()
        try:
            path = tmp_path / "second.jsonl"
            path.write_text("\n".join(_events_as_lines(second)) + "\n", encoding="utf-8")
            producer = BulkProducer(pipeline.settings)
            offsets = replay_files([path], pipeline.settings, producer).offsets
            producer.close()
            time.sleep(8)  # the worker has read the batch and found ClickHouse down
            assert pipeline.worker.poll() is None, "the worker exited during the outage"
        finally:
            clickhouse.start()
        pipeline.engine = clickhouse.engine()
        wait_until_stored(pipeline.engine, pipeline.settings, offsets, 120)
        _assert_whole_history(pipeline, events)
        assert "clickhouse write or read failed" in log.read_text(
            errors="replace"
        )  # it met the outage
    finally:
        pipeline.stop_worker()
