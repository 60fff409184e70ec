"""Seeded random dossier histories for tests that compare two routes to a report."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from schemas.events import DossierEvent, EventType, TimeLimit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCIES = [
    ("H44.100", "UBND Phường Việt Trì", "D01", "Thành phố Việt Trì", "commune"),
    ("H44.101", "UBND Phường Nông Trang", "D01", "Thành phố Việt Trì", "commune"),
    ("H44.105", "UBND xã Xuân Lũng", "D02", "Huyện Lâm Thao", "commune"),
    ("H44.07", "Sở Công Thương", "D00", "Cấp tỉnh", "province"),
]
FIELDS = [("DD", "Đất đai"), ("HT", "Hộ tịch"), ("KD", "Kinh doanh")]
FOLLOW_UPS = [
    EventType.TRANSFERRED,
    EventType.SUPPLEMENT_REQUESTED,
    EventType.SUPPLEMENT_RECEIVED,
    EventType.PAYMENT_REQUESTED,
    EventType.PAYMENT_RECEIVED,
    EventType.EXTENDED,
    EventType.RESOLVED,
    EventType.RETURNED,
    EventType.REJECTED,
    EventType.WITHDRAWN,
]


def random_history(rnd: random.Random, dossier_id: str, start: datetime) -> list[DossierEvent]:
    code, name, district, district_name, level = rnd.choice(AGENCIES)
    field_code, field_name = rnd.choice(FIELDS)
    at = start + timedelta(seconds=rnd.randrange(90 * 24 * 3600))
    limit = rnd.choice([None, (3, "working_days"), (10, "days"), (6, "working_hours")])
    due_at = None if limit else (at + timedelta(hours=rnd.randrange(2, 300))).replace(minute=0)
    events = [
        DossierEvent(
            event_id=f"{dossier_id}/0",
            dossier_id=dossier_id,
            type=EventType.RECEIVED,
            at=at,
            agency_code=code,
            agency_name=name,
            level=level,
            district_code=district,
            district_name=district_name,
            procedure_code=f"1.00{field_code}",
            procedure_name=f"Thủ tục {field_name}",
            field_code=field_code,
            field_name=field_name,
            channel=rnd.choice(["online", "online", "direct", "postal"]),
            online_level=rnd.choice(["none", "partial", "full"]),
            due_at=due_at,
            time_limit=None if limit is None else {"value": limit[0], "unit": limit[1]},
            fee_due=rnd.random() < 0.4,
            paid_online=rnd.random() < 0.2,
            digitized=rnd.random() < 0.5,
        )
    ]
    t = at
    for i in range(1, rnd.randrange(1, 7)):
        t += timedelta(seconds=rnd.randrange(0, 6 * 24 * 3600))
        kind = rnd.choice(FOLLOW_UPS)
        extra: dict = {}
        if kind in (EventType.EXTENDED, EventType.SUPPLEMENT_RECEIVED) and rnd.random() < 0.3:
            extra["due_at"] = t + timedelta(hours=rnd.randrange(1, 200))
        if rnd.random() < 0.1:
            extra["paid_online"] = True
        events.append(
            DossierEvent(
                event_id=f"{dossier_id}/{i}", dossier_id=dossier_id, type=kind, at=t, **extra
            )
        )
    return events


def random_province(seed: int, dossiers: int, start: datetime) -> list[DossierEvent]:
    rnd = random.Random(seed)
    events: list[DossierEvent] = []
    for n in range(dossiers):
        events.extend(random_history(rnd, f"H44-{seed}-{n:05d}", start))
    return events


def clock_stop_history(rnd: random.Random, dossier_id: str, start: datetime) -> list[DossierEvent]:
    """A dossier with a short time limit and a few clock stops and restarts (supplement or
    payment rounds, some answered with a new due earlier or later), then maybe finished:
    its due moves, often after it has passed."""
    [received] = random_history(rnd, dossier_id, start)[:1]
    at = received.at
    limit = rnd.choice([(2, "working_hours"), (6, "working_hours"), (2, "working_days")])
    received = received.model_copy(
        update={"due_at": None, "time_limit": TimeLimit(value=limit[0], unit=limit[1])}
    )
    events = [received]
    t = at
    for i in range(rnd.randrange(1, 4)):
        stop, restart = rnd.choice(
            [
                (EventType.SUPPLEMENT_REQUESTED, EventType.SUPPLEMENT_RECEIVED),
                (EventType.PAYMENT_REQUESTED, EventType.PAYMENT_RECEIVED),
            ]
        )
        t += timedelta(seconds=rnd.randrange(0, 3 * 24 * 3600))
        events.append(
            DossierEvent(event_id=f"{dossier_id}/s{i}", dossier_id=dossier_id, type=stop, at=t)
        )
        t += timedelta(seconds=rnd.randrange(0, 5 * 24 * 3600))
        extra: dict = {}
        if rnd.random() < 0.3:
            extra["due_at"] = t + timedelta(hours=rnd.randrange(-200, 200))
        events.append(
            DossierEvent(
                event_id=f"{dossier_id}/r{i}", dossier_id=dossier_id, type=restart, at=t, **extra
            )
        )
    if rnd.random() < 0.6:
        t += timedelta(seconds=rnd.randrange(0, 8 * 24 * 3600))
        kind = rnd.choice([EventType.RESOLVED, EventType.WITHDRAWN])
        events.append(
            DossierEvent(event_id=f"{dossier_id}/end", dossier_id=dossier_id, type=kind, at=t)
        )
    return events
