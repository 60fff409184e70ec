"""Backfill: a simulated province history replayed as fast as possible through
one worker (DESIGN.md target: a province-year, about 2 million dossiers and
10 million events, in ≤ 10 minutes).

The events (the province simulator's time-ordered stream, or the seeded test
histories if the simulator is missing) are generated and serialized before
the clock starts. Timed: from the first send (kafka-python, acks=all, as
`motcua replay` does) until the worker's stored offsets cover every message.
A province-year does not fit in this run's time, so the result is an
extrapolation at the measured rate; CPU seconds of each process show where
the time goes. Writes bench/results/backfill-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sampling as spy
from common import (
    bench_settings,
    cpu_seconds,
    encode,
    machine,
    publish,
    services,
    simulated_events,
    verdict,
    warm_worker,
    write_results,
)

from streams.engines import DriverEngine
from streams.replay import wait_until_stored

YEAR_EVENTS = 10_000_000
YEAR_DOSSIERS = 2_000_000
TARGET_SECONDS = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--scale", type=float, default=1.0, help="simulator scale")
    parser.add_argument(
        "--no-profile", dest="profile", action="store_false", help="no py-spy sampling"
    )
    args = parser.parse_args()
    events, source = simulated_events(args.events, scale=args.scale)
    dossiers = len({e.dossier_id for e in events})
    lines, keys = [encode(e) for e in events], [e.dossier_id.encode() for e in events]
    span = (events[0].at, events[-1].at)
    del events
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-backfill-"))
    with services(work) as (broker, ch):
        engine = DriverEngine(ch.host, ch.tcp_port)
        where = machine(engine)
        settings = bench_settings(broker, ch, "backfill")
        with warm_worker(settings, engine, work / "worker", work / "worker.log") as proc:
            pids = {"worker": proc.pid, "broker": broker.pid, "clickhouse": ch.pid}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            cpu_before["producer (this process)"] = time.process_time()
            sampler = spy.start(proc.pid, work / "worker.pyspy") if args.profile else None
            began = time.perf_counter()
            offsets = publish(settings, lines, keys)
            produced = time.perf_counter() - began
            cpu_produce = time.process_time() - cpu_before["producer (this process)"]
            wait_until_stored(engine, settings.events_topic, offsets, timeout=3600, poll=0.5)
            total = time.perf_counter() - began
            cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
            cpu["producer (this process)"] = cpu_produce
            spy.stop(sampler)
    run = {"events": len(lines), "dossiers": dossiers, "produce_seconds": produced}
    run |= {"total_seconds": total, "cpu_seconds": cpu, "span": [str(s) for s in span]}
    profile = spy.summary(work / "worker.pyspy") if args.profile else {}
    report(run, source, where, profile, args.profile)


def report(run: dict, source: str, where: dict, profile: dict, profiled: bool) -> None:
    rate = run["events"] / run["total_seconds"]
    year = YEAR_EVENTS / rate
    met = year <= TARGET_SECONDS
    per_dossier = run["events"] / run["dossiers"]
    cpu = run["cpu_seconds"]
    lines = [
        f"# Backfill ({run['events']:,} events, {run['dossiers']:,} dossiers, one worker)",
        "",
        "| events | dossiers | produce s | produce → all stored s | events/s end to end |",
        "|---|---|---|---|---|",
        f"| {run['events']:,} | {run['dossiers']:,} | {run['produce_seconds']:.1f} | "
        f"{run['total_seconds']:.1f} | {rate:,.0f} |",
        "",
        f"- **extrapolation**, not a measurement: a province-year of {YEAR_EVENTS:,} events "
        f"({YEAR_DOSSIERS:,} dossiers) at the {rate:,.0f} events/s measured here on "
        f"{run['events']:,} events would take {year / 60:.0f} min "
        f"({year:,.0f} s); it assumes the rate holds for a "
        f"{YEAR_EVENTS / run['events']:.0f}× longer run (state grows, "
        f"ClickHouse merges more) and {per_dossier:.1f} events per dossier here vs "
        f"{YEAR_EVENTS / YEAR_DOSSIERS:.0f} in the year",
        f"- target ≤ {TARGET_SECONDS / 60:.0f} min: **{verdict(met)}** "
        f"({year / TARGET_SECONDS:.1f}× the target; it needs "
        f"{YEAR_EVENTS / TARGET_SECONDS:,.0f} events/s, {YEAR_EVENTS / TARGET_SECONDS / rate:.1f}×"
        " the measured rate)",
        "- CPU seconds during the timed run (wall "
        f"{run['total_seconds']:.0f} s, 2 cores): "
        + ", ".join(f"{name} {s:.1f}" for name, s in cpu.items()),
        f"- events: {source}; event times {run['span'][0]} → {run['span'][1]}",
    ]
    if not met:
        busiest = max(cpu, key=cpu.get)
        lines.append(
            f"- not met: the {busiest} used {cpu[busiest] / run['total_seconds']:.0%} of one "
            "core for the whole run: one worker is one Python process (one core at most), "
            "and its per-event work bounds the rate; where that work goes:"
        )
    if profiled:
        lines += spy.lines(profile, "worker during the timed run")
    data = run | {"events_per_second": rate, "year_seconds_extrapolated": year}
    data |= {"target_seconds": TARGET_SECONDS, "met": met, "source": source}
    data |= {"worker_profile": profile}
    write_results("backfill", lines, data, where)


if __name__ == "__main__":
    main()
