"""The 766 scorecard (METRICS.md §7) from the stored facts, and the stored
procedure catalogue.

2.1 is the period report's progress ratio (`report_rows`, i.e.
`period_counts_sql`), exactly as the pure rule takes it from `period_report`;
`scorecard_counts_sql` counts the rest over R, the dossiers received in
[s, e), judged at e: a flag holds when its `<flag>_at` (the first event that
reported it) is before e, a complaint when `complaint_at` is. Both feed
`streams.rules.scorecard.unit_scorecards`, so a scorecard read here equals
the one the rule computes from the events.

The catalogue decides two things per dossier, whether its procedure has a
paper result and whether it is eligible for full online service; a
procedure the catalogue does not list (or no catalogue at all) gets §7's
stand-ins (a paper result; eligible iff the dossier's online_level is full).
In SQL it is three sets of procedure codes (`CatalogueSql`): from a file
(`catalogue_sql`, literal lists) or the stored `procedures` table
(`STORED_CATALOGUE`, subqueries a board can use as well).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from schemas.catalogue import ProcedureCatalogue
from schemas.scoring import DEFAULT_SCORING, ScoringTable
from streams.clickhouse.queries import (
    UNIT_SOURCE_COLUMNS,
    active_facts_sql,
    period_counts_sql,
    report_rows,
    stored_payloads,
    unit_columns,
)
from streams.clickhouse.rows import SCORECARD_FLAG_COLUMNS, stored_time
from streams.clickhouse.sql import DATABASE, Engine, sql_string, sql_time
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import UnitKind
from streams.rules.scorecard import (
    DOSSIER_INDICATORS,
    DossierCounts,
    PortalFigures,
    UnitScorecard,
    unit_scorecards,
)

PROCEDURE_COLUMNS = (
    "code", "name", "field", "full_online_eligible", "paper_result", "fee", "updated_at",
)  # fmt: skip


def procedure_rows(catalogue: ProcedureCatalogue, updated_at: datetime) -> list[tuple]:
    """`procedures` rows of a catalogue (flags 0/1, absent texts empty)."""
    return [
        (
            e.code,
            e.name or "",
            e.field or "",
            int(e.full_online_eligible),
            int(e.paper_result),
            int(e.fee),
            stored_time(updated_at),
        )
        for e in catalogue.values()
    ]


def store_catalogue(
    engine: Engine, catalogue: ProcedureCatalogue, updated_at: datetime | None = None
) -> int:
    """Store (or supersede) the catalogue's procedures; returns how many."""
    rows = procedure_rows(catalogue, updated_at or datetime.now(UTC))
    if rows:
        engine.insert(f"{DATABASE}.procedures", PROCEDURE_COLUMNS, rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class CatalogueSql:
    """The catalogue as SQL sets of procedure codes: each an expression that
    may follow `procedure_code IN`, or None for the empty set."""

    listed: str | None
    paper_result: str | None
    full_online_eligible: str | None


def _codes(codes: Sequence[str]) -> str | None:
    return f"({', '.join(sql_string(c) for c in sorted(codes))})" if codes else None


def catalogue_sql(catalogue: ProcedureCatalogue) -> CatalogueSql:
    """A catalogue read from a file, as literal code lists."""
    entries = list(catalogue.values())
    return CatalogueSql(
        listed=_codes([e.code for e in entries]),
        paper_result=_codes([e.code for e in entries if e.paper_result]),
        full_online_eligible=_codes([e.code for e in entries if e.full_online_eligible]),
    )


_STORED = f"SELECT code FROM {DATABASE}.procedures FINAL"
# the catalogue stored by `store_catalogue`
STORED_CATALOGUE = CatalogueSql(
    listed=f"({_STORED})",
    paper_result=f"({_STORED} WHERE paper_result = 1)",
    full_online_eligible=f"({_STORED} WHERE full_online_eligible = 1)",
)


def _member(codes: str | None) -> str:
    return "0" if codes is None else f"procedure_code IN {codes}"


# the dossier indicators: id → (in the numerator, in the denominator), per dossier of R
_INDICATOR_SQL = {
    "3.3": ("online AND result_ok", "1"),
    "3.F": ("eligible AND online AND full_level", "eligible"),
    "3.6": ("fee AND paid", "fee"),
    "4.1": ("paper AND electronic_result", "paper"),
    "4.2": ("components_digitized AND result_ok", "1"),
    "4.3": ("reused_digitized_data", "1"),
    "4.4": ("from_personal_store", "1"),
    "4.5b": ("vneid_verified", "1"),
}
assert tuple(_INDICATOR_SQL) == DOSSIER_INDICATORS


def _name(column: str) -> str:
    return column.removesuffix("_at")


def scorecard_counts_sql(
    s: str, e: str, by: UnitKind, where: str = "", catalogue: CatalogueSql | None = None
) -> str:
    """Per unit with dossiers received in [s, e) (s and e SQL DateTime
    expressions, `where` an extra condition on the facts): unit_code,
    received, complaints, then numerator and denominator of each indicator of
    `DOSSIER_INDICATORS` in that order, judged at e."""
    code, _ = unit_columns(by)
    if catalogue is None:  # §7's stand-ins for every procedure
        paper, eligible = "1", "online_level = 'full'"
    else:
        listed = _member(catalogue.listed)
        paper = f"if({listed}, {_member(catalogue.paper_result)}, 1)"
        eligible = f"if({listed}, {_member(catalogue.full_online_eligible)}, online_level = 'full')"
    flags = ",\n        ".join(f"{c} < {e} AS {_name(c)}" for c in SCORECARD_FLAG_COLUMNS)
    counts = ",\n    ".join(
        f"countIf({num}) AS num_{n}, countIf({den}) AS den_{n}"
        for n, (num, den) in enumerate(_INDICATOR_SQL.values())
    )
    columns = sorted(
        set(UNIT_SOURCE_COLUMNS)
        | {"received_at", "procedure_code", "channel", "online_level", "fee_due_at"}
        | {"paid_online_at", "complaint_at", *SCORECARD_FLAG_COLUMNS}
    )
    only = f"received_at >= {s}" + (f" AND ({where})" if where else "")
    return f"""
SELECT
    unit_code,
    count() AS received,
    countIf(complained) AS complaints,
    {counts}
FROM
(
    SELECT
        unit_code, online, full_level, fee, paid, complained, paper, eligible,
        electronic_result, components_digitized, reused_digitized_data,
        from_personal_store, vneid_verified,
        (NOT paper) OR electronic_result AS result_ok
    FROM
    (
        SELECT
            {code} AS unit_code,
            channel = 'online' AS online,
            online_level = 'full' AS full_level,
            fee_due_at < {e} AS fee,
            fee_due_at < {e} AND paid_online_at < {e} AS paid,
            complaint_at < {e} AS complained,
            {paper} AS paper,
            {eligible} AS eligible,
            {flags}
        FROM ({active_facts_sql(s, e, only, columns)})
    )
)
GROUP BY unit_code
ORDER BY unit_code
"""


def read_scorecard_counts(
    engine: Engine,
    start: datetime,
    end: datetime,
    by: UnitKind,
    catalogue: ProcedureCatalogue | CatalogueSql | None = None,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> dict[str, DossierCounts]:
    """Unit code → the counts of its dossiers of R (the pure rule's `dossier_counts`)."""
    if isinstance(catalogue, ProcedureCatalogue):
        catalogue = catalogue_sql(catalogue)
    sql = scorecard_counts_sql(sql_time(start), sql_time(end), by, catalogue=catalogue)
    found = {}
    for code, received, complaints, *pairs in engine.rows(sql):
        if by is UnitKind.PROVINCE:
            code = province[0]
        counts = {
            indicator: (int(pairs[2 * i]), int(pairs[2 * i + 1]))
            for i, indicator in enumerate(DOSSIER_INDICATORS)
        }
        found[code] = DossierCounts(int(received), int(complaints), counts)
    return found


def read_scorecard(
    engine: Engine,
    start: datetime,
    end: datetime,
    by: UnitKind,
    calendar: WorkingCalendar,
    *,
    table: ScoringTable = DEFAULT_SCORING,
    catalogue: ProcedureCatalogue | CatalogueSql | None = None,
    portal: PortalFigures | None = None,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> list[UnitScorecard]:
    """The scorecards of [start, end) by `by` from the stored facts: the same
    as `streams.rules.scorecard.scorecard` over the same events."""
    rows = report_rows(engine, start, end, by, calendar, province)
    counts = read_scorecard_counts(engine, start, end, by, catalogue, province)
    return unit_scorecards(rows, counts, table=table, portal=portal)


def active_payloads(engine: Engine, start: datetime, end: datetime) -> list[str]:
    """The stored events (JSON) of every dossier active in [start, end): received
    before `end` and not finished before `start` (what a forecast folds)."""
    sql = active_facts_sql(sql_time(start), sql_time(end), columns=("dossier_id",))
    ids = sorted({r[0] for r in engine.rows(sql)})
    payloads = []
    for i in range(0, len(ids), 2000):
        payloads += [payload for _, payload in stored_payloads(engine, ids[i : i + 2000])]
    return payloads


# -- the scorecard's cells and the 2.1 forecast in SQL (the board "Chỉ số 766") ------------


def _hundredths(value: object) -> int:
    """A points or target figure of the table in hundredths (they have two decimals)."""
    return int(Decimal(str(value)) * 100)


def _half_up(num: str, den: str) -> str:
    """num / den (integer-valued SQL expressions) to two decimals, half-up like
    `two_decimals`: one float division of the exact integers, so a tie (x.xx5) is
    exact; NULL where den is 0."""
    return f"if(({den}) = 0, NULL, floor(100 * ({num}) / ({den}) + 0.5) / 100)"


def _points(rate_num: str, rate_den: str, max_c: str, target_c: str) -> str:
    """min(max, rate / target × max) to two decimals, the rate rate_num / rate_den
    percent and max, target in hundredths (streams.rules.scorecard.points_of)."""
    num, den = f"toFloat64({rate_num}) * {max_c}", f"toFloat64({rate_den}) * {target_c}"
    return (
        f"if(({den}) = 0, NULL, least({max_c} / 100, floor(100 * ({num}) / ({den}) + 0.5) / 100))"
    )


def scorecard_cells_sql(
    s: str,
    e: str,
    by: UnitKind,
    where: str = "",
    catalogue: CatalogueSql | None = None,
    table: ScoringTable = DEFAULT_SCORING,
) -> str:
    """The computed indicators' cells per unit for [s, e) judged at e, as
    `read_scorecard` gives them, one row per unit and indicator in §7's order:
    unit_code, unit_name, ordinal, indicator, indicator_name, numerator,
    denominator (NULL for 5.4), rate, points, max, points_lost, target. Rates
    and points are rounded like the rule (NULL where undefined, points also
    where not scored). 2.1 is `period_counts_sql`'s progress ratio; the other
    counts `scorecard_counts_sql`'s over R. Portal-only indicators are not here."""
    indicators = table.ordered_computed()
    counted = {i: n for n, i in enumerate(DOSSIER_INDICATORS)}
    nums, dens, rate_nums, rate_dens = [], [], [], []
    for i in indicators:
        if i.id == "2.1":
            num, den = "progress_num", "progress_den"
        elif i.id == "5.4":
            num = den = "NULL"
        else:
            num, den = f"num_{counted[i.id]}", f"den_{counted[i.id]}"
        nums.append(f"toNullable(toInt64({num}))" if num != "NULL" else "NULL")
        dens.append(f"toNullable(toInt64({den}))" if den != "NULL" else "NULL")
        if i.id == "5.4":  # 2.1's ratio less the complaint share of R, not below 0
            rate_nums.append(
                "toFloat64(if(received = 0, 100 * toFloat64(progress_num), greatest(0., 100 * ("
                "toFloat64(progress_num) * received - toFloat64(complaints) * progress_den))))"
            )
            rate_dens.append("toFloat64(if(received = 0, progress_den, progress_den * received))")
        else:
            rate_nums.append(f"100 * toFloat64({num})")
            rate_dens.append(f"toFloat64({den})")
    ids = ", ".join(sql_string(i.id) for i in indicators)
    names = ", ".join(sql_string(i.name) for i in indicators)
    maxes = ", ".join(str(_hundredths(i.max_points or 0)) for i in indicators)
    scored = ", ".join(str(int(i.scored)) for i in indicators)
    targets = ", ".join(str(_hundredths(i.target)) for i in indicators)
    progress = period_counts_sql(s, e, by, where)
    counts = scorecard_counts_sql(s, e, by, where, catalogue)
    rate = _half_up("rate_num", "rate_den")
    points = _points("rate_num", "rate_den", "max_c", "target_c")
    return f"""
SELECT
    unit_code, unit_name, ordinal, indicator, indicator_name, numerator, denominator,
    rate, points, max, max - points AS points_lost, target_c / 100 AS target
FROM
(
    SELECT
        unit_code, unit_name, ordinal, indicator, indicator_name, numerator, denominator,
        target_c,
        {rate} AS rate,
        if(scored = 1, {points}, NULL) AS points,
        if(scored = 1, max_c / 100, NULL) AS max
    FROM
    (
        SELECT *,
            finished_early + finished_on_time + in_progress_within_due
                + waiting_supplement_on_time AS progress_num,
            finished_total + in_progress_total + waiting_supplement AS progress_den
        FROM ({progress}) AS progress
        ANY LEFT JOIN ({counts}) AS counted USING unit_code
    )
    ARRAY JOIN
        range({len(indicators)}) AS ordinal,
        [{ids}] AS indicator,
        [{names}] AS indicator_name,
        [{", ".join(nums)}] AS numerator,
        [{", ".join(dens)}] AS denominator,
        [{", ".join(rate_nums)}] AS rate_num,
        [{", ".join(rate_dens)}] AS rate_den,
        [{maxes}] AS max_c,
        [{scored}] AS scored,
        [{targets}] AS target_c
)
ORDER BY unit_code, ordinal
"""


_FORECAST_COLUMNS = (
    *UNIT_SOURCE_COLUMNS, "dossier_id", "received_at", "due", "end_at", "supplement_count",
    "change_at", "change_standing",  "change_late",
)  # fmt: skip


def _fates_sql(now: str, month_start: str, month_end: str, by: UnitKind, where: str) -> str:
    """The month's 2.1 population at `now` (active in [month_start, now)), each
    dossier with its fate at the month's end (streams.rules.forecast._fate):
    1 on time, 0 late, 2 undecided."""
    code, name = unit_columns(by)
    return f"""
    SELECT unit_code, unit_name, received_at, dossier_id, procedure_name, due,
        multiIf(standing_now IN ('early', 'on_time', 'late', 'waiting_supplement'),
                    if(late_now = 0, 1, 0),
                late_now = 1 OR supplement_count >= 2, 0,
                due >= {month_end}, 1,
                2) AS fate
    FROM
    (
        SELECT {code} AS unit_code, {name} AS unit_name, received_at, dossier_id,
            procedure_name, due, supplement_count,
            change_standing[arrayCount(x -> x < {now}, change_at)] AS standing_now,
            change_late[arrayCount(x -> x < {now}, change_at)] AS late_now
        FROM ({active_facts_sql(month_start, now, where, _FORECAST_COLUMNS)})
    )"""


def _forecast_units_sql(now: str, month_start: str, month_end: str, by: UnitKind, where: str):
    return f"""
    SELECT unit_code, argMax(unit_name, received_at) AS unit_label, count() AS den,
        countIf(fate = 1) AS on_time, countIf(fate = 0) AS late, countIf(fate = 2) AS undecided
    FROM ({_fates_sql(now, month_start, month_end, by, where)})
    GROUP BY unit_code"""


def forecast_units_sql(
    now: str,
    month_start: str,
    month_end: str,
    by: UnitKind,
    where: str = "",
    table: ScoringTable = DEFAULT_SCORING,
    share_days: int = 90,
) -> str:
    """The 2.1 forecast per unit (streams.rules.forecast.forecast with the units'
    on-time shares of the last `share_days` days, `on_time_shares`): unit_code,
    unit_name, denominator, on_time, late, undecided, share (percent, NULL
    without a dossier finished in those days), best, expected, worst (points,
    two decimals; expected NULL without a share). `now`, `month_start`,
    `month_end` are SQL DateTime expressions (the board: now() and its local month)."""
    two_one = table["2.1"]
    max_c, target_c = _hundredths(two_one.max_points), _hundredths(two_one.target)
    code, _ = unit_columns(by)
    since = f"({now} - {share_days * 86400})"
    shares = f"""
    SELECT unit_code, count() AS finished_recently, countIf(late_now = 0) AS on_time_recently
    FROM
    (
        SELECT {code} AS unit_code, end_at,
            change_late[arrayCount(x -> x < {now}, change_at)] AS late_now
        FROM ({active_facts_sql(since, now, where, _FORECAST_COLUMNS)})
    )
    WHERE end_at >= {since} AND end_at < {now}
    GROUP BY unit_code"""

    def points(rate_num: str, rate_den: str) -> str:
        return _points(rate_num, rate_den, str(max_c), str(target_c))

    expected = points(
        "100 * (toFloat64(on_time) * finished_recently + toFloat64(on_time_recently) * undecided)",
        "toFloat64(den) * finished_recently",
    )
    return f"""
SELECT unit_code, unit_label AS unit_name, den AS denominator, on_time, late, undecided,
    if(finished_recently = 0, NULL, 100 * on_time_recently / finished_recently) AS share,
    {points("100 * (on_time + undecided)", "den")} AS best,
    if(finished_recently = 0, NULL, {expected}) AS expected,
    {points("100 * on_time", "den")} AS worst
FROM ({_forecast_units_sql(now, month_start, month_end, by, where)}) AS units
ANY LEFT JOIN ({shares}) AS shares USING unit_code
ORDER BY unit_code
"""


def at_risk_sql(
    now: str,
    month_start: str,
    month_end: str,
    by: UnitKind,
    where: str = "",
    table: ScoringTable = DEFAULT_SCORING,
) -> str:
    """The at-risk list (streams.rules.forecast: the undecided dossiers, those whose
    finishing on time saves their unit the most 2.1 points first, then the
    earliest due, then the id): dossier_id, unit_code, unit_name,
    procedure_name, due, saving (exact points, unrounded), points_saved (two
    decimals)."""
    two_one = table["2.1"]
    top, target = float(two_one.max_points or 0), float(two_one.target or 100)

    # one more on time than the worst case: `per` while the cap does not bind
    # (one expression, so equal savings are equal floats and sort as the rule's)
    per = f"100 * {top} / (den * {target})"
    saving = f"""multiIf(
            100 * (on_time + 1) <= den * {target}, {per},
            100 * on_time >= den * {target}, 0,
            {top} - 100 * on_time * {top} / (den * {target}))"""
    return f"""
SELECT dossier_id, unit_code, unit_label AS unit_name, procedure_name, due, saving,
    floor(100 * saving + 0.5) / 100 AS points_saved
FROM
(
    SELECT dossier_id, unit_code, unit_label, procedure_name, due,
        {saving} AS saving
    FROM
    (
        SELECT unit_code, dossier_id, procedure_name, due
        FROM ({_fates_sql(now, month_start, month_end, by, where)})
        WHERE fate = 2
    ) AS undecided
    ANY LEFT JOIN ({_forecast_units_sql(now, month_start, month_end, by, where)}) AS units
    USING unit_code
)
ORDER BY saving DESC, due, dossier_id
"""


def local_month_sql(tz: str, now: str = "now()") -> tuple[str, str]:
    """[start, end) of the local calendar month holding `now`, as SQL DateTimes."""
    month = f"toStartOfMonth({now}, {sql_string(tz)})"
    return (
        f"toDateTime({month}, {sql_string(tz)})",
        f"toDateTime(addMonths({month}, 1), {sql_string(tz)})",
    )
