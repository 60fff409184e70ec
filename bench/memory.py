"""Worker memory per open dossier (DESIGN.md target: ≤ 1.5 KB per open dossier).

The worker keeps open dossiers' histories in a cache in front of ClickHouse
(streams/histories.py) and the hashes of every stored dossier id. One
worker (a subprocess) is started and fed open dossiers —
received events only — in steps up to N = 20k and 100k. After each step is
stored (streams.kafka.clients.wait_until_stored) and a short settle, VmRSS of the
worker is read from /proc/<pid>/status. The baseline (N = 0) is taken after
start-up and one warm-up event, so the code paths and buffers a first batch
allocates are not charged to the dossiers. Reports (RSS(N) − RSS(0)) / N.
Writes bench/results/memory-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import (
    bench_settings,
    encode,
    machine,
    publish,
    services,
    simulated_events,
    verdict,
    warm_worker,
    write_results,
)

from schemas.events import EventType
from schemas.settings import Settings
from streams.progress import wait_until_stored

TARGET_BYTES = 1.5 * 1024


def status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def settled_rss(pid: int, settle: float) -> dict[str, int]:
    """RSS once the batch is done and `settle` seconds have passed."""
    time.sleep(settle)
    return status_kib(pid)


def received_events(count: int) -> tuple[list[bytes], list[bytes], str]:
    """`count` received events (one per dossier) from the simulated province."""
    # about one received event in 4.5 events: draw enough of the stream
    events, source = simulated_events(count * 6, scale=1.0)
    received = [e for e in events if e.type is EventType.RECEIVED][:count]
    if len(received) < count:
        raise RuntimeError(f"only {len(received)} received events in the source")
    return [encode(e) for e in received], [e.dossier_id.encode() for e in received], source


def measure(store: str, steps: list[int], lines, keys, ch, broker, work, settle) -> dict:
    """RSS of one worker at each N in `steps` (cumulative)."""
    settings = bench_settings(broker, ch, "mem", watch_interval=3600.0, rollup_interval=3600.0)
    engine = ch.engine()
    name = store.split(":")[0]
    points = []
    with warm_worker(
        settings, engine, work / f"worker-{name}", work / f"worker-{name}.log"
    ) as proc:
        points.append({"n": 0, **settled_rss(proc.pid, settle)})
        done = 0
        for n in steps:
            offsets = publish(settings, lines[done:n], keys[done:n])
            wait_until_stored(engine, settings, offsets, timeout=900, poll=0.5)
            points.append({"n": n, **settled_rss(proc.pid, settle)})
            done = n
    base = points[0]["VmRSS"]
    for p in points[1:]:
        p["bytes_per_dossier"] = (p["VmRSS"] - base) * 1024 / p["n"]
    if len(points) > 2:
        a, b = points[-2], points[-1]
        points[-1]["marginal_bytes"] = (b["VmRSS"] - a["VmRSS"]) * 1024 / (b["n"] - a["n"])
    return {"store": store, "points": points}


def state_held(lines: list[bytes], keys: list[bytes]) -> dict[str, float]:
    """The same events through BatchProcessor in this process, into a plain
    dict (what memory:// keeps): Python memory held per dossier (tracemalloc)
    against the length of the stored history. An independent look at what
    the state costs, without faust, the consumer or the allocator's RSS."""
    from streams.rules.calendar import WorkingCalendar
    from streams.rules.processor import BatchProcessor, Message, decode_history, encode_history

    class Store(dict):
        def put(self, dossier_id: str, history: bytes, message: Message) -> None:
            self[dossier_id] = history

    messages = [Message("t", 0, i, k, v) for i, (k, v) in enumerate(zip(keys, lines, strict=True))]
    store, processor = Store(), BatchProcessor(WorkingCalendar(), source="t")
    processor.process(messages[:1], store)  # warm-up: caches, lazy imports
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(1, len(messages), 5000):
        processor.process(messages[i : i + 5000], store)
    gc.collect()
    held = (tracemalloc.get_traced_memory()[0] - before) / (len(messages) - 1)
    tracemalloc.stop()
    lengths = sum(len(v) for v in store.values()) / len(store)
    # one encode_history result alone: its allocation against its length
    sample = [decode_history(v) for v in list(store.values())[:1000]]
    tracemalloc.start()
    kept = [encode_history(h) for h in sample]
    encoded = tracemalloc.get_traced_memory()[0] / len(kept)
    tracemalloc.stop()
    # the same bytes copied to an exact-size object
    tracemalloc.start()
    copies = [bytes(memoryview(encode_history(h))) for h in sample]
    copied = tracemalloc.get_traced_memory()[0] / len(copies)
    tracemalloc.stop()
    return {
        "dossiers": len(messages),
        "held_bytes": held,
        "history_bytes": lengths,
        "encode_history_allocated_bytes": encoded,
        "exact_copy_allocated_bytes": copied,
        "orjson": importlib.metadata.version("orjson"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,100000", help="N values, comma separated")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before reading RSS")
    parser.add_argument("--traced", type=int, default=20000, help="dossiers for tracemalloc")
    args = parser.parse_args()
    steps = sorted(int(s) for s in args.sizes.split(","))
    lines, keys, source = received_events(steps[-1])
    stores = ["cache + raw_events"]
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-memory-"))
    with services(work) as (broker, ch):
        where = machine(ch.engine())
        runs = [measure(s, steps, lines, keys, ch, broker, work, args.settle) for s in stores]
    held = state_held(lines[: args.traced], keys[: args.traced])
    report(runs, source, held, args, where)


def why(runs: list[dict], held: dict) -> list[str]:
    """One line per store over the target, from the measured numbers."""
    out = []
    for run in runs:
        last = run["points"][-1]
        if last["bytes_per_dossier"] <= TARGET_BYTES:
            continue
        if held["held_bytes"] > 2 * held["history_bytes"]:
            out.append(
                f"- why (memory://): each stored history is an orjson `dumps` result, which "
                f"keeps its output buffer: {held['encode_history_allocated_bytes']:,.0f} B "
                f"allocated for {held['history_bytes']:,.0f} B of JSON; the same bytes copied "
                f"to an exact-size object (`bytes(memoryview(b))`) take "
                f"{held['exact_copy_allocated_bytes']:,.0f} B (measured the same way)"
            )
        elif "marginal_bytes" in last and last["marginal_bytes"] <= TARGET_BYTES:
            first = run["points"][1]
            grown = (first["VmRSS"] - run["points"][0]["VmRSS"]) * 1024
            fixed = (grown - first["n"] * last["marginal_bytes"]) / 2**20
            out.append(
                f"- why ({run['store']}): a cost that does not grow with N — about "
                f"{fixed:,.0f} MiB on top of the marginal by {first['n']:,} dossiers ("
                + "heap the first batches leave resident, which malloc_trim cannot return "
                "while live objects sit on its pages) — while each further "
                "dossier costs "
                f"{last['marginal_bytes']:,.0f} B, within the target; the average falls "
                "toward that as N grows, if the marginal holds"
            )
        else:
            rest = last.get("marginal_bytes", last["bytes_per_dossier"]) - held["held_bytes"]
            out.append(
                f"- why ({run['store']}): the state itself is {held['held_bytes']:,.0f} B per "
                f"dossier (tracemalloc, below); the other ~{rest:,.0f} B per further dossier "
                "is outside BatchProcessor — faust's per-key bookkeeping or batch memory the "
                "allocator keeps after batches — not separated here"
            )
    return out


def report(runs, source, held, args, where) -> None:
    lines = [
        "# Worker memory per open dossier (received events only)",
        "",
        "| state store | N | VmRSS MiB | VmHWM MiB | (RSS(N) − RSS(0)) / N |",
        "|---|---|---|---|---|",
    ]
    verdicts = []
    for run in runs:
        for p in run["points"]:
            per = f"{p['bytes_per_dossier']:,.0f} B" if "bytes_per_dossier" in p else "baseline"
            lines.append(
                f"| {run['store']} | {p['n']:,} | {p['VmRSS'] / 1024:.1f} | "
                f"{p['VmHWM'] / 1024:.1f} | {per} |"
            )
        last = run["points"][-1]
        met = last["bytes_per_dossier"] <= TARGET_BYTES
        verdicts.append(
            f"- {run['store']}: {last['bytes_per_dossier']:,.0f} B per dossier at "
            f"N = {last['n']:,} (marginal from the previous step: "
            f"{last.get('marginal_bytes', float('nan')):,.0f} B) — target ≤ 1.5 KB: "
            f"**{verdict(met)}** ({last['bytes_per_dossier'] / TARGET_BYTES:.0%} of it)"
        )
    lines += ["", *verdicts, *why(runs, held)]
    lines += [
        "- the worker keeps each open dossier's history as compact JSON bytes in a dict "
        "(finished ones are dropped and read back from raw_events if an event comes), and "
        "a set of 64-bit hashes of every stored dossier id",
        f"- where it goes (tracemalloc, the same events through BatchProcessor in-process into "
        f"a dict, {held['dossiers']:,} dossiers): {held['held_bytes']:,.0f} B of Python memory "
        f"held per dossier for a stored history of {held['history_bytes']:,.0f} B; one "
        f"`encode_history` result (orjson {held['orjson']} `dumps`) alone allocates "
        f"{held['encode_history_allocated_bytes']:,.0f} B",
        f"- settle {args.settle:.0f} s before each read; watcher and rollup timers set to "
        "1 h so they do not run during the measurement; worker batches of up to "
        f"{Settings().batch_max_events:,} events (batch_max_events)",
        f"- events: {source}",
    ]
    data = {"runs": runs, "target_bytes": TARGET_BYTES, "source": source}
    data |= {"state_held_in_process": held, "settle_seconds": args.settle}
    write_results("memory", lines, data, where)


if __name__ == "__main__":
    main()
