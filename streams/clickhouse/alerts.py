"""ClickHouse side of the inspectors' watch: the facts a watch step reads,
the alert and hotspot rows it writes, and its position (how far it got).

Facts rows are turned back into `DossierFacts` (`facts_from_row`): they
carry the attribution, due, the dues over time, end and the standing
timeline, which is all the deadline and hotspot rules read. Stored times
are whole seconds, as events.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from schemas.events import DossierEvent, EventType
from streams.clickhouse.queries import active_facts_sql
from streams.clickhouse.rows import FACT_COLUMNS, stored_time
from streams.clickhouse.sql import DATABASE, NEVER, Engine, sql_string, sql_time
from streams.rules.alerts import InspectorAlert, summary
from streams.rules.facts import Change, DossierFacts, DueInForce
from streams.rules.hotspots import CellKind, HotspotChange, HotspotWatch
from streams.rules.lifecycle import Outcome, Standing
from streams.rules.watch import WatchConfig

ALERT_COLUMNS = (
    "alert_id",
    "kind",
    "severity",
    "raised_at",
    "dossier_id",
    "agency_code",
    "district_code",
    "field_code",
    "procedure_code",
    "due",
    "hours_late",
    "summary",
    "commune_code",  # migration 0012
    "area_code",
)
HOTSPOT_COLUMNS = (
    "hotspot_id",
    "state",
    "at",
    "field_code",
    "district_code",
    "cell_total",
    "cell_late",
    "wilson_lower",
    "baseline",
    "cell_kind",  # migration 0012: district, area or commune (older rows: district)
)
SEVERITY = {"overdue": "critical", "overdue_reminder": "critical"}


def watch_facts_sql(ended_from: datetime, received_before: datetime) -> str:
    """Dossiers received before `received_before` and not finished before `ended_from`."""
    return active_facts_sql(sql_time(ended_from), sql_time(received_before))


def _utc(t: datetime | str) -> datetime | None:
    """A stored DateTime('UTC') (the server driver gives datetimes, chdb text)."""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    aware = t.replace(tzinfo=UTC) if t.tzinfo is None else t
    return None if aware >= NEVER else aware


def facts_from_row(row: tuple) -> DossierFacts:
    r = dict(zip(FACT_COLUMNS, row, strict=True))
    received = DossierEvent(
        event_id=f"{r['dossier_id']}:received",
        dossier_id=r["dossier_id"],
        type=EventType.RECEIVED,
        at=_utc(r["received_at"]),
        agency_code=r["agency_code"],
        agency_name=r["agency_name"],
        level=r["level"],
        district_code=r["district_code"],
        district_name=r["district_name"],
        procedure_code=r["procedure_code"],
        procedure_name=r["procedure_name"] or None,
        field_code=r["field_code"],
        field_name=r["field_name"],
        channel=r["channel"],
        online_level=r["online_level"] or None,
        commune_code=r["commune_code"] or None,
        commune_name=r["commune_name"] or None,
    )
    changes = tuple(
        Change(_utc(at), Standing(standing), bool(late))
        for at, standing, late in zip(
            r["change_at"], r["change_standing"], r["change_late"], strict=True
        )
    )
    due = _utc(r["due"])
    dues = tuple(
        DueInForce(_utc(since), _utc(value))
        for since, value in zip(r["due_from"], r["due_history"], strict=True)
    )
    if not dues and due is not None:
        # stored before migration 0009: the final due from the receipt, until
        # `motcua recompute` (or the dossier's next event) rewrites the row
        dues = (DueInForce(received.at, due),)
    return DossierFacts(
        dossier_id=r["dossier_id"],
        received=received,
        event_count=0,  # not stored; the watch does not read it
        due=due,
        end_at=_utc(r["end_at"]),
        outcome=Outcome(r["outcome"]) if r["outcome"] else None,
        judged_at=_utc(r["judged_at"]),
        final_standing=Standing(r["final_standing"]) if r["final_standing"] else None,
        supplement_count=r["supplement_count"],
        apology_at=None,
        fee_due_at=None,
        paid_online_at=None,
        digitized_at=None,
        processing_time=None,
        changes=changes,
        last_event_at=_utc(r["last_event_at"]) or received.at,
        dues=dues,
        electronic_result_at=_utc(r["electronic_result_at"]),
        components_digitized_at=_utc(r["components_digitized_at"]),
        reused_digitized_data_at=_utc(r["reused_digitized_data_at"]),
        from_personal_store_at=_utc(r["from_personal_store_at"]),
        vneid_verified_at=_utc(r["vneid_verified_at"]),
        complaint_at=_utc(r["complaint_at"]),
    )


def read_watch_facts(engine: Engine, ended_from: datetime, received_before: datetime) -> list:
    return [facts_from_row(r) for r in engine.rows(watch_facts_sql(ended_from, received_before))]


def alert_row(a: InspectorAlert, tz: tzinfo) -> tuple:
    return (
        a.key,
        a.kind,
        SEVERITY.get(a.kind, "warning"),
        stored_time(a.at),
        a.dossier_id,
        a.agency_code,
        a.district_code,
        a.field_code,
        a.procedure_code,
        stored_time(a.due),
        a.hours_late,
        summary(a, tz),
        a.commune_code,
        a.area_code,
    )


def hotspot_row(c: HotspotChange) -> tuple:
    return (
        c.hotspot_id,
        c.kind,
        stored_time(c.at),
        c.field_code,
        c.district_code,
        c.total,
        c.late,
        c.wilson_lower,
        c.baseline,
        c.cell_kind.value,
    )


def stored_tracker(engine: Engine, config: WatchConfig) -> HotspotWatch:
    """The open hotspots as stored, per cell kind: a restarted watch does not
    re-open them."""
    cell = "(cell_kind, field_code, district_code)"
    rows = engine.rows(
        f"SELECT {', '.join(HOTSPOT_COLUMNS)} FROM {DATABASE}.hotspots FINAL "
        f"WHERE {cell} IN (SELECT cell_kind, field_code, district_code "
        f"FROM {DATABASE}.hotspots FINAL GROUP BY cell_kind, field_code, district_code "
        "HAVING argMax(state, at) = 'opened')"
    )
    changes = [
        HotspotChange(
            kind=state,
            field_code=field,
            district_code=district,
            at=_utc(at),
            total=total,
            late=late,
            wilson_lower=lower,
            baseline=baseline,
            hotspot_id=ident,
            cell_kind=CellKind(kind),
        )
        for ident, state, at, field, district, total, late, lower, baseline, kind in rows
    ]
    return config.hotspot_watch(changes)


# -- the watch's position -----------------------------------------------------------


def watch_position(engine: Engine, name: str) -> datetime | None:
    """Positions only grow, so the latest is the largest."""
    rows = engine.rows(
        f"SELECT max(until), count() FROM {DATABASE}.watch_position WHERE name = {sql_string(name)}"
    )
    return _utc(rows[0][0]) if rows and rows[0][1] else None


def position_row(name: str, until: datetime, now: datetime) -> tuple:
    return (name, stored_time(until), stored_time(now))


def event_clock(engine: Engine) -> datetime | None:
    """Event time: the latest instant among stored events (replay mode)."""
    rows = engine.rows(f"SELECT max(at), count() FROM {DATABASE}.raw_events")
    return _utc(rows[0][0]) if rows and rows[0][1] else None


def first_receipt(engine: Engine) -> datetime | None:
    rows = engine.rows(f"SELECT min(received_at), count() FROM {DATABASE}.dossier_facts")
    return _utc(rows[0][0]) if rows and rows[0][1] else None
