"""Board queries over many dossier facts (DESIGN.md target: every panel
≤ 300 ms p95 over 10 million dossier facts).

Fills each engine — Debian's ClickHouse server 18.16 (started by
streams.services, what the tests run against) and the current engine in
process (chdb, the release production runs) — with the same synthetic
dossier_facts generated inside it (INSERT ... SELECT FROM numbers(N)): ~300
agencies in 12 districts, 40 fields (skewed toward the first, "Đất đai"),
received over the 12 months before today, ~3% unfinished (calibrated on the
portal sample in shared/data), 10-30% late depending on the agency; plus the
units, the alerts those dossiers would have raised and a few hotspot records.
Then runs every panel's SQL of every board (dashboards.boards.BOARDS) and the
boards' variable queries, macros expanded for last calendar month with all
variables at their default (all), 2 warm-ups then `--runs` timed runs each.
Writes bench/results/boards-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common import machine, percentile, services, verdict, write_results

import dashboards.panels
import streams.clickhouse.queries
from dashboards.boards import BOARDS, VARIABLES
from dashboards.macros import expand
from dashboards.panels import Local
from schemas.settings import Settings
from streams.clickhouse.engines import ChdbEngine, DriverEngine
from streams.clickhouse.migrations import migrate
from streams.clickhouse.rows import FACT_COLUMNS
from streams.clickhouse.sql import DATABASE, Engine

TARGET_MS = 300.0
NEVER = "toDateTime('2105-12-31 00:00:00', 'UTC')"
DEFAULTS = dict.fromkeys(VARIABLES, "")  # every variable at "Tất cả"
LOCAL = Local.of(Settings())  # the boards as `motcua dashboards render` writes them
TZ = LOCAL.tz

# One row per number: random draws from independent hashes of the number, so a
# run is reproducible. `end` is today 00:00 UTC: the data stops "now".
FACTS_SQL = """
INSERT INTO {db}.dossier_facts
SELECT dossier_id, bitShiftLeft(toUInt64(events), 32) + toUInt64(toUInt32(updated_at)),
    agency_code, agency_name, level, district_code, district_name, field_code, field_name,
    procedure_code, procedure_name, channel, online_level, received_at, due,
    if(open, {never}, finished_at), if(open, '', outcome),
    if(open, {never}, finished_at), if(open, '', standing),
    supplements, if(NOT open AND standing = 'late' AND h7 % 10 < 6, finished_at, {never}),
    fee_due_at, if(fee_due_at < {never} AND intDiv(h5, 997) % 100 < 50,
                   fee_due_at + 3600, {never}),
    if(intDiv(h4, 991) % 100 < 85, received_at + 300, {never}),
    if(open, 0, toUInt64(took * 0.238)),
    if(overdue_while_open, [received_at, due], [received_at]),
    if(overdue_while_open, ['within_due', 'overdue'],
       [if(open AND supplements > 0, 'waiting_supplement', 'within_due')]),
    if(overdue_while_open, [toUInt8(0), toUInt8(1)], [toUInt8(0)]),
    updated_at, updated_at
