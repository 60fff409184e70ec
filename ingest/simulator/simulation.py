"""The province over a window [start, end): dossiers planned day by day, their
events or sync records merged into one time-ordered stream.

Streaming: a day's arrivals are planned, their outputs queued, and everything
before the next midnight is released, so memory holds only open dossiers'
future steps. Outputs at or after the window's end are never released (those
dossiers are still open at its end).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from ingest.simulator.arrivals import day_arrivals
from ingest.simulator.dossiers import Dossier, Refused, plan_dossier
from ingest.simulator.emit import events_of, records_of
from ingest.simulator.knobs import Knobs
from ingest.simulator.province import Province
from schemas.events import DossierEvent, EventType
from streams.rules.calendar import WorkingCalendar

_RANK = {t: i for i, t in enumerate(EventType)}  # lifecycle order for simultaneous events


class Format(StrEnum):
    EVENTS = "events"
    SYNC = "sync"


@dataclass(frozen=True, slots=True)
class Emitted:
    """One output: a canonical event, or a sync record observed at `at`."""

    at: datetime
    dossier_id: str
    payload: DossierEvent | dict[str, Any]


@dataclass(order=True, slots=True)
class _Queued:
    at: datetime
    tie: tuple[Any, ...]
    item: Emitted = field(compare=False)


class Simulation:
    def __init__(self, start: date, end: date, knobs: Knobs, calendar: WorkingCalendar) -> None:
        if end <= start:
            raise ValueError(f"window end {end} must be after its start {start}")
        self.start, self.end = start, end
        self.knobs = knobs
        self.cal = calendar
        self.province = Province.build(knobs)
        self.start_at = datetime.combine(start, time(), calendar.tz)
        self.end_at = datetime.combine(end, time(), calendar.tz)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def day(self, day: date) -> list[Dossier | Refused]:
        """Everything received (or refused) on `day`, unit by unit."""
        out: list[Dossier | Refused] = []
        for unit in self.province.units_on(day):  # the shape of that day (§8)
            profile = self.province.profiles[unit.code]
            rnd = random.Random(f"{self.knobs.seed}:{unit.code}:{day.isoformat()}")
            for arrival, refused in day_arrivals(rnd, self.cal, self.knobs, unit, profile, day):
                if refused:
                    out.append(Refused(arrival, arrival.received_at))
                else:
                    out.append(plan_dossier(rnd, self.cal, self.knobs, profile, arrival))
        return out

    def dossiers(self) -> Iterator[Dossier | Refused]:
        for day in self.days():
            yield from self.day(day)

    def _outputs(self, item: Dossier | Refused, fmt: Format) -> Iterator[_Queued]:
        if fmt is Format.EVENTS:
            if isinstance(item, Dossier):
                for e in events_of(item):
                    yield _Queued(e.at, (_RANK[e.type], e.event_id), Emitted(e.at, e.dossier_id, e))
            return
        for n, (at, record) in enumerate(records_of(item, self.knobs.personal_data)):
            yield _Queued(at, (item.arrival.dossier_id, n), Emitted(at, record["MaHoSo"], record))

    def stream(
        self,
        fmt: Format,
        on_item: Callable[[Dossier | Refused], None] = lambda item: None,
        on_day: Callable[[date], None] = lambda day: None,
    ) -> Iterator[Emitted]:
        """Outputs in time order (ties: lifecycle order, then id), all before the end."""
        queue: list[_Queued] = []
        for day in self.days():
            for item in self.day(day):
                on_item(item)
                for queued in self._outputs(item, fmt):
                    if queued.at < self.end_at:
                        heapq.heappush(queue, queued)
            midnight = datetime.combine(day + timedelta(days=1), time(), self.cal.tz)
            while queue and queue[0].at < midnight:
                yield heapq.heappop(queue).item
            on_day(day)
