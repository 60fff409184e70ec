"""When dossiers arrive: working-day volumes, intraday peaks, quiet weekends,
closed holidays.

A unit's day draws from its own generator seeded by (seed, unit, day), so a
day's dossiers are the same whatever window they are simulated in.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from ingest.simulator.dossiers import Arrival
from ingest.simulator.knobs import Knobs
from ingest.simulator.province import Profile, Unit
from schemas.events import Channel
from streams.rules.calendar import WorkingCalendar

WORKING_DAYS_PER_MONTH = 21.75
# Monday is the busiest day, Friday afternoon the quietest; a make-up Saturday is light.
WEEKDAY_FACTOR = (1.15, 1.05, 1.0, 1.0, 0.85, 0.8, 0.8)
# Receipts on a working day: (start minute, end minute, weight) — peaks mid-morning
# and mid-afternoon, nothing over lunch (default hours 07:00-11:30, 13:30-17:00).
INTRADAY = (
    (7 * 60, 8 * 60, 0.8),
    (8 * 60, 9 * 60, 1.4),
    (9 * 60, 10 * 60, 1.5),
    (10 * 60, 11 * 60, 1.2),
    (11 * 60, 11 * 60 + 30, 0.5),
    (13 * 60 + 30, 14 * 60, 0.6),
    (14 * 60, 15 * 60, 1.3),
    (15 * 60, 16 * 60, 1.2),
    (16 * 60, 17 * 60, 0.7),
)
EVENING = (17 * 60 + 30, 22 * 60)  # online dossiers received automatically after hours
WEEKEND = (8 * 60, 11 * 60 + 30)  # the few online receipts of an ordinary weekend


class DayKind(StrEnum):
    WORKING = "working"
    QUIET = "quiet"  # an ordinary weekend day: a trickle of online receipts
    CLOSED = "closed"  # Tết, holidays and the weekends inside their breaks: nothing


def day_kind(cal: WorkingCalendar, day: date) -> DayKind:
    if cal.is_working_day(day):
        return DayKind.WORKING
    if day.weekday() < 5 or cal.holiday_name(day) is not None:
        return DayKind.CLOSED
    friday = day - timedelta(days=day.weekday() - 4)
    monday = day + timedelta(days=7 - day.weekday())
    if cal.is_working_day(friday) and cal.is_working_day(monday):
        return DayKind.QUIET
    return DayKind.CLOSED


def _poisson(rnd: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation; exact enough for volumes
        return max(0, round(rnd.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rnd.random()
    while p > limit:
        k += 1
        p *= rnd.random()
    return k


def expected_count(profile: Profile, knobs: Knobs, kind: DayKind, day: date) -> float:
    """Mean number of dossiers a unit receives on `day`."""
    if kind is DayKind.CLOSED:
        return 0.0
    mean = profile.monthly_volume * knobs.scale / WORKING_DAYS_PER_MONTH
    mean *= WEEKDAY_FACTOR[day.weekday()]
    return mean * knobs.weekend_share if kind is DayKind.QUIET else mean


def _minute(rnd: random.Random, segments: tuple[tuple[int, int, float], ...]) -> int:
    start, end, _ = rnd.choices(segments, weights=[w for _, _, w in segments])[0]
    return rnd.randrange(start * 60, end * 60)


def _receipt_second(rnd: random.Random, kind: DayKind, online: bool, knobs: Knobs) -> int:
    """Seconds after midnight of a receipt."""
    if kind is DayKind.QUIET:
        return rnd.randrange(WEEKEND[0] * 60, WEEKEND[1] * 60)
    if online and rnd.random() < knobs.evening_share:
        return rnd.randrange(EVENING[0] * 60, EVENING[1] * 60)
    return _minute(rnd, INTRADAY)


def day_arrivals(
    rnd: random.Random,
    cal: WorkingCalendar,
    knobs: Knobs,
    unit: Unit,
    profile: Profile,
    day: date,
) -> list[tuple[Arrival, bool]]:
    """The unit's arrivals on `day` in time order, each with "refused at the counter"."""
    kind = day_kind(cal, day)
    count = _poisson(rnd, expected_count(profile, knobs, kind, day))
    midnight = datetime.combine(day, time(), cal.tz)
    drawn = []
    for _ in range(count):
        procedure = rnd.choices([p for p, _ in unit.offers], [w for _, w in unit.offers])[0]
        online = kind is DayKind.QUIET or rnd.random() < profile.online_share
        channel = Channel.ONLINE if online else _offline(rnd)
        second = _receipt_second(rnd, kind, online, knobs)
        refused = online and rnd.random() < knobs.refused_share
        back = rnd.randrange(60, min(6 * 3600, second)) if online else None
        drawn.append((second, procedure, channel, back, refused))
    drawn.sort(key=lambda item: item[0])
    arrivals = []
    for seq, (second, procedure, channel, back, refused) in enumerate(drawn, start=1):
        received = midnight + timedelta(seconds=second)
        submitted = None if back is None else received - timedelta(seconds=back)
        dossier_id = f"{unit.code}-{day:%y%m%d}-{seq:04d}"
        arrival = Arrival(dossier_id, unit, procedure, channel, received, submitted)
        arrivals.append((arrival, refused))
    return arrivals


def _offline(rnd: random.Random) -> Channel:
    return Channel.POSTAL if rnd.random() < 0.1 else Channel.DIRECT
