"""Reading input files line by line, with the numbers people need in error reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path


def numbered_lines(paths: Iterable[Path]) -> Iterator[tuple[Path, int, bytes]]:
    """(file, 1-based line number, raw line) for every non-blank line of JSON-lines files."""
    for path in paths:
        with path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if raw.strip():
                    yield path, number, raw
