"""Peers: where faust costs us (issue #14's speed item), side by side in one run
on one seeded events file (the province simulator, `--events`, default 100k):

(a) the offline report on the file: parse + fold + report, no broker (the
    timing of bench/offline_report.py: `reports.sources.FileSource`);
(b) the publisher alone: `streams.kafka.clients.replay_files` (what `motcua replay`
    runs: validate, then whole record batches (streams.kafka.bulk), acks=all) into a fresh topic;
(c) our worker end to end: one `motcua worker` on that topic, into ClickHouse;
(d) the same stateful job written as a quix-streams user would
    (bench/quix_peer.py) on the same topic, into a ClickHouse server of its own.

Run `--rounds` (3) times, interleaved, each consumer on an empty database; the
results give the medians and every round (the machine is shared and noisy).
(c) and (d) find every event already on the topic. Start-up and the group join
are not timed: the clock starts at the first poll (every 0.1 s) that shows a
stored batch, and only the events stored after it count. (c) ends when the
stored progress covers every published offset (then confirmed by
`wait_until_stored`), (d) when its raw_events hold every event. Afterwards
the last round's two databases' facts are compared, and their period
reports with each other and with the offline report's: a peer that computes
something else is worthless.

Writes bench/results/peers-latest.{md,json}. Needs quixstreams, which the
project's extras cannot hold (it pins pydantic<2.14): bench/README.md and
`make bench` install it; without it (d) is skipped, said so, and the exit
status is 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from statistics import median

import sampling as spy
from common import (
    MOTCUA_BACKFILL,
    QUIX_INSTALL,
    ROOT,
    bench_settings,
    cpu_seconds,
    encode,
    machine,
    services,
    simulated_events,
    start_worker,
    stop_worker,
    verdict,
    write_results,
)

from ingest.replay import replay_files
from reports.offline import Rejected
from reports.sources import FileSource
from schemas.settings import Settings
from streams.clickhouse.engines import DriverEngine
from streams.clickhouse.migrations import migrate
from streams.clickhouse.queries import report_rows
from streams.clickhouse.rollups import month_bounds
from streams.clickhouse.rows import FACT_COLUMNS
from streams.clickhouse.sql import DATABASE
from streams.kafka.bulk import BulkProducer
from streams.progress import stored_offsets, wait_until_stored
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind
from streams.services import ClickHouseServer

TARGET_RATIO = 0.35  # (c) ≥ 0.35 × (a)
YEAR_EVENTS = 10_000_000
YEAR_SECONDS = 600.0  # a province-year in ≤ 10 min
POLL = 0.1
# every fact column but the two that say when a row was computed
COMPARED = [c for c in FACT_COLUMNS if c not in ("version", "updated_at")]


def quix_missing() -> str | None:
    """None when quixstreams imports in this venv, else why not."""
    probe = subprocess.run(
        [sys.executable, "-c", "import quixstreams"], capture_output=True, text=True
    )
    if probe.returncode == 0:
        return None
    lines = probe.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit {probe.returncode}"


def create_events_topic(settings: Settings) -> None:
    """The events topic, its retention stated: quix reads `retention.ms` of an
    input topic to configure its changelog, and Tansu describes only the
    configs a topic was created with."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    configs = {"retention.ms": "-1", "retention.bytes": "-1"}
    topic = NewTopic(settings.events_topic, settings.topic_partitions, 1, topic_configs=configs)
    admin.create_topics([topic])
    admin.close()


# -- (a) and (b) --------------------------------------------------------------------


def offline_report(path: Path, settings: Settings, span: tuple[datetime, datetime]) -> dict:
    cal = working_calendar(settings)
    first, last = cal.local(span[0]), cal.local(span[1])
    start = month_bounds(first.year, first.month, cal)[0]
    end = month_bounds(last.year, last.month, cal)[1]
    began, cpu = time.perf_counter(), time.process_time()
    rejects: list[Rejected] = []
    source = FileSource([path], cal, settings.province, rejects.append)
    rows = source.rows(start, end, UnitKind.AGENCY)
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "cpu_seconds": {"this process": time.process_time() - cpu},
        "rejected": len(rejects),
        "period": [start, end],
        "rows": rows,
    }


