"""A broker lost between two halves of a history, ClickHouse kept (DESIGN.md:
"the broker or a topic lost or recreated while ClickHouse keeps its data").

The second half lands on a fresh broker whose offsets start again at 0,
below the progress stored for the first broker's log; the dossiers it
continues were judged on the first broker. The final reports must equal
the offline report of the whole history, computed without the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from reports.offline import states_at
from streams.clickhouse.sql import DATABASE
from streams.progress import stored_offsets
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind, period_report
from streams.services import Broker
from tests.histories import TZ, random_province
from tests.integration.test_pipeline import Pipeline, _csv, _events_as_lines

pytestmark = pytest.mark.integration
PERIODS = [
    (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ)),
    (datetime(2026, 4, 1, tzinfo=TZ), datetime(2026, 7, 1, tzinfo=TZ)),
]


@pytest.fixture
def own_broker(tmp_path) -> Iterator[Broker]:
    broker = Broker(tmp_path / "broker-1").start()
    yield broker
    broker.stop()


def _halves(seed: int):
    events = random_province(seed=seed, dossiers=200, start=datetime(2026, 3, 2, tzinfo=TZ))
    by_dossier: dict[str, list] = {}
    for e in sorted(events, key=lambda e: e.at):
        by_dossier.setdefault(e.dossier_id, []).append(e)
    # each dossier's earlier half before the broker is lost, the rest after it
    first = [e for h in by_dossier.values() for e in h[: (len(h) + 1) // 2]]
    second = [e for h in by_dossier.values() for e in h[(len(h) + 1) // 2 :]]
    spanning = {e.dossier_id for e in first} & {e.dossier_id for e in second}
    assert len(spanning) > 100  # the split cuts through most dossiers
    return events, first, second


def _assert_whole_history(pipeline: Pipeline, events) -> None:
    cal = working_calendar(pipeline.settings)
    for start, end in PERIODS:
        for by in (UnitKind.AGENCY, UnitKind.FIELD, UnitKind.PROVINCE):
            expected = period_report(states_at(events, end, cal), start, end, by, cal)
            got = pipeline.csv(start, end, by)
            assert got == _csv(expected), (start, by, pipeline.explain())
    stored = pipeline.engine.rows(f"SELECT count() FROM {DATABASE}.raw_events FINAL")
    assert stored == [(len({e.event_id for e in events}),)]


def _replace_broker(pipeline: Pipeline, old: Broker, tmp_path) -> Broker:
    pipeline.stop_worker()
    old.stop()
    new = Broker(tmp_path / "broker-2").start()
    pipeline.settings = pipeline.settings.model_copy(update={"bootstrap_servers": new.bootstrap})
    pipeline.start_worker()
    return new


def test_a_history_split_across_a_replaced_broker_gives_the_whole_report(
    own_broker: Broker, clickhouse, tmp_path
) -> None:
    events, first, second = _halves(seed=41)
    pipeline = Pipeline(own_broker, clickhouse, tmp_path)
    new = None
    try:
        pipeline.replay(_events_as_lines(first), "first.jsonl")
        before = stored_offsets(pipeline.engine, pipeline.settings.events_topic)
        new = _replace_broker(pipeline, own_broker, tmp_path)
        # second-a holds no more events than the least progress stored on any
        # partition, so every one of its offsets on the new log lies below the
        # first log's stored progress, wherever the partitioner puts them
        cut = min(before.values())
        assert 0 < cut < len(second)
        pipeline.replay(_events_as_lines(second[:cut]), "second-a.jsonl")
        pipeline.replay(_events_as_lines(second[cut:]), "second-b.jsonl")
        _assert_whole_history(pipeline, events)
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "not the one the stored progress belongs to" in log
        epochs = pipeline.engine.rows(
            f"SELECT partition, argMax(epoch, version) FROM {DATABASE}.partition_progress "
            f"WHERE topic = '{pipeline.settings.events_topic}' GROUP BY partition"
        )
        assert {p: e for p, e in epochs} == {p: 1 for p in before}
    finally:
        pipeline.stop_worker()
        if new is not None:
            new.stop()


def test_a_worker_restarted_on_the_same_broker_resumes_in_the_same_epoch(
    own_broker: Broker, clickhouse, tmp_path
) -> None:
    events, first, second = _halves(seed=42)
    pipeline = Pipeline(own_broker, clickhouse, tmp_path)
    try:
        pipeline.replay(_events_as_lines(first), "first.jsonl")
        pipeline.stop_worker()
        pipeline.start_worker()
        pipeline.replay(_events_as_lines(second), "second.jsonl")
        _assert_whole_history(pipeline, events)
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "not the one the stored progress belongs to" not in log
        epochs = pipeline.engine.rows(
            f"SELECT DISTINCT epoch FROM {DATABASE}.partition_progress FINAL"
        )
        assert epochs == [(0,)]
    finally:
        pipeline.stop_worker()
