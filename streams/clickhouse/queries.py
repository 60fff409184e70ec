"""Reads and writes of the project's tables: storing facts, the stored
progress and histories the workers resume from, and the period report in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction

from schemas.events import Level
from streams.clickhouse.rows import FACT_COLUMNS, UNIT_COLUMNS, unit_rows
from streams.clickhouse.sql import DATABASE, NEVER, Engine, period_sql, sql_string, sql_time
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import LEVEL_NAMES, STORED_COUNTS, PeriodRow, UnitKind
from streams.rules.units import NO_AREA, NO_COMMUNE, RecordedUnits


def insert_facts(engine: Engine, fact_rows: Sequence[tuple]) -> None:
    """Store fact rows and the units they name (the one way facts are
    written). The tables boards read, `open_dossiers` and `dossier_periods`,
    are filled from each insert by ClickHouse (migration 0013's views)."""
    if fact_rows:
        engine.insert(f"{DATABASE}.dossier_facts", FACT_COLUMNS, fact_rows)
        engine.insert(f"{DATABASE}.units", UNIT_COLUMNS, unit_rows(fact_rows))


# Finished dossiers never reopen (streams/rules/lifecycle.py), so all their rows can
# go, and rows are only ever rewritten with newer versions, so none comes back
# open. A mutation: it rewrites the parts in the background, and until it is
# done the finished rows are hidden by FINAL anyway.
def delete_finished_open(engine: Engine) -> bool:
    """Drop finished dossiers from `open_dossiers` (keeps it the size of the open
    set); False, doing nothing, while the previous drop is still running."""
    running = engine.rows(
        f"SELECT count() FROM system.mutations WHERE database = '{DATABASE}' "
        "AND table = 'open_dossiers' AND is_done = 0"
    )
    if running[0][0]:
        return False
    engine.command(
        f"ALTER TABLE {DATABASE}.open_dossiers DELETE WHERE dossier_id IN "
        f"(SELECT dossier_id FROM {DATABASE}.open_dossiers WHERE end_at != {sql_time(NEVER)})"
    )
    return True


def active_facts_sql(s: str, e: str, where: str = "", columns: Sequence[str] = FACT_COLUMNS) -> str:
    """Each dossier active in [s, e) (received before e, not finished before s)
    once, with its latest facts; s and e are SQL DateTime expressions.

    A finished dossier is read from the one period holding max(received_at, s);
    an open one from `open_dossiers`.
    """
    only = f" AND ({where})" if where else ""
    cols = ", ".join(columns)
    first, last = period_sql(f"toUInt32({s})"), period_sql(f"(toUInt32({e}) - 1)")
    return f"""
    SELECT {cols} FROM {DATABASE}.dossier_periods FINAL
    WHERE period >= {first} AND period <= {last}
      AND period = {period_sql(f"toUInt32(greatest(received_at, {s}))")}
      AND received_at < {e} AND end_at >= {s}{only}
    UNION ALL
    SELECT {cols} FROM {DATABASE}.open_dossiers FINAL
    WHERE end_at = {sql_time(NEVER)} AND received_at < {e}{only}"""


# -- what the workers resume from ----------------------------------------------------


def stored_positions(engine: Engine, topic: str) -> dict[int, tuple[int, int, str]]:
    """partition → (epoch, offset, fingerprint) of the latest stored position."""
    rows = engine.rows(
        "SELECT partition, argMax(epoch, version), argMax(offset, version), "
        f"argMax(fingerprint, version) FROM {DATABASE}.partition_progress "
        f"WHERE topic = {sql_string(topic)} GROUP BY partition"
    )
    return {int(p): (int(e), int(o), str(f)) for p, e, o, f in rows}


def stored_dossier_ids(engine: Engine) -> list[str]:
    """Every dossier with a stored event (what a worker's cache may have to read)."""
    return [r[0] for r in engine.rows(f"SELECT DISTINCT dossier_id FROM {DATABASE}.raw_events")]


def stored_payloads(engine: Engine, dossier_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(dossier_id, payload) of every stored event of these dossiers."""
    if not dossier_ids:
        return []
    quoted = ", ".join(sql_string(d) for d in dossier_ids)
    return engine.rows(
        f"SELECT dossier_id, payload FROM {DATABASE}.raw_events FINAL "
        f"WHERE dossier_id IN ({quoted})"
    )


# -- the period report in SQL ------------------------------------------------------

# A dossier's commune and area as recorded (streams.rules.units: commune_of,
# recorded_area): its commune, else its agency when that is a commune's; the
# district fields, which after the reform hold the area the ingest's unit
# directory gives.
_COMMUNE_CODE = "if(commune_code != '', commune_code, if(level = 'commune', agency_code, ''))"
_COMMUNE_NAME = (
    "if(commune_code != '', if(commune_name != '', commune_name, commune_code), "
    f"if(level = 'commune', agency_name, {sql_string(NO_COMMUNE[1])}))"
)
_AREA_NAME = (
    "if(district_code != '', if(district_name != '', district_name, district_code), "
    f"{sql_string(NO_AREA[1])})"
)
_UNIT_COLUMNS = {
    UnitKind.AGENCY: ("agency_code", "agency_name"),
    UnitKind.COMMUNE: (_COMMUNE_CODE, _COMMUNE_NAME),
    UnitKind.AREA: ("district_code", _AREA_NAME),
    UnitKind.FIELD: ("field_code", "field_name"),
    UnitKind.DISTRICT: ("district_code", "district_name"),
    UnitKind.LEVEL: ("level", "''"),
    UnitKind.PROCEDURE: ("procedure_code", "procedure_name"),
    UnitKind.PROVINCE: ("'province'", "''"),
}
# the fact columns those expressions read
UNIT_SOURCE_COLUMNS = (
    "agency_code", "agency_name", "commune_code", "commune_name", "field_code", "field_name",
    "district_code", "district_name", "level", "procedure_code", "procedure_name",
)  # fmt: skip


def unit_columns(by: UnitKind) -> tuple[str, str]:
    """The SQL expressions of a unit's code and name in the facts (by `by`)."""
    return _UNIT_COLUMNS[by]


_PERIOD_COUNT_COLUMNS = (
    *UNIT_SOURCE_COLUMNS,
    "received_at", "channel", "online_level", "outcome", "final_standing", "apology_at",
    "fee_due_at", "paid_online_at", "digitized_at", "processing_seconds", "end_at",
    "change_at", "change_standing", "change_late",
)  # fmt: skip

# Column order of the report query = PeriodRow counters it fills.
REPORT_FIELDS = STORED_COUNTS


def report_sql(start: datetime, end: datetime, by: UnitKind, agency: str | None = None) -> str:
    """Per-unit II.06a counts for [start, end), judged at `end`, from the facts
    (of one agency's dossiers only, when `agency` is given)."""
    only = "" if agency is None else f"agency_code = {sql_string(agency)}"
    return period_counts_sql(sql_time(start), sql_time(end), by, only)


def period_counts_sql(
    s: str, e: str, by: UnitKind, where: str = "", columns: tuple[str, str] | None = None
) -> str:
    """The II.06a counts per unit for [s, e) judged at e, where s and e are SQL
    DateTime expressions (literals, or a board's time-range macros) and
    `where` an extra condition on the facts (`columns`: the unit's code and
    name expressions instead of `by`'s)."""
    code, name = columns or _UNIT_COLUMNS[by]
    return f"""
SELECT
    unit_code,
    argMax(unit_name, received_at) AS unit_name,
    countIf(received_at < {s}) AS carried_over,
    countIf(received_at >= {s}) AS received_total,
    countIf(received_at >= {s} AND channel = 'online') AS received_online,
    countIf(received_at >= {s} AND channel IN ('direct', 'postal')) AS received_direct_postal,
    countIf(finished_in) AS finished_total,
    countIf(finished_in AND final_standing = 'early') AS finished_early,
    countIf(finished_in AND final_standing = 'on_time') AS finished_on_time,
    countIf(finished_in AND final_standing = 'late') AS finished_late,
    countIf(open_at_end AND standing_at_end IN ('within_due', 'overdue')) AS in_progress_total,
    countIf(open_at_end AND standing_at_end = 'within_due') AS in_progress_within_due,
    countIf(open_at_end AND standing_at_end = 'overdue') AS in_progress_overdue,
    countIf(open_at_end AND standing_at_end = 'waiting_supplement') AS waiting_supplement,
    countIf(finished_in AND outcome IN ('stopped', 'withdrawn')) AS stopped_or_withdrawn,
    countIf(finished_in AND final_standing = 'late' AND apology_at < {e}) AS apologies,
    countIf(open_at_end AND standing_at_end = 'waiting_supplement' AND late_at_end = 0)
        AS waiting_supplement_on_time,
    countIf(received_at >= {s} AND online_level = 'full') AS received_full_service,
    countIf(received_at >= {s} AND online_level = 'full' AND channel = 'online')
        AS received_full_service_online,
    countIf(received_at >= {s} AND fee_due_at < {e}) AS received_with_fee,
    countIf(received_at >= {s} AND fee_due_at < {e} AND paid_online_at < {e})
        AS received_paid_online,
    countIf(received_at >= {s} AND digitized_at < {e}) AS received_digitized,
    sumIf(processing_seconds, finished_in) AS processing_seconds
FROM
(
    SELECT
        {code} AS unit_code,
        {name} AS unit_name,
        received_at, channel, online_level, outcome, final_standing, apology_at,
        fee_due_at, paid_online_at, digitized_at, processing_seconds,
        end_at < {e} AS finished_in,
        end_at >= {e} AS open_at_end,
        change_standing[arrayCount(x -> x < {e}, change_at)] AS standing_at_end,
        change_late[arrayCount(x -> x < {e}, change_at)] AS late_at_end
    FROM ({active_facts_sql(s, e, where, _PERIOD_COUNT_COLUMNS)})
)
GROUP BY unit_code
ORDER BY unit_code
"""


def report_rows(
    engine: Engine,
    start: datetime,
    end: datetime,
    by: UnitKind,
    calendar: WorkingCalendar,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
    agency: str | None = None,
) -> list[PeriodRow]:
    """The period report from the stored facts, as the offline report's rows."""
    rows = []
    records = engine.rows(report_sql(start, end, by, agency))
    for code, name, *counts, processing_seconds in records:
        if by is UnitKind.PROVINCE:
            code, name = province
        elif by is UnitKind.LEVEL:
            name = LEVEL_NAMES[Level(code)]
        rows.append(period_row(code, name, counts, processing_seconds, calendar))
    return rows


# One group per recorded (commune, agency, area): what "as today's units" maps.
_SEP = "'\\x1F'"  # a control character no code or name holds
_RECORDED_UNITS = (
    f"concat({_COMMUNE_CODE}, {_SEP}, agency_code, {_SEP}, district_code)",
    f"concat({_COMMUNE_NAME}, {_SEP}, agency_name, {_SEP}, {_AREA_NAME}, {_SEP}, "
    "toString(toUnixTimestamp(received_at)))",  # argMax: the group's latest receipt
)


def recorded_units_rows(
    engine: Engine,
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    agency: str | None = None,
) -> list[tuple[RecordedUnits, PeriodRow]]:
    """The period's counts per recorded (agency, commune, area), for
    `streams.rules.units.rows_as_units` to map to today's units."""
    only = "" if agency is None else f"agency_code = {sql_string(agency)}"
    sql = period_counts_sql(
        sql_time(start), sql_time(end), UnitKind.AGENCY, only, columns=_RECORDED_UNITS
    )
    rows = []
    for code, name, *counts, processing_seconds in engine.rows(sql):
        commune, agency_code, area = code.split("\x1f")
        commune_name, agency_name, area_name, latest = name.split("\x1f")
        recorded = RecordedUnits(
            (agency_code, agency_name),
            (commune, commune_name),
            (area, area_name),
            datetime.fromtimestamp(int(latest), UTC),
        )
        rows.append((recorded, period_row(code, name, counts, processing_seconds, calendar)))
    return rows


def period_row(
    code: str, name: str, counts: Sequence, processing_seconds: int, calendar: WorkingCalendar
) -> PeriodRow:
    """A report row from stored counts (REPORT_FIELDS order) and working seconds."""
    row = PeriodRow(code, name, **dict(zip(REPORT_FIELDS, map(int, counts), strict=True)))
    day_seconds = int(calendar.day_length.total_seconds())
    row.processing_time = Fraction(int(processing_seconds), day_seconds)
    return row