FROM
(
    SELECT *,
        (received_at + took >= end_at) OR (age < 60 * 86400 AND h6 % 1000 < 15)
            OR h6 % 1000 < 3 AS open,
        received_at + took AS finished_at,
        if(late, 'late', if(toStartOfDay(finished_at, '{tz}') < toStartOfDay(due, '{tz}'),
                            'early', 'on_time')) AS standing,
        multiIf(intDiv(h8, 1009) % 1000 < 20, 'returned', intDiv(h8, 1009) % 1000 < 35,
                'withdrawn', intDiv(h8, 1009) % 1000 < 50, 'stopped', 'resolved') AS outcome,
        (open AND due < end_at AND supplements = 0) OR (NOT open AND late)
            AS overdue_while_open,
        if(open, 1 + h8 % 2, 2 + h8 % 4) + supplements * 2 AS events,
        if(open, least(received_at + 3600, end_at), finished_at) AS updated_at,  -- = last event
        if(intDiv(h5, 1013) % 100 < 40, received_at + 600, {never}) AS fee_due_at
    FROM
    (
        SELECT *,
            concat('H44-B-', toString(number)) AS dossier_id,
            concat('H44.', toString(a)) AS agency_code,
            concat('Đơn vị số ', toString(a)) AS agency_name,
            multiIf(a < 20, 'province', a < 32, 'district', 'commune') AS level,
            concat('D', toString(d)) AS district_code,
            concat('Huyện số ', toString(d)) AS district_name,
            concat('F', toString(f)) AS field_code,
            if(f = 0, 'Đất đai', concat('Lĩnh vực số ', toString(f))) AS field_name,
            concat('1.', toString(f * 10 + intDiv(h3, 7) % 10)) AS procedure_code,
            concat('Thủ tục số ', toString(f * 10 + intDiv(h3, 7) % 10)) AS procedure_name,
            multiIf(h2 % 100 < 90, 'online', h2 % 100 < 97, 'direct', 'postal') AS channel,
            ['none', 'partial', 'full'][1 + intDiv(h2, 101) % 3] AS online_level,
            end_at - age AS received_at,
            toUInt32((1 + h4 % 15) * 120960) AS limit_s,
            received_at + limit_s AS due,
            h5 % 1000 < 100 + (a % 21) * 10 AS late,
            if(late, toUInt32(limit_s * (1.05 + (h7 % 1000) / 1000)),
               toUInt32(limit_s * (0.2 + 0.8 * (h7 % 1000) / 1000))) AS took,
            toUInt16(h8 % 100 < 12) AS supplements
        FROM
        (
            SELECT number,
                toDateTime({end}) AS end_at,
                cityHash64(number, 1) AS h1, cityHash64(number, 2) AS h2,
                cityHash64(number, 3) AS h3, cityHash64(number, 4) AS h4,
                cityHash64(number, 5) AS h5, cityHash64(number, 6) AS h6,
                cityHash64(number, 7) AS h7, cityHash64(number, 8) AS h8,
                h1 % 300 AS a, a % 12 AS d,
                toUInt32(pow((h2 % 1000) / 1000, 2) * 40) AS f,
                h3 % (365 * 86400) AS age
            FROM numbers({rows})
        )
    )
)
"""

# The alerts these dossiers would have raised: overdue for every dossier that
# passed its due unfinished, due-soon for those still open 8 h before it.
ALERTS_SQL = """
INSERT INTO {db}.alerts
SELECT concat(kind, ':', dossier_id), kind, if(kind = 'overdue', 'critical', 'warning'),
    raised_at, dossier_id, agency_code, district_code, field_code, procedure_code, due,
    if(kind = 'overdue', (toUInt32(least(end_at, toDateTime({end}))) - toUInt32(due)) / 3600, 0),
    concat('Hồ sơ ', dossier_id, if(kind = 'overdue', ' đã quá hạn', ' sắp đến hạn'))
FROM
(
    SELECT *, arrayJoin(['due_soon', 'overdue']) AS kind,
        if(kind = 'overdue', due, due - 28800) AS raised_at
    FROM {db}.dossier_facts
)
WHERE raised_at < least(end_at, toDateTime({end}))
"""

# What the workers write beside the facts (streams.clickhouse.queries.unit_rows).
UNITS_SQL = """
INSERT INTO {db}.units
SELECT kind, code, argMax(name, updated_at), max(updated_at)
FROM
(
    SELECT arrayJoin([('district', district_code, district_name),
                      ('agency', agency_code, agency_name),
                      ('field', field_code, field_name),
                      ('level', level, level)]) AS unit,
        unit.1 AS kind, unit.2 AS code, unit.3 AS name, updated_at
    FROM {db}.dossier_facts
)
GROUP BY kind, code
"""

HOTSPOTS_SQL = """
INSERT INTO {db}.hotspots
SELECT concat(field_code, '|', district_code, '|', toString(at)), state, at, field_code,
    district_code, 40, 18, 0.31, 0.12
