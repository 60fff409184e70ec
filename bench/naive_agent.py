"""(b) of the throughput benchmark: the faust agent a user would write first.

One event at a time: parse, keep the dossier's history in a table, re-judge,
and insert the dossier's facts and the raw event into ClickHouse right away.
Same rules and tables as the real worker; none of its batching.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import faust

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.events import InvalidEvent, parse_event
from schemas.settings import Settings
from streams.clickhouse.engines import DriverEngine
from streams.clickhouse.queries import insert_facts
from streams.clickhouse.rows import RAW_EVENT_COLUMNS, fact_row, raw_event_row
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import working_calendar
from streams.rules.facts import dossier_facts
from streams.rules.processor import decode_history, encode_history

settings = Settings()
app = faust.App(
    settings.app_id,
    broker=f"kafka://{settings.bootstrap_servers}",
    store="memory://",
    topic_partitions=settings.topic_partitions,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=10,
    broker_rebalance_timeout=10,
    web_enabled=False,
    datadir=str(settings.data_dir),
)
topic = app.topic(settings.events_topic, key_serializer="raw", value_serializer="raw")
table = app.Table(
    "naive-dossiers",
    default=None,
    partitions=settings.topic_partitions,
    schema=faust.Schema(
        key_type=str, value_type=bytes, key_serializer="raw", value_serializer="raw"
    ),
)
engine = DriverEngine(
    settings.clickhouse_host,
    settings.clickhouse_port,
    settings.clickhouse_writer_user,
    settings.clickhouse_writer_password.get_secret_value(),
)


@app.agent(topic)
async def process(stream: faust.StreamT) -> None:
    async for value in stream:
        try:
            event = parse_event(value)
        except InvalidEvent:
            continue
        history = decode_history(table.get(event.dossier_id))
        if all(e.event_id != event.event_id for e in history):
            history.append(event)
        table[event.dossier_id] = encode_history(history)
        now = datetime.now(UTC)
        facts = dossier_facts(history, working_calendar(settings))
        if facts is not None:
            insert_facts(engine, [fact_row(facts, now)])
        engine.insert(f"{DATABASE}.raw_events", RAW_EVENT_COLUMNS, [raw_event_row(event, now)])


if __name__ == "__main__":
    app.main()
