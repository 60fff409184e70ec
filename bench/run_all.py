"""`make bench`: every benchmark, one after the other (each starts its own
broker and ClickHouse and writes bench/results/<name>-latest.{md,json}).

`python bench/run_all.py freshness boards` runs only those. A failed bench is
reported and the others still run; the exit status says whether all passed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = (
    "throughput",
    "freshness",
    "alerts",
    "backfill",
    "ingest_file",
    "memory",
    "boards",
    "peers",
)


def main(names: list[str]) -> int:
    unknown = set(names) - set(ORDER)
    if unknown:
        print(f"unknown bench: {', '.join(sorted(unknown))}; choose from {', '.join(ORDER)}")
        return 2
    failed = []
    for name in [n for n in ORDER if n in names] if names else ORDER:
        began = time.perf_counter()
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, str(BENCH / f"{name}.py")])
        print(f"== {name}: exit {code} after {time.perf_counter() - began:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
