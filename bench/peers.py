"""Peers: where faust costs us (issue #14's speed item), side by side in one run
on one seeded events file (the province simulator, `--events`, default 100k):

(a) the offline report on the file: parse + fold + report, no broker (the
    timing of bench/offline_report.py: `reports.sources.FileSource`);
(b) the publisher alone: `streams.replay.replay_files` (what `motcua replay`
    runs: validate, then kafka-python, acks=all) into a fresh topic;
(c) our worker end to end: one `motcua worker` on that topic, into ClickHouse;
(d) the same stateful job written as a quix-streams user would
    (bench/quix_peer.py) on the same topic, into a ClickHouse server of its own.

(c) and (d) find every event already on the topic. Start-up and the group join
are not timed: the clock starts at the first poll (every 0.1 s) that shows a
stored batch, and only the events stored after it count. (c) ends when the
stored progress covers every published offset (then confirmed by
`wait_until_stored`), (d) when its raw_events hold every event. Afterwards
the two databases' facts are compared, and each database's period report
with the offline report's: a peer that computes something else is worthless.

Writes bench/results/peers-latest.{md,json}. Needs quixstreams, which the
project's extras cannot hold (it pins pydantic<2.14): bench/README.md and
`make bench` install it; without it (d) is skipped, said so, and the exit
status is 2.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sampling as spy
from common import (
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

from reports.offline import Rejected
from reports.period import UnitKind
from reports.sources import FileSource
from schemas.settings import Settings
from streams.engines import DriverEngine
from streams.replay import make_producer, replay_files, stored_offsets, wait_until_stored
from streams.rollups import month_bounds
from streams.services import ClickHouseServer
from streams.store import DATABASE, FACT_COLUMNS, migrate, report_rows

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
    cal = settings.calendar
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
    producer = make_producer(settings)
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
        if proc.poll() is not None:
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


def quix_run(settings, ch: ClickHouseServer, work: Path, total: int, others, args) -> dict:
    """(d): the quix peer on the same topic, into `ch`, until raw_events hold `total`."""
    engine = DriverEngine(ch.host, ch.tcp_port)
    argv = [sys.executable, str(ROOT / "bench" / "quix_peer.py")]
    argv += ["--bootstrap", settings.bootstrap_servers, "--topic", settings.events_topic]
    argv += ["--group", f"quix-{uuid.uuid4().hex[:6]}", "--clickhouse", f"{ch.host}:{ch.tcp_port}"]
    argv += ["--state-dir", str(work / "quix-state")]
    argv += ["--commit-every", str(settings.batch_max_events)]
    argv += ["--commit-interval", str(settings.commit_interval)]
    if not args.changelog:
        argv.append("--no-changelog")
    log = (work / "quix.log").open("ab")
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

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
    cal, province = settings.calendar, settings.province
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=1.0, help="simulator scale")
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

    runs: dict[str, dict] = {}
    check: dict = {}
    with services(work) as (broker, ch):
        engine = DriverEngine(ch.host, ch.tcp_port)
        where = machine(engine) | peer_versions()
        settings = bench_settings(broker, ch, "peers")

        print("(a) offline report", flush=True)
        offline = offline_report(path, settings, span)
        runs["offline"] = {k: v for k, v in offline.items() if k != "rows"}
        runs["offline"]["events_timed"] = args.events

        print("(b) publisher", flush=True)
        create_events_topic(settings)
        others = {"broker": broker.pid}
        runs["publisher"], offsets = publisher(path, settings, others)
        runs["publisher"]["events_timed"] = runs["publisher"]["published"]
        total = runs["publisher"]["published"]

        print("(c) motcua worker", flush=True)
        others_c = {"broker": broker.pid, "clickhouse": ch.pid}
        runs["worker"] = worker_run(settings, engine, work, offsets, others_c, args.profile)

        if not missing:
            print("(d) quix peer", flush=True)
            with ClickHouseServer(work / "ch-quix") as ch2:
                peer = DriverEngine(ch2.host, ch2.tcp_port)
                migrate(peer)
                others_d = {
                    "broker": broker.pid,
                    "clickhouse (peer's)": ch2.pid,
                    "clickhouse (worker's, idle)": ch.pid,
                }
                runs["quix"] = quix_run(settings, ch2, work, total, others_d, args)
                print("correctness", flush=True)
                check = compare(engine, peer, settings, offline)
    for run in runs.values():
        run["events_per_second"] = run["events_timed"] / run["seconds"]
    common = {
        "events": args.events,
        "dossiers": dossiers,
        "span": [str(s) for s in span],
        "source": source,
        "quix_changelog": args.changelog,
        "profiled": args.profile,
        "quix_missing": missing,
        "work_dir": str(work),
    }
    report(common, runs, check, where)
    return 2 if missing else 0


def peer_versions() -> dict[str, str]:
    from common import _version

    return {p: _version(p) for p in ("quixstreams", "confluent-kafka", "rocksdict")}


def _cpu(run: dict) -> str:
    return ", ".join(f"{name} {s:.1f}" for name, s in run["cpu_seconds"].items())


def report(common: dict, runs: dict[str, dict], check: dict, where: dict) -> None:
    rate = {k: r["events_per_second"] for k, r in runs.items()}
    labels = [
        ("offline", "(a) offline report: parse + fold + report, no broker"),
        ("publisher", "(b) publisher: `replay_files`, kafka-python acks=all"),
        ("worker", "(c) motcua worker, end to end into ClickHouse"),
        ("quix", "(d) quix-streams peer, end to end into ClickHouse"),
    ]
    lines = [
        f"# Peers ({common['events']:,} events, {common['dossiers']:,} dossiers, one run)",
        "",
        "| run | events timed | seconds | events/s |",
        "|---|---|---|---|",
    ]
    for key, label in labels:
        if key in runs:
            r = runs[key]
            lines.append(
                f"| {label} | {r['events_timed']:,} | {r['seconds']:.1f} | {rate[key]:,.0f} |"
            )
        else:
            lines.append(f"| {label} | not run | | |")
    c_over_a = rate["worker"] / rate["offline"]
    met_ratio = c_over_a >= TARGET_RATIO
    needed = YEAR_EVENTS / YEAR_SECONDS
    met_pub = rate["publisher"] >= needed
    year = YEAR_EVENTS / rate["worker"]
    lines += [
        "",
        f"- (c)/(a) = {c_over_a:.2f}: target ≥ {TARGET_RATIO}: **{verdict(met_ratio)}**",
    ]
    if "quix" in runs:
        c_over_d = rate["worker"] / rate["quix"]
        lines.append(
            f"- (c)/(d) = {c_over_d:.2f}: our worker is {c_over_d:.1f}× the quix-streams peer"
            if c_over_d >= 1
            else f"- (c)/(d) = {c_over_d:.2f}: the quix-streams peer is {1 / c_over_d:.1f}× "
            "our worker"
        )
    else:
        lines.append(
            f"- (d) **not run**: quixstreams is missing ({common['quix_missing']}); "
            f"install it with `{QUIX_INSTALL}`"
        )
    lines += [
        f"- (b) the publisher, {rate['publisher']:,.0f} events/s: a province-year "
        f"({YEAR_EVENTS:,} events) in ≤ {YEAR_SECONDS / 60:.0f} min needs {needed:,.0f}: "
        f"**{verdict(met_pub)}** ({YEAR_EVENTS / rate['publisher'] / 60:.1f} min at this rate)",
        f"- **extrapolation**, not a measurement: a province-year through one worker at (c)'s "
        f"rate would take {year / 60:.0f} min ({year / YEAR_SECONDS:.1f}× the 10 min target); "
        f"it assumes the rate holds for a {YEAR_EVENTS / common['events']:.0f}× longer run",
    ]
    lines += correctness_lines(check)
    lines.append("- CPU seconds per process during each timed run (2 cores, shared):")
    for key, label in labels:
        if key in runs:
            lines.append(
                f"  - {label.split(':')[0].split(',')[0]}: {_cpu(runs[key])} "
                f"(wall {runs[key]['seconds']:.1f} s)"
            )
    for key in ("worker", "quix"):
        if key in runs:
            r = runs[key]
            lines.append(
                f"- {key}: start-up and group join {r['start_up_seconds']:.1f} s, not timed; "
                f"{r['stored_at_clock_start']:,} events stored at the first poll, not counted"
            )
    lines += why(runs)
    lines += [
        f"- events: {common['source']}; event times {common['span'][0]} → {common['span'][1]}; "
        f"the quix peer {'with' if common['quix_changelog'] else 'without'} its State changelog "
        f"(quixstreams {where['quixstreams']}, confluent-kafka {where['confluent-kafka']}, "
        f"rocksdict {where['rocksdict']})",
        "- how: (c) and (d) each start on the full topic (published by (b)); the clock starts "
        "at the first poll (0.1 s) showing a stored batch, so start-up and the join are out; "
        "(c) stops when its stored progress covers every published offset (then "
        f"`wait_until_stored` confirms it on the broker's log in "
        f"{runs['worker']['confirm_seconds']:.1f} s, not timed), (d) when its raw_events hold "
        "every event",
        "- differences in the work: (d) folds a dossier's whole history at every message "
        "(quix's stateful apply) and stores per partition per checkpoint (BatchingSink, one "
        "fact row per dossier and partition batch); (c) folds each dossier once per batch, "
        "stores once per batch, and also runs the worker's timers (the watch step every "
        "30 s: deadlines and hotspots), which (d) does not; both use our codec, encoders "
        "and ClickHouse tables; (d) also writes its State changelog topic unless "
        "--no-changelog",
    ]
    for key, what in (("worker", "worker in (c)"), ("quix", "quix peer in (d)")):
        if key not in runs:
            continue
        if common["profiled"]:
            lines += spy.lines(runs[key]["profile"], what)
            if runs[key]["packages"]:
                lines.append(
                    "  - self time by package: "
                    + ", ".join(f"{k} {v:.0%}" for k, v in runs[key]["packages"])
                )
        else:
            lines.append(f"- the {what} was not profiled (--no-profile)")
    data = common | {
        "runs": runs,
        "events_per_second": rate,
        "worker_over_offline": c_over_a,
        "target_ratio": TARGET_RATIO,
        "ratio_met": met_ratio,
        "worker_over_quix": rate["worker"] / rate["quix"] if "quix" in runs else None,
        "publisher_needed_events_per_second": needed,
        "publisher_met": met_pub,
        "year_seconds_extrapolated": year,
        "correctness": check,
    }
    write_results("peers", lines, data, where)


def _per_event(run: dict, process: str) -> float:
    """CPU microseconds per timed event of one process."""
    return run["cpu_seconds"][process] / run["events_timed"] * 1e6


def why(runs: dict[str, dict]) -> list[str]:
    """What the measurements say about where the time goes."""
    w, a, p = runs["worker"], runs["offline"], runs["publisher"]
    out = [
        f"- why (c): the worker process was busy {w['cpu_seconds']['worker'] / w['seconds']:.0%} "
        f"of a core, {_per_event(w, 'worker'):.0f} µs CPU per event, against "
        f"{_per_event(a, 'this process'):.0f} µs for (a)'s parse + fold + report in one process"
    ]
    if "quix" in runs:
        q = runs["quix"]
        out.append(
            f"- why (d): the quix peer process was busy "
            f"{q['cpu_seconds']['quix peer'] / q['seconds']:.0%} of a core, "
            f"{_per_event(q, 'quix peer'):.0f} µs CPU per event"
        )
    out.append(
        f"- why (b): the publisher spent {_per_event(p, 'publisher (this process)'):.0f} µs CPU "
        f"per event (validate, serialize, kafka-python), the broker {_per_event(p, 'broker'):.0f}"
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
