"""Freshness: from an event's production to its effect being queryable in
ClickHouse, at a steady rate (DESIGN.md target: p99 ≤ 2 s at 200 events/s).

One worker (a subprocess) reads the topic. A paced producer sends canonical
events; each message's (partition, offset) and send time come from the
producer's delivery metadata. A poller thread reads the workers' stored
offsets (streams.kafka.clients.stored_offsets) every `--poll` seconds; a message
is fresh at the first poll whose stored offset of its partition is ≥ its
offset. Freshness = that poll's time − send time, so it includes the poll
resolution. Writes bench/results/freshness-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from common import (
    bench_settings,
    encode,
    machine,
    percentile,
    services,
    simulated_events,
    verdict,
    warm_worker,
    write_results,
)

from streams.clickhouse.engines import DriverEngine
from streams.kafka.clients import make_producer
from streams.progress import stored_offsets, wait_until_stored

TARGET_P99 = 2.0


class Poller(threading.Thread):
    """Records (time, stored offset) each time a partition's stored offset grows."""

    def __init__(self, engine: DriverEngine, topic: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.engine, self.topic, self.interval = engine, topic, interval
        self.seen: dict[int, list[tuple[float, int]]] = {}
        self.polls: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            stored = stored_offsets(self.engine, self.topic)
            now = time.time()  # after the answer: the conservative side
            self.polls.append(now)
            for partition, offset in stored.items():
                steps = self.seen.setdefault(partition, [])
                if not steps or offset > steps[-1][1]:
                    steps.append((now, offset))
            self.halt.wait(self.interval)

    def stored_at(self, partition: int, offset: int) -> float | None:
        """The first poll time at which `offset` of `partition` was stored."""
        for at, stored in self.seen.get(partition, []):
            if stored >= offset:
                return at
        return None


def paced_send(settings, lines: list[bytes], keys: list[bytes], rate: float) -> list:
    """Send message i at start + i/rate; returns the futures (delivery metadata)."""
    producer = make_producer(settings)
    futures = []
    began = time.perf_counter()
    for i, (key, line) in enumerate(zip(keys, lines, strict=True)):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        futures.append((time.time(), producer.send(settings.events_topic, key=key, value=line)))
    producer.flush()
    metas = [(sent, f.get(timeout=60)) for sent, f in futures]
    producer.close()
    return metas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll", type=float, default=0.025, help="poll interval (s)")
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    events, source = simulated_events(count, scale=0.2)
    lines, keys = [encode(e) for e in events], [e.dossier_id.encode() for e in events]
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-freshness-"))
    with services(work) as (broker, ch):
        engine = ch.engine()
        where = machine(engine)
        settings = bench_settings(broker, ch, "fresh")
        with warm_worker(settings, engine, work / "worker", work / "worker.log"):
            poller = Poller(ch.engine(), settings.events_topic, args.poll)
            poller.start()
            began = time.perf_counter()
            metas = paced_send(settings, lines, keys, args.rate)
            sending = time.perf_counter() - began
            last = {}
            for _, m in metas:
                last[m.partition] = max(last.get(m.partition, -1), m.offset)
            wait_until_stored(engine, settings, last, timeout=120, poll=0.2)
            time.sleep(2 * args.poll + 0.1)  # let the poller see the last step
            poller.halt.set()
            poller.join()
    report(args, count, source, sending, metas, poller, where)


def report(args, count, source, sending, metas, poller: Poller, where) -> None:
    fresh, skew = [], []
    for sent, meta in metas:
        stamp = meta.timestamp / 1000 if meta.timestamp and meta.timestamp > 0 else sent
        skew.append(stamp - sent)
        fresh.append(poller.stored_at(meta.partition, meta.offset) - stamp)
    gaps = [b - a for a, b in zip(poller.polls, poller.polls[1:], strict=False)]
    q = {f"p{p}": percentile(fresh, p) for p in (50, 90, 99)} | {"max": max(fresh)}
    met = q["p99"] <= TARGET_P99
    lines = [
        f"# Freshness ({count} events at {args.rate:.0f}/s for {args.seconds:.0f} s, one worker)",
        "",
        "Production (send time in the delivery metadata) → the worker's stored offset",
        "covers the message in ClickHouse (first poll that shows it).",
        "",
        "| p50 | p90 | p99 | max |",
        "|---|---|---|---|",
        "| " + " | ".join(f"{q[k]:.3f} s" for k in ("p50", "p90", "p99", "max")) + " |",
        "",
        f"- target p99 ≤ {TARGET_P99:.0f} s: **{verdict(met)}** "
        f"(p99 {q['p99']:.2f} s = {q['p99'] / TARGET_P99:.0%} of the target)",
        f"- achieved send rate: {count / sending:.0f} events/s ({sending:.1f} s)",
        f"- poll interval: p50 {percentile(gaps, 50) * 1000:.0f} ms, "
        f"p99 {percentile(gaps, 99) * 1000:.0f} ms (included in the numbers above)",
        f"- events: {source}",
        "- the worker batches for up to `batch_max_seconds` (0.5 s default) before it "
        "stores; that wait is the floor of these numbers",
    ]
    if not met:
        lines.append(
            "- not met: a batch counts as stored only once ClickHouse took all its rows, "
            "progress last; see the worker log for slow batches"
        )
    data = {
        "events": count,
        "rate": args.rate,
        "seconds": args.seconds,
        "send_seconds": sending,
        "freshness_seconds": q,
        "target_p99_seconds": TARGET_P99,
        "met": met,
        "poll_interval_p50_seconds": percentile(gaps, 50),
        "metadata_minus_send_call_p50_seconds": percentile(skew, 50),
        "source": source,
    }
    write_results("freshness", lines, data, where)


if __name__ == "__main__":
    main()