FROM
(
    SELECT concat('F', toString(number % 40)) AS field_code,
        concat('D', toString(intDiv(number, 40) % 12)) AS district_code,
        toDateTime({end}) - 86400 * (number % 20) AS at,
        if(number % 3 = 0, 'closed', 'opened') AS state
    FROM numbers(480) WHERE number % 7 = 0
)
"""


# dossier_periods and open_dossiers are filled from the facts insert by ClickHouse
# (migration 0013's views), as for the workers' rows.
TABLES = ("dossier_facts", "dossier_periods", "open_dossiers", "alerts")


def fill(engine: DriverEngine, rows: int, end: datetime) -> dict[str, float]:
    """Insert the synthetic data; returns seconds per step."""
    values = {"db": DATABASE, "rows": rows, "end": int(end.timestamp()), "never": NEVER, "tz": TZ}
    steps: dict[str, float] = {}
    for name, statements in [
        ("facts", (FACTS_SQL,)),
        ("units", (UNITS_SQL,)),
        ("alerts", (ALERTS_SQL,)),
        ("hotspots", (HOTSPOTS_SQL,)),
    ]:
        began = time.perf_counter()
        for sql in statements:
            engine.command(sql.format(**values))
        steps[f"insert_{name}"] = time.perf_counter() - began
    began = time.perf_counter()
    for table in TABLES:
        engine.command(f"OPTIMIZE TABLE {DATABASE}.{table} FINAL")
    steps["optimize_final"] = time.perf_counter() - began
    return steps


def shape(engine: DriverEngine, end: datetime) -> dict[str, float]:
    """What the generated facts look like, to check the spreads."""
    at = int(end.timestamp())
    row = engine.rows(
        f"""
SELECT count(), uniqExact(agency_code), uniqExact(district_code), uniqExact(field_code),
    countIf(end_at > toDateTime({at})) / count(),
    countIf(final_standing = 'late') / countIf(final_standing != ''),
    min(received_at), max(received_at), avg(length(change_at))
