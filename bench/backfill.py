"""Backfill: a simulated province history replayed as fast as possible through
one worker, then through two of one group (DESIGN.md target: a province-year,
about 2 million dossiers and 10 million events, in ≤ 10 minutes).

The events (the province simulator's time-ordered stream, or the seeded test
histories if the simulator is missing) are generated and serialized before
the clock starts. Timed: from the first send (kafka-python, acks=all, as
`motcua replay` does) until the worker's stored offsets cover every message.
Then the same events through the commands a user runs for a backfill:
`motcua replay FILE` (whole record batches) and, once it returns, `motcua
backfill` (aiokafka batches through the worker's own rules and progress),
one process or several of its group (`--backfills`), timed from the start
of the replay until the last backfill exits (every partition stored).
A province-year does not fit in this run's time, so the result is an
extrapolation at the measured rate; CPU seconds of each process show where
the time goes. Writes bench/results/backfill-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import sampling as spy
from common import (
    MOTCUA_BACKFILL,
    bench_settings,
    cpu_seconds,
    encode,
    machine,
    publish,
    services,
    simulated_events,
    start_worker,
    stop_worker,
    verdict,
    warm_workers,
    write_results,
)

from schemas.settings import Settings
from streams.clickhouse.migrations import migrate
from streams.clickhouse.sql import DATABASE
from streams.kafka.topics import ensure_topics
from streams.progress import stored_offsets, wait_until_stored

YEAR_EVENTS = 10_000_000
YEAR_DOSSIERS = 2_000_000
TARGET_SECONDS = 600.0


def timed_run(
    settings, engine, work: Path, count: int, lines, keys, others: dict[str, int], profile: bool
) -> dict:
    """Replay the events through `count` workers of one group; wall and CPU seconds."""
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")  # each run on an empty database
    migrate(engine)
    directory = work / f"workers-{count}"
    with warm_workers(settings, engine, directory, directory / "worker.log", count) as procs:
        pids = {f"worker {i + 1}": proc.pid for i, proc in enumerate(procs)}
        pids |= others
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        cpu_before["producer (this process)"] = time.process_time()
        sampler = spy.start(procs[0].pid, directory / "worker.pyspy") if profile else None
        began = time.perf_counter()
        offsets = publish(settings, lines, keys)
        produced = time.perf_counter() - began
        cpu_produce = time.process_time() - cpu_before["producer (this process)"]
        wait_until_stored(engine, settings, offsets, timeout=3600, poll=0.5)
        total = time.perf_counter() - began
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        cpu["producer (this process)"] = cpu_produce
        spy.stop(sampler)
    run = {
        "workers": count,
        "produce_seconds": produced,
        "total_seconds": total,
        "cpu_seconds": cpu,
    }
    run["events_per_second"] = len(lines) / total
    run["profile"] = spy.summary(directory / "worker.pyspy") if profile else {}
    return run


def _reaped(proc, peaks: dict[str, float] | None = None, name: str = "") -> float:
    """Wait for a child; its CPU seconds (user + system) from the kernel, and
    its peak resident memory in MiB into `peaks[name]`."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
    if peaks is not None:
        peaks[name] = usage.ru_maxrss / 1024  # KiB on Linux
    return usage.ru_utime + usage.ru_stime


