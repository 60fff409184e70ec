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
import gc
import time
from pathlib import Path

from common import encode, simulated_events

from schemas.settings import Settings
from streams.clickhouse.rows import stored_batch
from streams.collector import GC_THRESHOLDS
from streams.histories import DECODED_HISTORIES, DossierHistories
from streams.rules.calendar import working_calendar
from streams.rules.processor import BatchProcessor, Message


def one_pass(messages: list[Message], batch: int, settings: Settings, decoded: int) -> float:
    processor = BatchProcessor(working_calendar(settings), source="dossier-events")
    histories = DossierHistories(settings.cached_histories, decoded)
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
    parser.add_argument(
        "--collector",
        choices=("tuned", "default", "both"),
        default="tuned",
        help="the garbage collector's thresholds: the consumers' (streams.pipeline."
        "GC_THRESHOLDS), Python's defaults, or both interleaved",
    )
    parser.add_argument(
        "--decoded",
        type=int,
        nargs="+",
        default=[DECODED_HISTORIES],
        help="histories kept decoded (streams.histories); several: compared, interleaved",
    )
    args = parser.parse_args()
    events, _ = simulated_events(args.events)
    messages = [
        Message("dossier-events", 0, n, e.dossier_id.encode(), encode(e))
        for n, e in enumerate(events)
    ]
    settings = Settings()
    if args.profile:
        cProfile.runctx(
            "one_pass(messages, args.batch, settings, args.decoded[0])",
            globals(),
            locals(),
            str(args.profile),
        )
    modes = ("tuned", "default") if args.collector == "both" else (args.collector,)
    thresholds = {"tuned": GC_THRESHOLDS, "default": (700, 10, 10)}
    times: dict[tuple[int, str], list[float]] = {(n, m): [] for n in args.decoded for m in modes}
    for _ in range(args.repeat):
        for n, mode in times:
            gc.set_threshold(*thresholds[mode])
            gc.collect()
            times[(n, mode)].append(one_pass(messages, args.batch, settings, n))
    for (n, mode), seconds in times.items():
        per_event = min(seconds) / len(messages) * 1e6
        print(
            f"{n} decoded, collector {mode}: {per_event:.1f} µs CPU per event, "
            f"best of {args.repeat}"
        )


if __name__ == "__main__":
    main()
