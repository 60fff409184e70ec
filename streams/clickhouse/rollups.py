"""Monthly rollups: the period report per unit kind, stored for boards and exports.

Computed from the facts (so never double counted) and stored with the time
of computation; a refresh of the same month supersedes the earlier rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.clickhouse.queries import REPORT_FIELDS, period_row, report_rows
from streams.clickhouse.rows import stored_time
from streams.clickhouse.sql import DATABASE, Engine, sql_time
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import PeriodRow, UnitKind

ROLLUP_COLUMNS = (
    "period_start",
    "period_end",
    "unit_kind",
    "unit_code",
    "unit_name",
    *REPORT_FIELDS,
    "processing_seconds",
    "computed_at",
)


def month_bounds(year: int, month: int, calendar: WorkingCalendar) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=calendar.tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=calendar.tz)
    return start, end


def months_between(
    start: datetime, end: datetime, calendar: WorkingCalendar
) -> list[tuple[datetime, datetime]]:
    """The calendar months that [start, end) touches."""
    local = calendar.local(start)
    months = []
    bounds = month_bounds(local.year, local.month, calendar)
    while bounds[0] < end:
        months.append(bounds)
        bounds = month_bounds(bounds[1].year, bounds[1].month, calendar)
    return months


def refresh_rollups(
    engine: Engine,
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> int:
    """Store the report of [start, end) for every unit kind; returns rows written."""
    computed_at = stored_time(datetime.now(UTC))
    day_seconds = int(calendar.day_length.total_seconds())
    rows = []
    for kind in UnitKind:
        for r in report_rows(engine, start, end, kind, calendar, province):
            seconds = int(r.processing_time * day_seconds)
            rows.append(
                (
                    stored_time(start),
                    stored_time(end),
                    kind.value,
                    r.unit_code,
                    r.unit_name,
                    *(getattr(r, f) for f in REPORT_FIELDS),
                    seconds,
                    computed_at,
                )
            )
    engine.insert(f"{DATABASE}.period_rollups", ROLLUP_COLUMNS, rows)
    return len(rows)


def stored_rollup(
    engine: Engine, start: datetime, end: datetime, kind: UnitKind, calendar: WorkingCalendar
) -> list[PeriodRow]:
    """The stored rollup of a period, as report rows."""
    fields = ", ".join(REPORT_FIELDS)
    records = engine.rows(
        f"SELECT unit_code, unit_name, {fields}, processing_seconds "
        f"FROM {DATABASE}.period_rollups FINAL WHERE period_start = {sql_time(start)} "
        f"AND period_end = {sql_time(end)} AND unit_kind = '{kind.value}' ORDER BY unit_code"
    )
    return [
        period_row(code, name, counts, seconds, calendar)
        for code, name, *counts, seconds in records
    ]