FROM {DATABASE}.dossier_facts"""
    )[0]
    alerts = engine.rows(f"SELECT count() FROM {DATABASE}.alerts")[0][0]
    parts = engine.rows(
        f"SELECT table, count(), sum(rows), sum(bytes) FROM system.parts "
        f"WHERE database = '{DATABASE}' "
        f"AND active AND table IN {TABLES} GROUP BY table ORDER BY table"
    )
    return {
        "facts": row[0],
        "agencies": row[1],
        "districts": row[2],
        "fields": row[3],
        "open_share": round(row[4], 3),
        "late_share_of_finished": round(row[5], 3),
        "received_from": str(row[6]),
        "received_to": str(row[7]),
        "avg_changes": round(row[8], 2),
        "alerts": alerts,
        "tables": {
            t: {"parts": n, "rows": int(r), "mib": round(b / 2**20, 1)} for t, n, r, b in parts
        },
    }


def queries() -> list[tuple[str, str, str]]:
    """(board, title, SQL) of every panel target, then each distinct variable query."""
    out, variables = [], {}
    for name, build in BOARDS.items():
        board = build(LOCAL)
        for panel in board["panels"]:
            for target in panel["targets"]:
                out.append((name, panel["title"], target["rawSql"]))
        for v in board["templating"]["list"]:
            variables.setdefault(v["query"], f"biến ${v['name']}")
    out += [("(biến)", title, sql) for sql, title in variables.items()]
    return out


def scan_facts_sql(s: str, e: str, where: str = "", columns=FACT_COLUMNS) -> str:
    """The source the panels read before dossier_periods and open_dossiers:
    every fact, merged on read. Timed beside the current one."""
    only = f" AND ({where})" if where else ""
    return (
        f"SELECT {', '.join(columns)} FROM {DATABASE}.dossier_facts FINAL "
        f"WHERE received_at < {e} AND end_at >= {s}{only}"
    )


def queries_reading_facts() -> list[tuple[str, str, str]]:
    """queries(), with every panel reading dossier_facts as before."""
    current = streams.clickhouse.queries.active_facts_sql
    streams.clickhouse.queries.active_facts_sql = dashboards.panels.active_facts_sql = (
        scan_facts_sql
    )
    try:
        built = queries()
    finally:
        streams.clickhouse.queries.active_facts_sql = dashboards.panels.active_facts_sql = current
    before, after = f"{DATABASE}.dossier_facts FINAL", f"{DATABASE}.open_dossiers FINAL"
    return [(board, title, sql.replace(after, before)) for board, title, sql in built]


def timed(engine: DriverEngine, sql: str, runs: int, warm: int) -> tuple[list[float], int]:
    """Milliseconds of each timed run (client round trip) and the rows returned."""
    for _ in range(warm):
        engine.rows(sql)
    times, rows = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        rows = len(engine.rows(sql))
        times.append((time.perf_counter() - began) * 1000)
    return times, rows


def last_month() -> tuple[datetime, datetime]:
    """The last complete calendar month in the province's time zone."""
    this = datetime.now(ZoneInfo(TZ)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (this - timedelta(days=1)).replace(day=1), this


ENGINES = ("server", "chdb")


@contextmanager
def engine_of(kind: str, work: Path) -> Iterator[Engine]:
    """Debian's ClickHouse server (what tests run against) or the current engine
    in-process (chdb, the release production runs), migrated and empty."""
    if kind == "chdb":
        engine = ChdbEngine(str(work / "chdb"))
        migrate(engine)
        yield engine
        engine.close()
        return
    with services(work, broker=False) as (_, ch):
        engine = ch.engine(max_execution_time=600)
        yield engine
        engine.close()


def measure(engine: Engine, args, end: datetime, span: tuple[datetime, datetime]) -> dict:
    """Fill one engine and time every query on it."""
    steps = fill(engine, args.rows, end)
    data = shape(engine, end)
    results = []
    for (board, title, raw), (*_, old) in zip(queries(), queries_reading_facts(), strict=True):
        sql = expand(raw, *span, DEFAULTS)
        times, rows = timed(engine, sql, args.runs, args.warm)
        bare, _ = timed(engine, sql.replace(" FINAL", ""), args.unfinal_runs, 0)
        before = [] if old == raw else timed(engine, expand(old, *span, DEFAULTS), *args.before)[0]
        results.append(
            {
                "board": board,
                "panel": title,
                "rows": rows,
                "p50_ms": percentile(times, 50),
                "p95_ms": percentile(times, 95),
                "max_ms": max(times),
                "p50_without_final_ms": percentile(bare, 50),
                "p50_reading_facts_ms": percentile(before, 50) if before else None,
                "sql": sql,
            }
        )
        print(f"{board:10} {percentile(times, 95):8.0f} ms p95  {title}", flush=True)
    version = engine.rows("SELECT version()")[0][0]
    return {"clickhouse": version, "fill_seconds": steps, "data": data, "queries": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--unfinal-runs", type=int, default=3, help="runs without FINAL")
    parser.add_argument(
        "--before",
        type=int,
        nargs=2,
        default=(3, 1),
        metavar=("RUNS", "WARM"),
        help="runs and warm-ups of each panel as it read dossier_facts before",
    )
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    args = parser.parse_args()
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    span = last_month()
    runs = {}
    for kind in args.engines:
        work = Path(tempfile.mkdtemp(prefix=f"motcua-bench-boards-{kind}-"))
        with engine_of(kind, work) as engine:
            runs[kind] = measure(engine, args, end, span)
        shutil.rmtree(work)  # ~1 GB at 10 M rows; kept only if the run fails
    where = machine(None)
    where["clickhouse"] = ", ".join(f"{run['clickhouse']} ({k})" for k, run in runs.items())
    report(args, runs, span, where)


def _cell(run: dict | None, i: int) -> str:
    if run is None:
        return "– | – | – | –"
    r = run["queries"][i]
    ok = "yes" if r["p95_ms"] <= TARGET_MS else "**no**"
    before = r.get("p50_reading_facts_ms")
    was = "–" if before is None else f"{before:.0f} ({before / r['p50_ms']:.1f}×)"
    return f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {ok} | {was}"


def _summary(kind: str, run: dict) -> list[str]:
    results = run["queries"]
    over = [r for r in results if r["p95_ms"] > TARGET_MS]
    worst = max(results, key=lambda r: r["p95_ms"])
    lines = [
        f"- {kind} (ClickHouse {run['clickhouse']}), every panel ≤ {TARGET_MS:.0f} ms p95: "
        f"**{verdict(not over)}** — {len(over)} of {len(results)} queries over; worst "
        f"{worst['p95_ms']:.0f} ms ({worst['p95_ms'] / TARGET_MS:.1f}× the target): "
        f"{worst['board']} / {worst['panel']}; fill "
        + ", ".join(f"{k} {v:.1f} s" for k, v in run["fill_seconds"].items())
    ]
    final = [r for r in over if "FINAL" in r["sql"] and r["p50_ms"] > 0]
    if final:
        saved = percentile([1 - r["p50_without_final_ms"] / r["p50_ms"] for r in final], 50)
        still = sum(r["p50_without_final_ms"] > TARGET_MS for r in final)
        lines.append(
            f"  - of the {len(final)} slow panels that read with FINAL, the median would take "
            f"{saved:.0%} less without it (merge on read), and {still} would still be over "
            "(the scan itself)"
        )
    return lines


def report(args, runs: dict[str, dict], span, where) -> None:
    first = next(iter(runs.values()))
    data = first["data"]
    server, current = runs.get("server"), runs.get("chdb")
    version = {k: run["clickhouse"] for k, run in runs.items()}
    lines = [
        f"# Board queries ({data['facts']:,} synthetic dossier facts)",
        "",
        f"Time range {span[0]:%Y-%m-%d} → {span[1]:%Y-%m-%d} (last calendar month, "
        f'{TZ}), every variable at "all"; {args.warm} warm-ups then {args.runs} runs '
        "per query, client round-trip time, on two engines filled alike: Debian's "
        f"ClickHouse server {version.get('server', '(not run)')} over the native protocol, "
        f"and the current engine {version.get('chdb', '(not run)')} in-process (chdb; "
        "production runs a current release). Facts: "
        f"{data['agencies']} agencies, {data['districts']} districts, {data['fields']} fields, "
        f"received {data['received_from']} → {data['received_to']} UTC, "
        f"{data['open_share']:.1%} unfinished (a real province has about a month's "
        "receipts minus completions open: 184,513 − 147,765 in the portal sample of "
        "shared/data/portal-766, ~2% of a year), "
        f"{data['late_share_of_finished']:.0%} of the finished late; {data['alerts']:,} alerts.",
        "",
        'Columns "before": p50 of the same panel reading dossier_facts as it did before '
        "dossier_periods and open_dossiers, same run and engine (its ratio to p50 now).",
        "",
        "| board | panel | rows | 18.16 p50 ms | 18.16 p95 ms | ≤ 300 ms | 18.16 before "
        "| current p50 ms | current p95 ms | ≤ 300 ms | current before |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(first["queries"]):
        lines.append(
            f"| {r['board']} | {r['panel']} | {r['rows']} | {_cell(server, i)} "
            f"| {_cell(current, i)} |"
        )
    lines.append("")
    for kind, run in runs.items():
        lines += _summary(kind, run)
    tables = data["tables"]
    lines.append(
        "- where the time goes: a period panel reads, with FINAL, the periods (calendar "
        "months) its range touches from dossier_periods "
        f"({tables['dossier_periods']['rows']:,} rows, "
        f"{tables['dossier_periods']['rows'] / data['facts']:.1f} per dossier; one of the "
        "year's 13 periods for a month) plus open_dossiers "
        f"({tables['open_dossiers']['rows']:,} rows); what is left is per-row work on "
        "those rows (String columns, the standing-timeline arrays), merged in one stream "
        "under FINAL"
    )
    over = {k: sum(q["p95_ms"] > TARGET_MS for q in run["queries"]) for k, run in runs.items()}
    payload = {"rows": args.rows, "runs": args.runs, "warm": args.warm, "range": span}
    payload |= {"engines": runs, "target_ms": TARGET_MS, "over": over}
    payload |= {"met": all(n == 0 for n in over.values())}
    write_results("boards", lines, payload, where)


if __name__ == "__main__":
    main()
