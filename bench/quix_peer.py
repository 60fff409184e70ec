"""The worker's stateful job written as a quix-streams user would write it
(bench/peers.py's peer (d); not part of the product).

    python bench/quix_peer.py --bootstrap HOST:PORT --topic EVENTS --group GROUP \\
        --clickhouse HOST:PORT --state-dir DIR

An `Application` reads the events topic (JSON values keyed by dossier_id); a
stateful `apply` keeps each dossier's history in quix's State (RocksDB, with
its changelog topic unless `--no-changelog`) in our codec
(`streams.rules.processor.encode_history`); per message it validates with
`parse_event`, folds the whole history with `dossier_facts` and passes on the
message's raw-event row and the dossier's fact row; a `BatchingSink` stores
them into ClickHouse with our encoders and `insert_facts` at every checkpoint
(every `--commit-every` messages or `--commit-interval` s, per partition, as
BatchingSink gives them). The same work as `motcua worker`: validate, keep
the history, fold, store facts + raw events (+ dead letters).

quixstreams pins pydantic<2.14 and so is not in the project's extras;
bench/README.md has the install line.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    from quixstreams import Application, State, message_context
    from quixstreams.sinks import BatchingSink, SinkBatch
except ImportError as exc:  # peers.py checks first and says how to install it
    from common import QUIX_INSTALL

    sys.exit(f"quixstreams does not import ({exc}); install it with:\n  {QUIX_INSTALL}")

from schemas.deadletter import DeadLetter
from schemas.events import InvalidEvent, parse_event
from schemas.settings import Settings
from streams.clickhouse.engines import DriverEngine
from streams.clickhouse.queries import insert_facts
from streams.clickhouse.rows import (
    DEAD_LETTER_COLUMNS,
    RAW_EVENT_COLUMNS,
    dead_letter_row,
    fact_row,
    raw_event_row,
)
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import working_calendar
from streams.rules.facts import dossier_facts
from streams.rules.processor import decode_history, encode_history

CALENDAR = working_calendar(Settings())  # the worker's default calendar


def fold(value: bytes, key: str, timestamp: int, headers, state: State) -> tuple:
    """One message → ("event", raw-event row, fact row or None) or ("dead", row)."""
    now = datetime.now(UTC)
    try:
        event = parse_event(value, now=now)
        if key != event.dossier_id:
            raise InvalidEvent(f"message key {key!r} is not the dossier_id {event.dossier_id!r}")
    except InvalidEvent as exc:
        m = message_context()
        letter_id = f"{m.topic}:{m.partition}:{m.offset}"
        letter = DeadLetter.of(letter_id, now, m.topic, exc.reason, value)
        return ("dead", dead_letter_row(letter))
    history = decode_history(state.get_bytes("history"))
    if all(e.event_id != event.event_id for e in history):
        history.append(event)
        state.set_bytes("history", encode_history(history))
    facts = dossier_facts(history, CALENDAR)
    return (
        "event",
        raw_event_row(event, now),
        fact_row(facts, now) if facts is not None else None,
    )


class ClickHouseRows(BatchingSink):
    """A checkpoint's rows of one partition → ClickHouse (one insert per table)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port
        self.engine: DriverEngine | None = None

    def setup(self) -> None:
        user = os.environ.get("MOTCUA_CLICKHOUSE_WRITER_USER", "default")
        password = os.environ.get("MOTCUA_CLICKHOUSE_WRITER_PASSWORD", "")
        self.engine = DriverEngine(self.host, self.port, user, password)
        self.engine.rows("SELECT 1")

    def write(self, batch: SinkBatch) -> None:
        assert self.engine is not None
        raw, dead, facts = [], [], {}
        for item in batch:
            kind, *rows = item.value
            if kind == "dead":
                dead.append(rows[0])
                continue
            raw.append(rows[0])
            if rows[1] is not None:
                facts[rows[1][0]] = rows[1]  # a dossier's latest row in the batch wins
        insert_facts(self.engine, list(facts.values()))
        self.engine.insert(f"{DATABASE}.raw_events", RAW_EVENT_COLUMNS, raw)
        if dead:
            self.engine.insert(f"{DATABASE}.dead_letters", DEAD_LETTER_COLUMNS, dead)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--clickhouse", required=True, help="HOST:PORT (native protocol)")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--commit-every", type=int, default=10_000)
    parser.add_argument("--commit-interval", type=float, default=1.0)
    parser.add_argument("--session-timeout", type=float, default=10.0, help="seconds")
    parser.add_argument("--no-changelog", dest="changelog", action="store_false")
    parser.add_argument("--loglevel", default="WARNING")
    args = parser.parse_args()
    host, port = args.clickhouse.rsplit(":", 1)

    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=args.state_dir,
        commit_every=args.commit_every,
        commit_interval=args.commit_interval,
        use_changelog_topics=args.changelog,
        consumer_extra_config={
            # a quick group join, as the bench gives our worker
            "session.timeout.ms": int(args.session_timeout * 1000),
            "heartbeat.interval.ms": int(args.session_timeout * 1000 / 4),
        },
        loglevel=args.loglevel,
    )
    topic = app.topic(args.topic, key_deserializer="str", value_deserializer="bytes")
    sdf = app.dataframe(topic)
    sdf = sdf.apply(fold, stateful=True, metadata=True)
    sdf.sink(ClickHouseRows(host, int(port)))
    app.run()


if __name__ == "__main__":
    main()
