"""Python's garbage collector for our busy processes: stream consumers,
`ingest file`, `ingest serve` and `ingest poll`.

The collector's defaults (a young collection every 700 new objects, an older
one every 10 of those, a full one every 10 of these) were half of a busy
consumer's CPU, and half of a file import's: each full collection walks every
cached history or parsed record again, and a batch makes ~120k objects
(bench/process_cpu.py: 124 → 78 µs per event with fewer collections).
Nothing we keep forms reference cycles that must go quickly: a batch's
objects are freed by reference counting, so collections can be rare.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_THRESHOLDS = (50_000, 20, 100)


def tune_collector() -> None:
    """Fewer garbage collections for a long-running process; what was
    allocated at start-up (modules, settings) is frozen out of them."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """`GC_THRESHOLDS` for the block (a file import inside a longer-lived
    process, a test); the thresholds are put back after."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