def publisher(path: Path, settings: Settings, others: dict[str, int]) -> tuple[dict, dict]:
    cpu = {name: cpu_seconds(pid) for name, pid in others.items()}
    producer = BulkProducer(settings)
    began, own = time.perf_counter(), time.process_time()
    result = replay_files([path], settings, producer)
    seconds = time.perf_counter() - began
    own = time.process_time() - own
    producer.close()
    cpu = {name: cpu_seconds(pid) - cpu[name] for name, pid in others.items()}
    run = {
        "seconds": seconds,
        "published": result.published,
        "rejected": result.rejected,
        "cpu_seconds": {"publisher (this process)": own} | cpu,
    }
    return run, result.offsets


# -- (c) and (d): a consumer on a full topic ------------------------------------------


def timed_consumer(
    proc: subprocess.Popen,
    stored: Callable[[], int],
    total: int,
    pids: dict[str, int],
    profile: Path | None,
    timeout: float = 3600,
) -> dict:
    """Poll `stored()` (events stored so far) until it reaches `total`; the clock
    runs from the first poll showing anything stored."""
    spawned = time.perf_counter()
    while (first := stored()) == 0:
        if proc.poll() is not None:
            raise RuntimeError(f"the consumer exited with {proc.returncode}; see its log")
        if time.perf_counter() - spawned > 600:
            raise TimeoutError("nothing stored 10 min after start")
        time.sleep(POLL)
    began = time.perf_counter()
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    sampler = spy.start(proc.pid, profile) if profile else None
    done = first
    while done < total:
        if proc.poll() is not None and (done := stored()) < total:
            raise RuntimeError(f"the consumer exited with {proc.returncode}; see its log")
        if time.perf_counter() - began > timeout:
            raise TimeoutError(f"{done} of {total} stored after {timeout:.0f} s")
        time.sleep(POLL)
        done = stored()
    ended = time.perf_counter()
    cpu = {name: cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
    spy.stop(sampler)
    timed = total - first
    if timed <= 0:
        raise RuntimeError("everything was stored in the first batch: use more --events")
    return {
        "seconds": ended - began,
        "events_timed": timed,
        "stored_at_clock_start": first,
        "start_up_seconds": began - spawned,
        "cpu_seconds": cpu,
        "profile": spy.summary(profile) if profile else {},
        "packages": spy.by_package(profile) if profile else [],
    }


def worker_run(settings, engine, work: Path, offsets: dict[int, int], others, profile) -> dict:
    """(c): `motcua worker` on the full topic until its progress covers `offsets`."""
    total = sum(o + 1 for o in offsets.values())

    def stored() -> int:
        have = stored_offsets(engine, settings.events_topic)
        return sum(min(have.get(p, -1), o) + 1 for p, o in offsets.items())

    proc = start_worker(settings, work / "worker", work / "worker.log")
    try:
        pids = {"worker": proc.pid} | others
        run = timed_consumer(proc, stored, total, pids, work / "worker.pyspy" if profile else None)
        began = time.perf_counter()
        wait_until_stored(engine, settings, offsets, timeout=120)
        run["confirm_seconds"] = time.perf_counter() - began  # not in `seconds`
    finally:
        stop_worker(proc)
    return run


def backfill_run(settings, engine, work: Path, offsets: dict[int, int], others, profile) -> dict:
    """(e): `motcua backfill` on the full topic; it stops by itself once caught up."""
    total = sum(o + 1 for o in offsets.values())
    settings = settings.model_copy(update={"app_id": f"{settings.app_id}-backfill"})

    def stored() -> int:
        have = stored_offsets(engine, settings.events_topic)
        return sum(min(have.get(p, -1), o) + 1 for p, o in offsets.items())

    proc = start_worker(settings, work / "backfill", work / "backfill.log", MOTCUA_BACKFILL)
    try:
        pids = {"backfill": proc.pid} | others
        where = work / "backfill.pyspy" if profile else None
        run = timed_consumer(proc, stored, total, pids, where)
        run["exit_code"] = proc.wait(timeout=120)  # it stops by itself once caught up
        wait_until_stored(engine, settings, offsets, timeout=120)
    finally:
        stop_worker(proc)
    return run


def facts_of(engine: DriverEngine) -> list[tuple]:
    """Every dossier's facts (but when they were computed), by dossier."""
    sql = f"SELECT {', '.join(COMPARED)} FROM {DATABASE}.dossier_facts FINAL ORDER BY dossier_id"
    return engine.rows(sql)


def quix_run(settings, ch: ClickHouseServer, work: Path, total: int, others, args) -> dict:
    """(d): the quix peer on the same topic, into `ch`, until raw_events hold `total`."""
    engine = ch.engine()
    argv = [sys.executable, str(ROOT / "bench" / "quix_peer.py")]
    argv += ["--bootstrap", settings.bootstrap_servers, "--topic", settings.events_topic]
    argv += ["--group", f"quix-{uuid.uuid4().hex[:6]}", "--clickhouse", f"{ch.host}:{ch.tcp_port}"]
    argv += ["--state-dir", str(work / "quix-state")]
    argv += ["--commit-every", str(settings.batch_max_events)]
    argv += ["--commit-interval", str(settings.commit_interval)]
    if not args.changelog:
        argv.append("--no-changelog")
    log = (work / "quix.log").open("ab")
    env = os.environ | ch.env("writer")  # the peer writes as the writer, like our worker
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stored() -> int:
        return int(engine.rows(f"SELECT count() FROM {DATABASE}.raw_events")[0][0])

    try:
        pids = {"quix peer": proc.pid} | others
        profile = work / "quix.pyspy" if args.profile else None
        return timed_consumer(proc, stored, total, pids, profile)
    finally:
        stop_worker(proc)
        log.close()


# -- correctness -----------------------------------------------------------------


def compare(ours: DriverEngine, peer: DriverEngine, settings: Settings, offline: dict) -> dict:
    facts_sql = (
        f"SELECT {', '.join(COMPARED)} FROM {DATABASE}.dossier_facts FINAL ORDER BY dossier_id"
    )
    a, b = ours.rows(facts_sql), peer.rows(facts_sql)
    mine, theirs = {r[0]: r for r in a}, {r[0]: r for r in b}
    differ = sorted(d for d in mine.keys() | theirs.keys() if mine.get(d) != theirs.get(d))
    raw_sql = (
        f"SELECT count(), uniqExact(event_id), sum(cityHash64(event_id)) FROM {DATABASE}.raw_events"
    )
    raw_ours, raw_peer = ours.rows(raw_sql)[0], peer.rows(raw_sql)[0]
    start, end = offline["period"]
    cal, province = working_calendar(settings), settings.province
    report_ours = report_rows(ours, start, end, UnitKind.AGENCY, cal, province)
    report_peer = report_rows(peer, start, end, UnitKind.AGENCY, cal, province)
    example = None
    if differ:
        d = differ[0]
        one, other = mine.get(d), theirs.get(d)
        example = {
            "dossier_id": d,
            "columns": [
                (c, x, y)
                for c, x, y in zip(COMPARED, one or [None] * 99, other or [None] * 99, strict=False)
                if x != y
            ],
        }
    return {
        "facts_ours": len(a),
        "facts_peer": len(b),
        "facts_equal": not differ,
        "dossiers_differing": len(differ),
        "first_difference": example,
        "raw_events_ours": list(raw_ours),
        "raw_events_peer": list(raw_peer),
        "raw_events_equal": tuple(raw_ours[1:]) == tuple(raw_peer[1:]),
        "report_ours_equals_peer": report_ours == report_peer,
        "report_ours_equals_offline": report_ours == offline["rows"],
        "report_rows": len(report_ours),
    }


# -- the run ---------------------------------------------------------------------


def fresh(engine: DriverEngine) -> None:
    """An empty database: a worker started on a database holding the same
    dossiers would read their stored histories, other work than a first run's."""
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    migrate(engine)


def one_round(n: int, path: Path, span, broker, ch, peer_ch, work: Path, args) -> tuple:
    """(a), (b) into a fresh topic, (c) and (d) on it, each consumer on an empty database."""
    settings = bench_settings(broker, ch, f"peers{n}")
    where = work / f"round-{n}"
    where.mkdir()
    runs: dict[str, dict] = {}
    print(f"round {n}: (a) offline report", flush=True)
    offline = offline_report(path, settings, span)
    runs["offline"] = {k: v for k, v in offline.items() if k != "rows"}
    runs["offline"]["events_timed"] = sum(1 for _ in path.open("rb"))

    print(f"round {n}: (b) publisher", flush=True)
    create_events_topic(settings)
    runs["publisher"], offsets = publisher(path, settings, {"broker": broker.pid})
    total = runs["publisher"]["events_timed"] = runs["publisher"]["published"]

    print(f"round {n}: (e) motcua backfill", flush=True)
    engine = ch.engine()
    fresh(engine)
    others = {"broker": broker.pid, "clickhouse": ch.pid}
    runs["backfill"] = backfill_run(settings, engine, where, offsets, others, args.profile)
    backfilled = facts_of(engine)
    start, end = offline["period"]
    cal = working_calendar(settings)
    report = report_rows(engine, start, end, UnitKind.AGENCY, cal, settings.province)
    runs["backfill"]["report_equals_offline"] = report == offline["rows"]

    print(f"round {n}: (c) motcua worker", flush=True)
    fresh(engine)
    runs["worker"] = worker_run(settings, engine, where, offsets, others, args.profile)
    runs["backfill"]["facts_equal_worker"] = facts_of(engine) == backfilled

    if peer_ch is not None:
        print(f"round {n}: (d) quix peer", flush=True)
        fresh(peer_ch.engine())
        others = {"broker": broker.pid, "clickhouse": peer_ch.pid, "idle clickhouse": ch.pid}
        runs["quix"] = quix_run(settings, peer_ch, where, total, others, args)
    for run in runs.values():
        run["events_per_second"] = run["events_timed"] / run["seconds"]
    return runs, offline, settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=1.0, help="simulator scale")
    parser.add_argument(
        "--rounds", type=int, default=3, help="(a)-(d) this many times, interleaved; medians"
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="no py-spy")
    parser.add_argument(
        "--no-changelog",
        dest="changelog",
        action="store_false",
        help="the quix peer without its State changelog topic (on by default, as a user gets)",
    )
    args = parser.parse_args()
    missing = quix_missing()
    if missing:
        print(
            f"quixstreams is missing ({missing}): (d) will not run. Install it with:\n"
            f"  {QUIX_INSTALL}",
            file=sys.stderr,
        )

    load_at_start = os.getloadavg()
    events, source = simulated_events(args.events, scale=args.scale)
    dossiers = len({e.dossier_id for e in events})
    span = (min(e.at for e in events), max(e.at for e in events))
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-peers-"))
    path = work / "events.jsonl"
    with path.open("wb") as out:
        for e in events:
            out.write(encode(e) + b"\n")
    del events
    print(f"events file: {path} ({args.events:,} events, {dossiers:,} dossiers)", flush=True)

    rounds: list[dict[str, dict]] = []
    check: dict = {}
    with services(work) as (broker, ch), ExitStack() as stack:
        where = machine(ch.engine()) | peer_versions()
        peer_ch = None if missing else stack.enter_context(ClickHouseServer(work / "ch-quix"))
        for n in range(1, args.rounds + 1):
            runs, offline, settings = one_round(n, path, span, broker, ch, peer_ch, work, args)
            rounds.append(runs)
        if peer_ch is not None:
            print("correctness (the last round's databases)", flush=True)
            ours = ch.engine()
            peer = peer_ch.engine()
            check = compare(ours, peer, settings, offline)
    common = {
        "events": args.events,
        "dossiers": dossiers,
        "span": [str(s) for s in span],
        "source": source,
        "rounds": args.rounds,
        "quix_changelog": args.changelog,
        "profiled": args.profile,
        "quix_missing": missing,
        "work_dir": str(work),
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
    }
    report(common, rounds, check, where)
    return 2 if missing else 0


