"""Live pacing: release time-ordered items as a (possibly accelerated) clock
passes their instant. Backfill is the same sequence without waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

Item = TypeVar("Item")
MAX_NAP = 0.5  # seconds: stay responsive to Ctrl-C and to a clock that jumps


class Clock(Protocol):
    """A simulated clock, e.g. `motcua.live.SimulatedClock` (speed × wall time)."""

    speed: float

    def now(self) -> datetime: ...


def paced(
    items: Iterable[Item],
    at: Callable[[Item], datetime],
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Item]:
    """Each item once `clock.now()` has reached its instant, in the given order."""
    for item in items:
        while (ahead := at(item) - clock.now()) > timedelta(0):
            sleep(min(MAX_NAP, ahead.total_seconds() / clock.speed))
        yield item
