"""The worker's own per-event CPU without a broker or ClickHouse: the simulator's
events (`--events`, 100k) as messages in batches of `--batch` (10k) through
`BatchProcessor.process` with the worker's `DossierHistories`, then encoded
into rows (`stored_batch`) and finished dossiers dropped, as `streams.worker`
does. Prints µs of CPU per event, best of `--repeat` (3); `--profile FILE`
writes a cProfile of one pass. Not a target: a quick way to see what a change
to the per-event path costs before running bench/peers.py."""

from __future__ import annotations

import argparse
import cProfile
import time
from pathlib import Path

from common import encode, simulated_events

from schemas.settings import Settings
from streams.clickhouse.rows import stored_batch
from streams.histories import DossierHistories
from streams.rules.calendar import working_calendar
from streams.rules.processor import BatchProcessor, Message


def one_pass(messages: list[Message], batch: int, settings: Settings) -> float:
    processor = BatchProcessor(working_calendar(settings), source="dossier-events")
    histories = DossierHistories(settings.cached_histories)
    began = time.process_time()
    for i in range(0, len(messages), batch):
        processed = processor.process(messages[i : i + batch], histories)
        stored_batch(processed)
        histories.drop(f.dossier_id for f in processed.facts if f.end_at is not None)
    return time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    events, _ = simulated_events(args.events)
    messages = [
        Message("dossier-events", 0, n, e.dossier_id.encode(), encode(e))
        for n, e in enumerate(events)
    ]
    settings = Settings()
    if args.profile:
        cProfile.runctx(
            "one_pass(messages, args.batch, settings)", globals(), locals(), str(args.profile)
        )
    best = min(one_pass(messages, args.batch, settings) for _ in range(args.repeat))
    print(f"{best / len(messages) * 1e6:.1f} µs CPU per event ({len(messages)} events)")


if __name__ == "__main__":
    main()