def _peak_mib(pid: int) -> float:
    """A running process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def commands_run(settings, engine, work: Path, path: Path, total: int, backfills: int, others):
    """`motcua replay FILE`, then `backfills` × `motcua backfill` until they exit."""
    directory = work / f"commands-{backfills}"
    directory.mkdir()
    log = directory / "commands.log"
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")  # as on a first run: no
    migrate(engine)  # stored histories of these dossiers to read back
    ensure_topics(settings)  # as a worker that ran before would have
    cpu_before = {name: cpu_seconds(pid) for name, pid in others.items()}
    began = time.perf_counter()
    replay = start_worker(settings, directory, log, ("-m", "motcua", "replay", str(path)))
    cpu = {"motcua replay": _reaped(replay)}
    replayed = time.perf_counter() - began
    procs = [start_worker(settings, directory, log, MOTCUA_BACKFILL) for _ in range(backfills)]
    first = 0  # events stored when the first stored batch is seen (start-up and join before it)
    while first == 0 and all(p.poll() is None for p in procs):
        time.sleep(0.1)
        first = sum(o + 1 for o in stored_offsets(engine, settings.events_topic).values())
    first_seen = time.perf_counter()
    peaks: dict[str, float] = {}
    for n, proc in enumerate(procs, start=1):
        cpu[f"motcua backfill {n}"] = _reaped(proc, peaks, f"motcua backfill {n}")
    ended = time.perf_counter()
    stored = sum(o + 1 for o in stored_offsets(engine, settings.events_topic).values())
    if stored != total:
        raise RuntimeError(f"the backfill exited with {stored} of {total} events stored")
    cpu |= {name: cpu_seconds(pid) - cpu_before[name] for name, pid in others.items()}
    return {
        "events": total,
        "backfills": backfills,
        "replay_seconds": replayed,
        "backfill_seconds": ended - began - replayed,
        "total_seconds": ended - began,
        "events_per_second": total / (ended - began),
        "start_up_seconds": first_seen - began - replayed,
        "steady_events_per_second": (total - first) / (ended - first_seen),
        "cpu_seconds": cpu,
        "peak_rss_mib": peaks,
    }


def together_run(settings, engine, work: Path, path: Path, total: int, backfills: int, others):
    """`backfills` × `motcua backfill --follow` already running, then `motcua replay
    FILE --wait` timed until it returns (every event stored)."""
    directory = work / f"together-{backfills}"
    directory.mkdir()
    log = directory / "commands.log"
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    migrate(engine)
    ensure_topics(settings)
    follow = (*MOTCUA_BACKFILL, "--follow")
    procs = [start_worker(settings, directory, log, follow) for _ in range(backfills)]
    time.sleep(JOIN_SECONDS)  # start-up and the group join, as for workers already running
    cpu_before = {name: cpu_seconds(pid) for name, pid in others.items()}
    cpu_before |= {f"motcua backfill {n}": cpu_seconds(p.pid) for n, p in enumerate(procs, 1)}
    began = time.perf_counter()
    argv = ("-m", "motcua", "replay", str(path), "--wait", "--timeout", "3600")
    replay = start_worker(settings, directory, log, argv)
    cpu = {"motcua replay --wait": _reaped(replay)}
    ended = time.perf_counter()
    cpu |= {f"motcua backfill {n}": cpu_seconds(p.pid) for n, p in enumerate(procs, 1)}
    cpu |= {name: cpu_seconds(pid) for name, pid in others.items()}
    cpu = {name: seconds - cpu_before.get(name, 0.0) for name, seconds in cpu.items()}
    peaks = {f"motcua backfill {n}": _peak_mib(p.pid) for n, p in enumerate(procs, 1)}
    for proc in procs:
        stop_worker(proc)
    return {
        "events": total,
        "backfills": backfills,
        "total_seconds": ended - began,
        "events_per_second": total / (ended - began),
        "cpu_seconds": cpu,
        "peak_rss_mib": peaks,
    }


JOIN_SECONDS = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--scale", type=float, default=1.0, help="simulator scale")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma separated")
    parser.add_argument(
        "--backfills", default="1,2", help="`motcua backfill` processes to run, comma separated"
    )
    parser.add_argument(
        "--together",
        default="2",
        help="`motcua backfill --follow` processes running while `motcua replay --wait` runs",
    )
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
    path = work / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    runs, commands, together = [], [], []
    with services(work) as (broker, ch):
        engine = ch.engine()
        where = machine(engine)
        others = {"broker": broker.pid, "clickhouse": ch.pid}
        for i, count in enumerate(int(n) for n in args.workers.split(",") if n):
            settings = bench_settings(broker, ch, f"backfill{count}")
            runs.append(
                timed_run(
                    settings, engine, work, count, lines, keys, others, args.profile and i == 0
                )
            )
        for count in (int(n) for n in args.backfills.split(",") if n):
            settings = bench_settings(broker, ch, f"commands{count}")
            commands.append(commands_run(settings, engine, work, path, len(lines), count, others))
        for count in (int(n) for n in args.together.split(",") if n):
            settings = bench_settings(broker, ch, f"together{count}")
            together.append(together_run(settings, engine, work, path, len(lines), count, others))
    common = {"events": len(lines), "dossiers": dossiers, "span": [str(s) for s in span]}
    report(common, runs, commands, together, source, where, args.profile)


def report(
    common: dict,
    runs: list[dict],
    commands: list[dict],
    together: list[dict],
    source: str,
    where: dict,
    profiled: bool,
) -> None:
    best = max(runs, key=lambda r: r["events_per_second"])
    rate = best["events_per_second"]
    year = YEAR_EVENTS / rate
    met = year <= TARGET_SECONDS
    per_dossier = common["events"] / common["dossiers"]
    first = runs[0]
    lines = [
        f"# Backfill ({common['events']:,} events, {common['dossiers']:,} dossiers)",
        "",
        "| workers | produce s | produce → all stored s | events/s end to end "
        f"| vs {first['workers']} worker(s) |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['workers']} | {r['produce_seconds']:.1f} | {r['total_seconds']:.1f} "
            f"| {r['events_per_second']:,.0f} "
            f"| {r['events_per_second'] / first['events_per_second']:.2f}× |"
        )
    lines += [
        "",
        f"- **extrapolation**, not a measurement: a province-year of {YEAR_EVENTS:,} events "
        f"({YEAR_DOSSIERS:,} dossiers) at the best rate measured here ({rate:,.0f} events/s, "
        f"{best['workers']} worker(s)) would take {year / 60:.0f} min ({year:,.0f} s); it "
        f"assumes the rate holds for a {YEAR_EVENTS / common['events']:.0f}× longer run "
        f"(state grows, ClickHouse merges more) and {per_dossier:.1f} events per dossier here "
        f"vs {YEAR_EVENTS / YEAR_DOSSIERS:.0f} in the year",
        f"- target ≤ {TARGET_SECONDS / 60:.0f} min: **{verdict(met)}** "
        f"({year / TARGET_SECONDS:.1f}× the target; it needs "
        f"{YEAR_EVENTS / TARGET_SECONDS:,.0f} events/s, {YEAR_EVENTS / TARGET_SECONDS / rate:.1f}×"
        " the best measured rate)",
    ]
    lines += command_lines(commands)
    lines += together_lines(together)
    for r in runs:
        lines.append(
            f"- CPU seconds, {r['workers']} worker(s) (wall {r['total_seconds']:.0f} s, 2 cores): "
            + ", ".join(f"{name} {s:.1f}" for name, s in r["cpu_seconds"].items())
        )
    lines.append(f"- events: {source}; event times {common['span'][0]} → {common['span'][1]}")
    if not met:
        lines.append(
            "- not met: a worker is one Python process (one core at most) and its per-event "
            "work bounds the rate; more workers (partitions) share the machine's 2 cores with "
            "the broker, ClickHouse and the producer"
            + (". Where one worker's time goes:" if profiled else "")
        )
    if profiled:
        lines += spy.lines(first["profile"], "worker during the timed run (1st run)")
    data = common | {"runs": runs, "events_per_second": rate, "year_seconds_extrapolated": year}
    data |= {"commands": commands, "together": together}
    data |= {"target_seconds": TARGET_SECONDS, "met": met, "source": source}
    write_results("backfill", lines, data, where)


def _year_seconds(run: dict) -> float:
    """A province-year at a commands run's rates: replay, start-up, steady backfill."""
    scale = YEAR_EVENTS / run["events"]
    return (
        run["replay_seconds"] * scale
        + run["start_up_seconds"]
        + YEAR_EVENTS / run["steady_events_per_second"]
    )


