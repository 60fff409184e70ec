"""ClickHouse: migrations, the rows the workers write, and the report query.

The SQL here runs unchanged on ClickHouse 18.16 (Debian's server) and on a
current engine (chdb): see `streams/clickhouse/engines.py` for the two ways to run it.
Times are stored as DateTime('UTC'); "never" is NEVER, not NULL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from schemas.deadletter import DeadLetter
from schemas.events import DossierEvent, Level
from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DossierFacts
from streams.rules.period import LEVEL_NAMES, STORED_COUNTS, PeriodRow, UnitKind

DATABASE = "motcua"
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "migrations"
NEVER = datetime(2105, 12, 31, tzinfo=UTC)


class Engine(Protocol):
    """The few operations the project needs from a ClickHouse."""

    def command(self, sql: str) -> None: ...

    def rows(self, sql: str) -> list[tuple]: ...

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None: ...


# -- migrations ----------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _statements(sql: str) -> tuple[str, ...]:
    text = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return tuple(s.strip() for s in text.split(";") if s.strip())


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = re.fullmatch(r"(\d+)_(\w+)\.sql", path.name)
        if not match:
            raise ValueError(f"migration file name must be NNNN_name.sql: {path.name}")
        statements = _statements(path.read_text(encoding="utf-8"))
        found.append(Migration(int(match[1]), match[2], statements))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return found


_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+)\.(\w+)\s+ADD COLUMN (\w+)\s", re.IGNORECASE)


def _column_already_added(engine: Engine, statement: str) -> bool:
    """True for `ALTER TABLE db.t ADD COLUMN c ...` (one action) when t has c.

    ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: this makes such a
    statement idempotent like the others, so a migration that failed after
    adding some columns can run again."""
    match = _ADD_COLUMN.match(statement)
    if match is None or len(re.findall(r"\b(ADD|DROP|MODIFY) COLUMN\b", statement, re.I)) != 1:
        return False
    database, table, column = match.groups()
    [(found,)] = engine.rows(
        "SELECT count() FROM system.columns WHERE "
        f"database = {sql_string(database)} AND table = {sql_string(table)} "
        f"AND name = {sql_string(column)}"
    )
    return int(found) > 0


def migrate(engine: Engine, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply the migrations not yet recorded, in order; returns those applied."""
    engine.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    engine.command(
        f"CREATE TABLE IF NOT EXISTS {DATABASE}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime('UTC')) "
        "ENGINE = ReplacingMergeTree() ORDER BY version"
    )
    done = {int(r[0]) for r in engine.rows(f"SELECT version FROM {DATABASE}.schema_migrations")}
    applied = []
    for migration in load_migrations(directory):
        if migration.version in done:
            continue
        for statement in migration.statements:  # each is idempotent (IF NOT EXISTS)
            if not _column_already_added(engine, statement):
                engine.command(statement)
        engine.insert(
            f"{DATABASE}.schema_migrations",
            ("version", "name", "applied_at"),
            [(migration.version, migration.name, stored_time(datetime.now(UTC)))],
        )
        applied.append(migration.version)
    return applied


