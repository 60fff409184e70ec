"""Rebuild dossier facts from the stored raw events (after a rule change, for an audit).

Every dossier with an event in [start, end) is re-folded from *all* its
stored events and its facts written again with a newer version; FINAL then
shows the recomputed row. A dossier that gets a new event meanwhile is
written by the stream with a higher event count, which still wins.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from schemas.events import DossierEvent
from streams.clickhouse.queries import insert_facts, stored_payloads
from streams.clickhouse.rows import fact_row
from streams.clickhouse.sql import DATABASE, Engine, sql_time
from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import dossier_facts

CHUNK = 2000  # dossiers per round trip


def recompute_facts(
    engine: Engine,
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Re-fold and re-store the facts of every dossier touched in [start, end)."""
    computed_at = datetime.now(UTC)
    ids = [
        r[0]
        for r in engine.rows(
            f"SELECT DISTINCT dossier_id FROM {DATABASE}.raw_events "
            f"WHERE at >= {sql_time(start)} AND at < {sql_time(end)} ORDER BY dossier_id"
        )
    ]
    written = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        rows = stored_payloads(engine, chunk)
        histories: dict[str, list[DossierEvent]] = {}
        for dossier_id, payload in rows:
            histories.setdefault(dossier_id, []).append(DossierEvent.model_validate_json(payload))
        facts = [f for h in histories.values() if (f := dossier_facts(h, calendar))]
        insert_facts(engine, [fact_row(f, computed_at) for f in facts])
        written += len(facts)
        progress(len(chunk))
    return written