def together_lines(together: list[dict]) -> list[str]:
    lines = []
    for r in together:
        year = YEAR_EVENTS / r["events_per_second"]
        lines += [
            f"- `motcua replay FILE --wait` while {r['backfills']} `motcua backfill --follow` "
            f"run (started {JOIN_SECONDS:.0f} s before, start-up and join not timed): "
            f"{r['total_seconds']:.1f} s, {r['events_per_second']:,.0f} events/s end to end; "
            f"a province-year at this rate: {year / 60:.1f} min: target ≤ "
            f"{TARGET_SECONDS / 60:.0f} min **{verdict(year <= TARGET_SECONDS)}**",
            "  - CPU seconds: "
            + ", ".join(f"{name} {s:.1f}" for name, s in r["cpu_seconds"].items()),
            f"  - {_peaks(r)}",
        ]
    return lines


def _peaks(run: dict) -> str:
    per = ", ".join(f"{name} {mib:,.0f}" for name, mib in run["peak_rss_mib"].items())
    batch = Settings().backfill_batch_events
    return f"peak resident memory (MiB; batches of {batch:,} events): {per}"


def command_lines(commands: list[dict]) -> list[str]:
    """The commands' path: its table, extrapolation and CPU."""
    if not commands:
        return []
    lines = [
        "",
        "Through the commands a user runs: `motcua replay FILE`, then `motcua backfill`:",
        "",
        "| backfill processes | replay s | backfill s (of it start-up and join) | total s "
        "| events/s end to end | backfill events/s after its first stored batch |",
        "|---|---|---|---|---|---|",
    ]
    for r in commands:
        lines.append(
            f"| {r['backfills']} | {r['replay_seconds']:.1f} | {r['backfill_seconds']:.1f} "
            f"({r['start_up_seconds']:.1f}) | {r['total_seconds']:.1f} "
            f"| {r['events_per_second']:,.0f} | {r['steady_events_per_second']:,.0f} |"
        )
    best = min(commands, key=_year_seconds)
    year = _year_seconds(best)
    lines += [
        "",
        f"- **extrapolation**: a province-year through the commands, the replay at this run's "
        f"rate, then the backfill's start-up plus the year at its rate after its first stored "
        f"batch ({best['backfills']} backfill process(es), the best here), would take "
        f"{year / 60:.0f} min: target ≤ {TARGET_SECONDS / 60:.0f} min "
        f"**{verdict(year <= TARGET_SECONDS)}**",
    ]
    for r in commands:
        lines.append(
            f"- CPU seconds, {r['backfills']} backfill process(es) (wall "
            f"{r['total_seconds']:.0f} s, 2 cores): "
            + ", ".join(f"{name} {s:.1f}" for name, s in r["cpu_seconds"].items())
        )
        lines.append(f"  - {_peaks(r)}")
    return lines


if __name__ == "__main__":
    main()
