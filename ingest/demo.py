"""A small built-in province for `make run`: dossiers arrive in working hours at
a few agencies, move through supplement and payment rounds and finish early,
on time or late, on a simulated (accelerated) clock. Deterministic per seed.

The realistic simulator (`motcua simulate`) is a separate, richer tool; this
one only has to keep the live view moving.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas.events import DossierEvent, EventType
from streams.calendar import WorkingCalendar

AGENCIES = [
    # code, name, level, district code, district name, dossiers per working day
    ("H44.07", "Sở Công Thương", "province", "H44.D00", "Cấp tỉnh", 6),
    ("H44.12", "Sở Tài nguyên và Môi trường", "province", "H44.D00", "Cấp tỉnh", 10),
    ("H44.100", "UBND Phường Việt Trì", "commune", "H44.D01", "Thành phố Việt Trì", 40),
    ("H44.101", "UBND Phường Nông Trang", "commune", "H44.D01", "Thành phố Việt Trì", 25),
    ("H44.105", "UBND xã Xuân Lũng", "commune", "H44.D02", "Huyện Lâm Thao", 8),
    ("H44.110", "UBND xã Sơn Vi", "commune", "H44.D02", "Huyện Lâm Thao", 6),
]
PROCEDURES = [
    # code, name, field code, field name, limit in working days, online level, late share
    ("1.004227", "Đăng ký khai sinh", "HT", "Hộ tịch", 1, "full", 0.05),
    ("1.001193", "Chứng thực bản sao", "CT", "Chứng thực", 1, "partial", 0.03),
    ("1.003003", "Đăng ký biến động đất đai", "DD", "Đất đai", 10, "partial", 0.35),
    ("1.005398", "Cấp giấy phép kinh doanh", "KD", "Thương mại", 5, "full", 0.15),
]


@dataclass(order=True)
class _Scheduled:
    at: datetime
    seq: int
    event: DossierEvent = field(compare=False)


class DemoProvince:
    """Yields canonical events in time order, up to a moving simulated now."""

    def __init__(self, calendar: WorkingCalendar, start: datetime, seed: int = 1) -> None:
        self.cal = calendar
        self.rnd = random.Random(seed)
        self.clock = calendar.local(start)
        self.queue: list[_Scheduled] = []
        self.seq = 0
        self.dossiers = 0

    def _push(self, event: DossierEvent) -> None:
        self.seq += 1
        heapq.heappush(self.queue, _Scheduled(event.at, self.seq, event))

    def _arrivals(self, until: datetime) -> None:
        """Schedule receipts between the clock and `until` (working hours only)."""
        minute = timedelta(minutes=1)
        t = self.clock
        while t < until:
            if self.cal.next_working_moment(t) == t:
                for agency in AGENCIES:
                    if self.rnd.random() < agency[5] / 480:  # per working minute
                        self._new_dossier(agency, t + timedelta(seconds=self.rnd.randrange(60)))
            t += minute
        self.clock = until

    def _new_dossier(self, agency: tuple, at: datetime) -> None:
        code, name, level, district, district_name, _ = agency
        proc = self.rnd.choice(PROCEDURES)
        self.dossiers += 1
        dossier_id = f"{code}-{at:%y%m%d}-{self.dossiers:05d}"
        online = self.rnd.random() < 0.9
        received = DossierEvent(
            event_id=f"{dossier_id}/received",
            dossier_id=dossier_id,
            type=EventType.RECEIVED,
            at=at,
            agency_code=code,
            agency_name=name,
            level=level,
            district_code=district,
            district_name=district_name,
            procedure_code=proc[0],
            procedure_name=proc[1],
            field_code=proc[2],
            field_name=proc[3],
            channel="online" if online else "direct",
            online_level=proc[5],
            time_limit={"value": proc[4], "unit": "working_days"},
            fee_due=proc[2] in ("DD", "KD"),
            paid_online=online and self.rnd.random() < 0.6,
            digitized=self.rnd.random() < 0.8,
            source="demo",
        )
        self._push(received)
        self._lifecycle(received, proc)

    def _lifecycle(self, received: DossierEvent, proc: tuple) -> None:
        limit = self.cal.day_length * proc[4]
        t = received.at
        if self.rnd.random() < 0.15:  # a supplement round
            t = self.cal.add_working_time(t, limit * self.rnd.uniform(0.1, 0.5))
            self._step(received, EventType.SUPPLEMENT_REQUESTED, t)
            t += timedelta(hours=self.rnd.uniform(2, 72))
            self._step(received, EventType.SUPPLEMENT_RECEIVED, t)
        late = self.rnd.random() < proc[6]
        share = self.rnd.uniform(1.05, 1.8) if late else self.rnd.uniform(0.2, 0.98)
        end = self.cal.add_working_time(t, limit * share)
        if late and self.rnd.random() < 0.5:
            self._step(
                received,
                EventType.EXTENDED,
                end - timedelta(hours=1),
                due_at=end + timedelta(days=2),
            )
        kind = EventType.WITHDRAWN if self.rnd.random() < 0.02 else EventType.RESOLVED
        self._step(received, kind, end)
        if kind is EventType.RESOLVED:
            self._step(received, EventType.RETURNED, end + timedelta(hours=self.rnd.uniform(1, 30)))

    def _step(self, received: DossierEvent, kind: EventType, at: datetime, **extra) -> None:
        self._push(
            DossierEvent(
                event_id=f"{received.dossier_id}/{kind.value}",
                dossier_id=received.dossier_id,
                type=kind,
                at=at,
                **extra,
            )
        )

    def advance(self, until: datetime) -> Iterator[DossierEvent]:
        """Every event that happens before `until`, in time order."""
        self._arrivals(until)
        while self.queue and self.queue[0].at < until:
            yield heapq.heappop(self.queue).event
