"""`motcua run` twice without `make clean`: a fresh broker each time, the
same ClickHouse data. Nothing on the second broker may be skipped, and every
dossier continued there must be judged with its whole history."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer

from motcua.live import LocalRun, local_run
from schemas.events import DossierEvent
from schemas.settings import Settings
from streams.clickhouse.rows import FACT_COLUMNS, fact_row
from streams.clickhouse.sql import DATABASE
from streams.progress import wait_until_stored
from streams.rules.calendar import working_calendar
from streams.rules.facts import dossier_facts

pytestmark = pytest.mark.integration
COMPARED = [c for c in FACT_COLUMNS if c not in ("version", "updated_at")]


@pytest.fixture
def quick_groups(monkeypatch) -> Iterator[None]:
    # the worker process reads these: a group join takes about half the session timeout
    monkeypatch.setenv("MOTCUA_BROKER_SESSION_TIMEOUT", "10")
    monkeypatch.setenv("MOTCUA_BROKER_REBALANCE_TIMEOUT", "10")
    monkeypatch.setenv("MOTCUA_WATCH_INTERVAL", "3600")
    yield


def _feed_and_store(run: LocalRun, events: int, stop: bool) -> dict[int, int]:
    deadline = time.monotonic() + 120
    while run.published < events and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.published >= events, "the simulated province published too little"
    if stop:
        run.stop.set()
        time.sleep(1.0)  # the feeder flushes and stops
    acked = dict(run.acknowledged)
    wait_until_stored(run.engine, run.settings, acked, 180)
    return acked


def _topic_event_ids(run: LocalRun) -> set[str]:
    consumer = KafkaConsumer(
        run.settings.events_topic,
        bootstrap_servers=run.settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=5000,
    )
    ids = {json.loads(r.value)["event_id"] for r in consumer}
    consumer.close()
    return ids


def _facts_from_raw_events_match(run: LocalRun) -> None:
    """Every dossier's stored facts equal the fold of all its stored events."""
    engine = run.engine
    histories: dict[str, list[DossierEvent]] = {}
    for dossier_id, payload in engine.rows(
        f"SELECT dossier_id, payload FROM {DATABASE}.raw_events FINAL"
    ):
        histories.setdefault(dossier_id, []).append(DossierEvent.model_validate_json(payload))
    now = datetime.now(UTC)
    rows = [
        fact_row(f, now)
        for h in histories.values()
        if (f := dossier_facts(h, working_calendar(run.settings)))
    ]
    engine.command(f"DROP TABLE IF EXISTS {DATABASE}.facts_check")
    engine.command(f"CREATE TABLE {DATABASE}.facts_check AS {DATABASE}.dossier_facts")
    engine.insert(f"{DATABASE}.facts_check", FACT_COLUMNS, rows)
    columns = ", ".join(COMPARED)
    stored = engine.rows(
        f"SELECT {columns} FROM {DATABASE}.dossier_facts FINAL ORDER BY dossier_id"
    )
    folded = engine.rows(f"SELECT {columns} FROM {DATABASE}.facts_check ORDER BY dossier_id")
    assert len(stored) == len(folded) > 0
    wrong = [a[0] for a, b in zip(stored, folded, strict=True) if a != b]
    assert not wrong, f"{len(wrong)} dossiers judged without their whole history: {wrong[:5]}"


def test_the_local_default_restarted_without_clean_keeps_every_event(
    tmp_path, quick_groups
) -> None:
    data = tmp_path / "data"
    settings = Settings(topic_partitions=2)
    with local_run(settings, data, speed=3600.0, days_back=3) as run:
        first = _feed_and_store(run, events=300, stop=False)
    with local_run(settings, data, speed=3600.0, days_back=3) as run:
        # the second broker starts at offset 0 again: its offsets lie below the first's
        second = _feed_and_store(run, events=150, stop=True)
        assert any(second[p] < first.get(p, -1) for p in second)
        on_topic = _topic_event_ids(run)
        stored = {r[0] for r in run.engine.rows(f"SELECT event_id FROM {DATABASE}.raw_events")}
        assert on_topic and not (on_topic - stored), "events on the new broker not stored"
        _facts_from_raw_events_match(run)
    log = (data / "worker.log").read_text(errors="replace")
    assert "not the one the stored progress belongs to" in log