def backfill_lines(rounds: list[dict[str, dict]], rate: dict[str, float]) -> list[str]:
    if "backfill" not in rate:
        return []
    e_over_a = rate["backfill"] / rate["offline"]
    each = [r["backfill"]["events_per_second"] / r["offline"]["events_per_second"] for r in rounds]
    year = YEAR_EVENTS / rate["backfill"]
    equal = all(r["backfill"]["facts_equal_worker"] for r in rounds)
    offline = all(r["backfill"]["report_equals_offline"] for r in rounds)
    exits = [r["backfill"]["exit_code"] for r in rounds]
    return [
        f"- (e)/(a) = {e_over_a:.2f} (each round: {_listed(each, '.2f')}): target ≥ "
        f"{TARGET_RATIO}: **{verdict(e_over_a >= TARGET_RATIO)}**; (e)/(c) = "
        f"{rate['backfill'] / rate['worker']:.1f}",
        f"- (e) stored facts equal to (c)'s in every round: **{'yes' if equal else 'NO'}**; "
        f"its period report equals the offline report's: **{'yes' if offline else 'NO'}**; "
        f"it stopped by itself once caught up (exit codes {exits})",
        f"- **extrapolation**: a province-year through `motcua backfill` at (e)'s median rate "
        f"would take {year / 60:.0f} min ({year / YEAR_SECONDS:.1f}× the 10 min target)",
    ]


