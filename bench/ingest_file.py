"""`motcua ingest file`: how fast the national portal's sync records become
events on the topic (issue #14: the publisher must keep up with a
province-year), side by side in one run on the same records:

(a) conversion alone: parse, scrub, convert against the record history
    (SQLite), no broker: `ingest.sync.parse_records` + `convert`, under the
    garbage-collector thresholds the command sets (`fewer_collections`);
(b) the whole import, as the command runs it (`motcua.root.record_publisher`
    + `ingest.file_import.import_file`, `bulk=True`): (a) plus the events'
    JSON and whole record batches (`streams.kafka.bulk.BulkProducer`),
    acks=all, confirmed before the records are committed;
(c) `motcua replay`'s path (`ingest.replay.replay_files`) on the canonical
    events (b) produced, for comparison.

Records come from the province simulator (`--records`, 30k). Writes
bench/results/ingest-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from common import bench_settings, machine, services, verdict, write_results

from ingest.file_import import import_file
from ingest.record_history import SqliteRecords
from ingest.replay import replay_files
from ingest.simulator.knobs import Knobs
from ingest.simulator.simulation import Format, Simulation
from ingest.sync import UnitDirectory, convert, parse_records
from motcua.root import record_publisher
from streams.collector import fewer_collections
from streams.kafka.bulk import BulkProducer
from streams.kafka.topics import ensure_topics
from streams.rules.calendar import WorkingCalendar

YEAR_EVENTS = 10_000_000
YEAR_SECONDS = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000)
    args = parser.parse_args()
    cal = WorkingCalendar()
    sim = Simulation(date(2026, 1, 5), date(2036, 1, 5), Knobs(seed=7), cal)
    records = []
    for item in sim.stream(Format.SYNC):
        records.append(item.payload)
        if len(records) >= args.records:
            break
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-ingest-"))
    path = work / "records.json"
    path.write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    seen_at = datetime.now(cal.tz)
    runs: dict[str, dict] = {}

    began, cpu = time.perf_counter(), time.process_time()
    with fewer_collections():
        store = SqliteRecords(work / "convert-only.sqlite")
        parsed, _ = parse_records(path.read_bytes())
        events = convert(parsed, store, UnitDirectory(), seen_at)
        store.commit()
        store.close()
    runs["convert"] = _run(began, cpu, len(events))

    with services(work) as (broker, ch):
        where = machine(ch.engine())
        settings = bench_settings(broker, ch, "ingest")
        ensure_topics(settings)
        with record_publisher(
            settings, work / "import.sqlite", UnitDirectory(), "ingest file", bulk=True
        ) as p:
            began, cpu = time.perf_counter(), time.process_time()
            summary = import_file(path, p, seen_at)
            runs["import"] = _run(began, cpu, summary.events)
        lines_path = work / "events.jsonl"
        lines_path.write_text(
            "".join(e.model_dump_json(exclude_none=True) + "\n" for e in events), encoding="utf-8"
        )
        replayed = bench_settings(broker, ch, "replayed")
        ensure_topics(replayed)
        producer = BulkProducer(replayed)
        began, cpu = time.perf_counter(), time.process_time()
        result = replay_files([lines_path], replayed, producer)
        runs["replay"] = _run(began, cpu, result.published)
        producer.close()
    report(args.records, runs, where)


def _run(began: float, cpu: float, events: int) -> dict:
    seconds = time.perf_counter() - began
    return {
        "events": events,
        "seconds": seconds,
        "events_per_second": events / seconds,
        "cpu_us_per_event": (time.process_time() - cpu) / events * 1e6,
    }


LABELS = {
    "convert": "(a) conversion alone (parse, scrub, convert, SQLite), no broker",
    "import": "(b) `motcua ingest file`: (a) + event JSON and whole record batches, confirmed",
    "replay": "(c) `motcua replay` on the same events (whole record batches)",
}


def report(records: int, runs: dict[str, dict], where: dict) -> None:
    needed = YEAR_EVENTS / YEAR_SECONDS
    imported = runs["import"]["events_per_second"]
    sending = 1 - runs["convert"]["cpu_us_per_event"] / runs["import"]["cpu_us_per_event"]
    lines = [
        f"# Ingest file ({records:,} simulated sync records → {runs['import']['events']:,} events)",
        "",
        "| run | events/s | CPU µs/event |",
        "|---|---|---|",
        *(
            f"| {label} | {runs[k]['events_per_second']:,.0f} | {runs[k]['cpu_us_per_event']:.0f} |"
            for k, label in LABELS.items()
        ),
        "",
        f"- a province-year ({YEAR_EVENTS:,} events) through `ingest file` at (b)'s rate: "
        f"{YEAR_EVENTS / imported / 60:.0f} min; keeping up needs {needed:,.0f} events/s: "
        f"**{verdict(imported >= needed)}**",
        f"- serializing and sending are {sending:.0%} of (b)'s CPU; the rest is the conversion (a)",
        "- records: province simulator (ingest/simulator, seed 7, from 2026-01-05), one JSON file",
    ]
    write_results("ingest", lines, {"records": records, "runs": runs}, where)


if __name__ == "__main__":
    main()