def pending_migrations(engine: Engine, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """The migration versions not applied yet; readable by the writer (no DDL)."""
    [(found,)] = engine.rows(
        "SELECT count() FROM system.tables WHERE "
        f"database = {sql_string(DATABASE)} AND name = 'schema_migrations'"
    )
    done: set[int] = set()
    if int(found):
        done = {int(r[0]) for r in engine.rows(f"SELECT version FROM {DATABASE}.schema_migrations")}
    return [m.version for m in load_migrations(directory) if m.version not in done]


# -- rows the workers write ------------------------------------------------------


def stored_time(t: datetime | None) -> int:
    """Unix seconds: what a DateTime('UTC') column stores (None → NEVER).

    An int, not a datetime: the driver would localize every datetime cell
    with pytz, a fifth of a busy worker's time (bench/results/backfill).
    """
    return int((NEVER if t is None else t).timestamp())


RAW_EVENT_COLUMNS = ("event_id", "dossier_id", "type", "at", "payload", "stored_at")


def raw_event_row(event: DossierEvent, stored_at: datetime) -> tuple:
    payload = event.model_dump_json(exclude_none=True)
    return (
        event.event_id,
        event.dossier_id,
        event.type.value,
        stored_time(event.at),
        payload,
        stored_time(stored_at),
    )


FACT_COLUMNS = (
    "dossier_id",
    "version",
    "agency_code",
    "agency_name",
    "level",
    "district_code",
    "district_name",
    "field_code",
    "field_name",
    "procedure_code",
    "procedure_name",
    "channel",
    "online_level",
    "received_at",
    "due",
    "end_at",
    "outcome",
    "judged_at",
    "final_standing",
    "supplement_count",
    "apology_at",
    "fee_due_at",
    "paid_online_at",
    "digitized_at",
    "processing_seconds",
    "change_at",
    "change_standing",
    "change_late",
    "updated_at",
    "last_event_at",
    "due_from",
    "due_history",
    "finding_kind",
    "finding_at",
    "finding_old",
    "finding_new",
    "finding_evidence",
)


def fact_version(facts: DossierFacts, computed_at: datetime) -> int:
    """More events always win; for the same events, the later computation wins."""
    return (facts.event_count << 32) | int(computed_at.timestamp())


def fact_row(facts: DossierFacts, computed_at: datetime) -> tuple:
    r = facts.received
    processing = 0 if facts.processing_time is None else int(facts.processing_time.total_seconds())
    return (
        facts.dossier_id,
        fact_version(facts, computed_at),
        r.agency_code or "",
        r.agency_name or "",
        r.level.value if r.level else "",
        r.district_code or "",
        r.district_name or "",
        r.field_code or "",
        r.field_name or "",
        r.procedure_code or "",
        r.procedure_name or "",
        r.channel.value if r.channel else "",
        r.online_level.value if r.online_level else "",
        stored_time(r.at),
        stored_time(facts.due),
        stored_time(facts.end_at),
        facts.outcome.value if facts.outcome else "",
        stored_time(facts.judged_at),
        facts.final_standing.value if facts.final_standing else "",
        facts.supplement_count,
        stored_time(facts.apology_at),
        stored_time(facts.fee_due_at),
        stored_time(facts.paid_online_at),
        stored_time(facts.digitized_at),
        processing,
        [stored_time(c.at) for c in facts.changes],
        [c.standing.value for c in facts.changes],
        [int(c.late) for c in facts.changes],
        stored_time(computed_at),
        stored_time(facts.last_event_at),
        [stored_time(d.since) for d in facts.dues],
        [stored_time(d.due) for d in facts.dues],
        [f.kind.value for f in facts.findings],
        [stored_time(f.observed_at) for f in facts.findings],
        [f.old for f in facts.findings],
        [f.new for f in facts.findings],
        [" ".join(f.evidence) for f in facts.findings],
    )


# Board filter kinds (dashboards.boards.VARIABLES) → the fact row's code and name.
UNIT_COLUMNS = ("kind", "code", "name", "seen_at")
UNIT_KINDS = {
    "district": ("district_code", "district_name"),
    "agency": ("agency_code", "agency_name"),
    "field": ("field_code", "field_name"),
    "level": ("level", "level"),
}
_UNIT_INDEX = {
    kind: (FACT_COLUMNS.index(code), FACT_COLUMNS.index(name))
    for kind, (code, name) in UNIT_KINDS.items()
}
_UPDATED_AT = FACT_COLUMNS.index("updated_at")


def unit_rows(fact_rows: Sequence[tuple]) -> list[tuple]:
    """One `units` row per (kind, code) named in fact rows; the latest name wins."""
    latest: dict[tuple[str, str], tuple] = {}
    for row in fact_rows:
        for kind, (code_at, name_at) in _UNIT_INDEX.items():
            code = row[code_at]
            if not code:
                continue
            name = LEVEL_NAMES[Level(code)] if kind == "level" else row[name_at]
            seen = latest.get((kind, code))
            if seen is None or row[_UPDATED_AT] >= seen[3]:
                latest[(kind, code)] = (kind, code, name, row[_UPDATED_AT])
    return list(latest.values())


# What the boards and reports read (migration 0006): a finished dossier's facts
# once per period (calendar month) from its receipt to its latest event, so a
# time range reads only its periods; and every dossier's latest facts while open.
# Months of UTC+7 (Vietnam, no daylight saving): any bucketing would count
# right, this one makes a month's boards and reports read a single period.
PERIOD_SHIFT = 7 * 3600
PERIOD_COLUMNS = ("period", *FACT_COLUMNS)
NEVER_STORED = stored_time(None)
_RECEIVED_AT = FACT_COLUMNS.index("received_at")
_END_AT = FACT_COLUMNS.index("end_at")
_LAST_EVENT_AT = FACT_COLUMNS.index("last_event_at")


def period_of(unix_seconds: int) -> int:
    """The period of an instant: months since January 1970 (UTC+7)."""
    t = datetime.fromtimestamp(unix_seconds + PERIOD_SHIFT, UTC)
    return (t.year - 1970) * 12 + t.month - 1


def period_sql(unix_seconds: str) -> str:
    """`period_of` in SQL, of an expression giving Unix seconds."""
    t = f"toDateTime({unix_seconds} + {PERIOD_SHIFT}, 'UTC')"
    return f"((toYear({t}) - 1970) * 12 + toMonth({t}) - 1)"


def period_rows(fact_rows: Sequence[tuple]) -> list[tuple]:
    """`dossier_periods` rows of the finished dossiers among fact rows.

    A dossier's periods run to its latest event, not its end: a reordered
    earlier end can move `end_at` back, but the latest event only ever moves
    on, so each version covers every period an earlier one did (no stale
    row is left behind)."""
    rows = []
    for row in fact_rows:
        if row[_END_AT] != NEVER_STORED:
            first, last = period_of(row[_RECEIVED_AT]), period_of(row[_LAST_EVENT_AT])
            rows.extend((period, *row) for period in range(first, last + 1))
    return rows


def insert_facts(engine: Engine, fact_rows: Sequence[tuple]) -> None:
    """Store fact rows, the units they name, and the tables boards read (the
    one way facts are written). Every row goes to `open_dossiers`, finished
    ones too: they supersede the dossier's open row there."""
    if fact_rows:
        engine.insert(f"{DATABASE}.dossier_facts", FACT_COLUMNS, fact_rows)
        engine.insert(f"{DATABASE}.units", UNIT_COLUMNS, unit_rows(fact_rows))
        engine.insert(f"{DATABASE}.open_dossiers", FACT_COLUMNS, fact_rows)
        engine.insert(f"{DATABASE}.dossier_periods", PERIOD_COLUMNS, period_rows(fact_rows))


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


DEAD_LETTER_COLUMNS = ("dead_letter_id", "rejected_at", "source", "reason", "original")


def dead_letter_row(letter: DeadLetter) -> tuple:
    return (
        letter.dead_letter_id,
        stored_time(letter.rejected_at),
        letter.source,
        letter.reason,
        letter.original,
    )


# -- what the workers resume from ----------------------------------------------------

PROGRESS_COLUMNS = (
    "topic", "partition", "epoch", "offset", "fingerprint", "version", "stored_at",
)  # fmt: skip


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

_UNIT_COLUMNS = {
    UnitKind.AGENCY: ("agency_code", "agency_name"),
    UnitKind.FIELD: ("field_code", "field_name"),
    UnitKind.DISTRICT: ("district_code", "district_name"),
    UnitKind.LEVEL: ("level", "''"),
    UnitKind.PROCEDURE: ("procedure_code", "procedure_name"),
    UnitKind.PROVINCE: ("'province'", "''"),
}

_PERIOD_COUNT_COLUMNS = (
    *(c for pair in _UNIT_COLUMNS.values() for c in pair if not c.startswith("'")),
    "received_at", "channel", "online_level", "outcome", "final_standing", "apology_at",
    "fee_due_at", "paid_online_at", "digitized_at", "processing_seconds", "end_at",
    "change_at", "change_standing", "change_late",
)  # fmt: skip

# Column order of the report query = PeriodRow counters it fills.
REPORT_FIELDS = STORED_COUNTS


def sql_time(t: datetime) -> str:
    return f"toDateTime('{t.astimezone(UTC):%Y-%m-%d %H:%M:%S}', 'UTC')"


def sql_string(text: str) -> str:
    """A quoted ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def report_sql(start: datetime, end: datetime, by: UnitKind, agency: str | None = None) -> str:
    """Per-unit II.06a counts for [start, end), judged at `end`, from the facts
    (of one agency's dossiers only, when `agency` is given)."""
    only = "" if agency is None else f"agency_code = {sql_string(agency)}"
    return period_counts_sql(sql_time(start), sql_time(end), by, only)


def period_counts_sql(s: str, e: str, by: UnitKind, where: str = "") -> str:
    """The II.06a counts per unit for [s, e) judged at e, where s and e are SQL
    DateTime expressions (literals, or a board's time-range macros) and
    `where` an extra condition on the facts."""
    code, name = _UNIT_COLUMNS[by]
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


def period_row(
    code: str, name: str, counts: Sequence, processing_seconds: int, calendar: WorkingCalendar
) -> PeriodRow:
    """A report row from stored counts (REPORT_FIELDS order) and working seconds."""
    row = PeriodRow(code, name, **dict(zip(REPORT_FIELDS, map(int, counts), strict=True)))
    day_seconds = int(calendar.day_length.total_seconds())
    row.processing_time = Fraction(int(processing_seconds), day_seconds)
    return row