def peer_versions() -> dict[str, str]:
    from common import _version

    return {p: _version(p) for p in ("quixstreams", "confluent-kafka", "rocksdict")}


LABELS = {
    "offline": "(a) offline report: parse + fold + report, no broker",
    "publisher": "(b) publisher: `replay_files` (what `motcua replay` runs), acks=all",
    "worker": "(c) motcua worker, end to end into ClickHouse",
    "quix": "(d) quix-streams peer, end to end into ClickHouse",
    "backfill": "(e) `motcua backfill`: aiokafka batches, the same rules and progress",
}
# the process doing the run's own work, in its cpu_seconds
MAIN_PROCESS = {
    "offline": "this process",
    "publisher": "publisher (this process)",
    "worker": "worker",
    "quix": "quix peer",
    "backfill": "backfill",
}


def _per_event(run: dict, process: str) -> float:
    """CPU microseconds per timed event of one process."""
    return run["cpu_seconds"][process] / run["events_timed"] * 1e6


def _listed(values: list[float], fmt: str = ",.0f") -> str:
    return ", ".join(format(v, fmt) for v in values)


def report(common: dict, rounds: list[dict[str, dict]], check: dict, where: dict) -> None:
    keys = [k for k in LABELS if k in rounds[0]]
    per_round = {k: [r[k]["events_per_second"] for r in rounds] for k in keys}
    rate = {k: median(v) for k, v in per_round.items()}
    cpu = {k: [_per_event(r[k], MAIN_PROCESS[k]) for r in rounds] for k in keys}
    n = len(rounds)
    lines = [
        f"# Peers ({common['events']:,} events, {common['dossiers']:,} dossiers, "
        f"{n} interleaved round(s))",
        "",
        "| run | events/s (median) | each round | CPU µs/event of its process (median) |",
        "|---|---|---|---|",
    ]
    for key, label in LABELS.items():
        if key in rate:
            lines.append(
                f"| {label} | {rate[key]:,.0f} | {_listed(per_round[key])} "
                f"| {median(cpu[key]):.0f} |"
            )
        else:
            lines.append(f"| {label} | not run | | |")
    c_over_a = rate["worker"] / rate["offline"]
    met_ratio = c_over_a >= TARGET_RATIO
    needed = YEAR_EVENTS / YEAR_SECONDS
    met_pub = rate["publisher"] >= needed
    year = YEAR_EVENTS / rate["worker"]
    each = [r["worker"]["events_per_second"] / r["offline"]["events_per_second"] for r in rounds]
    lines += [
        "",
        f"- (c)/(a) = {c_over_a:.2f} (each round: {_listed(each, '.2f')}): target ≥ "
        f"{TARGET_RATIO}: **{verdict(met_ratio)}**",
    ]
    c_over_d = None
    if "quix" in rate:
        c_over_d = rate["worker"] / rate["quix"]
        each = [r["worker"]["events_per_second"] / r["quix"]["events_per_second"] for r in rounds]
        faster = (
            f"our worker is {c_over_d:.2f}× the quix-streams peer"
            if c_over_d >= 1
            else f"the quix-streams peer is {1 / c_over_d:.2f}× our worker"
        )
        lines.append(f"- (c)/(d) = {c_over_d:.2f} (each round: {_listed(each, '.2f')}): {faster}")
    else:
        lines.append(
            f"- (d) **not run**: quixstreams is missing ({common['quix_missing']}); "
            f"install it with `{QUIX_INSTALL}`"
        )
    lines += backfill_lines(rounds, rate)
    lines += [
        f"- (b) the publisher, {rate['publisher']:,.0f} events/s: a province-year "
        f"({YEAR_EVENTS:,} events) in ≤ {YEAR_SECONDS / 60:.0f} min needs {needed:,.0f}: "
        f"**{verdict(met_pub)}** ({YEAR_EVENTS / rate['publisher'] / 60:.1f} min at this rate)",
        f"- **extrapolation**, not a measurement: a province-year through one worker at (c)'s "
        f"median rate would take {year / 60:.0f} min ({year / YEAR_SECONDS:.1f}× the 10 min "
        f"target); it assumes the rate holds for a {YEAR_EVENTS / common['events']:.0f}× "
        "longer run",
        *correctness_lines(check),
        *why(rounds, cpu),
        "- the machine has 2 cores, shared with other work during the run (load average "
        f"{_listed(common['load_average']['start'], '.1f')} at the start, "
        f"{_listed(common['load_average']['end'], '.1f')} at the end): rates and CPU per event "
        "move between rounds with it, which is why each round is listed",
        f"- events: {common['source']}; event times {common['span'][0]} → "
        f"{common['span'][1]}; quixstreams {where['quixstreams']}, confluent-kafka "
        f"{where['confluent-kafka']}, rocksdict {where['rocksdict']}",
        "- how: each round runs (a), then (b) into a fresh topic, then (c) and (d) on that "
        "topic, each on an empty database; (c) and (d) find the whole file on the topic, so "
        "their clock starts at the first poll (0.1 s) showing a stored batch (start-up and the "
        "group join are out, and so are the events of that batch); (c) stops when its stored "
        "progress covers every published offset (`wait_until_stored` then confirms it on the "
        "broker's log, not timed), (d) when its raw_events hold every event",
        "- differences in the work: (d) folds a dossier's whole history at every message "
        "(quix's stateful apply) and stores per partition per checkpoint (BatchingSink, one "
        "fact row per dossier and partition batch); (c) folds each dossier once per batch, "
        "stores once per batch, and also runs the worker's timers (the watch step every "
        "30 s: deadlines and hotspots), which (d) does not; both use our codec, encoders "
        "and ClickHouse tables; (d) "
        + ("also writes its State changelog topic" if common["quix_changelog"] else "ran with ")
        + ("" if common["quix_changelog"] else "--no-changelog"),
    ]
    last = rounds[-1]
    profiled = (
        ("worker", "worker in (c)"),
        ("quix", "quix peer in (d)"),
        ("backfill", "backfill in (e)"),
    )
    for key, what in profiled:
        if key not in last:
            continue
        if not common["profiled"]:
            lines.append(f"- the {what} was not profiled (--no-profile)")
            continue
        lines += spy.lines(last[key]["profile"], f"{what}, round {n}")
        if last[key]["packages"]:
            lines.append(
                "  - self time by package: "
                + ", ".join(f"{k} {v:.0%}" for k, v in last[key]["packages"])
            )
    data = common | {
        "rounds_runs": rounds,
        "events_per_second_median": rate,
        "events_per_second_each_round": per_round,
        "cpu_us_per_event_each_round": cpu,
        "worker_over_offline": c_over_a,
        "backfill_over_offline": rate.get("backfill", 0) / rate["offline"],
        "target_ratio": TARGET_RATIO,
        "ratio_met": met_ratio,
        "worker_over_quix": c_over_d,
        "publisher_needed_events_per_second": needed,
        "publisher_met": met_pub,
        "year_seconds_extrapolated": year,
        "correctness": check,
    }
    write_results("peers", lines, data, where)


def why(rounds: list[dict[str, dict]], cpu: dict[str, list[float]]) -> list[str]:
    """What the measurements say about where the time goes (medians over rounds)."""

    def busy(key: str) -> str:
        shares = [r[key]["cpu_seconds"][MAIN_PROCESS[key]] / r[key]["seconds"] for r in rounds]
        return f"{median(shares):.0%}"

    def beside(key: str, process: str) -> float:
        return median(_per_event(r[key], process) for r in rounds)

    out = [
        f"- why (c): the worker process was busy {busy('worker')} of a core, "
        f"{median(cpu['worker']):.0f} µs CPU per event (rounds: {_listed(cpu['worker'])}), "
        f"ClickHouse {beside('worker', 'clickhouse'):.0f}, the broker "
        f"{beside('worker', 'broker'):.0f}; (a) does parse + fold + report in "
        f"{median(cpu['offline']):.0f} µs per event, in one process"
    ]
    if "quix" in cpu:
        out.append(
            f"- why (d): the quix peer process was busy {busy('quix')} of a core, "
            f"{median(cpu['quix']):.0f} µs CPU per event (rounds: {_listed(cpu['quix'])}), "
            f"ClickHouse {beside('quix', 'clickhouse'):.0f}, the broker "
            f"{beside('quix', 'broker'):.0f}"
        )
    out.append(
        f"- why (b): the publisher spent {median(cpu['publisher']):.0f} µs CPU per event "
        f"(validate, serialize, record batches; busy {busy('publisher')} of a core), the broker "
        f"{beside('publisher', 'broker'):.0f}"
    )
    return out


def correctness_lines(check: dict) -> list[str]:
    if not check:
        return []

    def said(equal: bool, yes: str = "equal", no: str = "DIFFER") -> str:
        return f"**{yes}**" if equal else f"**{no}**"

    lines = [
        f"- correctness: the peer's facts and ours {said(check['facts_equal'])} "
        f"({check['facts_ours']:,} vs {check['facts_peer']:,} dossiers, every column but "
        f"version and updated_at; {check['dossiers_differing']} differ); raw events "
        f"{said(check['raw_events_equal'])} ({check['raw_events_ours'][1]:,} vs "
        f"{check['raw_events_peer'][1]:,} distinct event ids)",
        f"- the period report by agency ({check['report_rows']} rows) from the peer's database "
        f"and from ours {said(check['report_ours_equals_peer'])}; ours and the offline "
        f"report (a) {said(check['report_ours_equals_offline'])}",
    ]
    if check["first_difference"]:
        lines.append(f"- first differing dossier: {check['first_difference']}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
