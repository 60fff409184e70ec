"""Working-time calendar (METRICS.md §1).

Working days come from the `holidays` package's Vietnam calendar (Tết, Hùng
Kings, the National Day pair, substituted days off, and its make-up working
Saturdays), adjusted by operator overrides. Every query is O(1) or a binary
search: a prefix count of working days per calendar day turns "working time
between" into a subtraction and "add working time" into a bisect, so a
dossier open for years costs the same as one open for an hour.

Internally an instant is measured by its *position*: the working time (µs)
elapsed since the start of the covered range. Outside working hours the
position stands still.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import holidays

from schemas.events import TimeLimit, TimeUnit
from schemas.settings import Settings

_US_PER_SECOND = 1_000_000
_YEAR_MARGIN = 2  # years added around a date that falls outside the covered range

DEFAULT_HOURS: tuple[tuple[time, time], ...] = (
    (time(7, 0), time(11, 30)),
    (time(13, 30), time(17, 0)),
)


def _us_of_day(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


class WorkingCalendar:
    """Working days and hours of one deployment (province)."""

    def __init__(
        self,
        hours: Sequence[tuple[time, time]] = DEFAULT_HOURS,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        tz: str | tzinfo = "Asia/Ho_Chi_Minh",
        years: tuple[int, int] = (2015, 2035),
    ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._intervals = self._check_hours(hours)
        # cumulative working time at each interval's start and end, within a day
        self._cum_start: list[int] = []
        self._cum_end: list[int] = []
        total = 0
        for start, end in self._intervals:
            self._cum_start.append(total)
            total += end - start
            self._cum_end.append(total)
        self.day_length = timedelta(microseconds=total)
        self._day_us = total
        self._extra_off = frozenset(extra_days_off)
        self._extra_work = frozenset(extra_working_days)
        clash = self._extra_off & self._extra_work
        if clash:
            raise ValueError(f"dates both off and working in overrides: {sorted(clash)}")
        self._build(*years)

    @staticmethod
    def _check_hours(hours: Sequence[tuple[time, time]]) -> tuple[tuple[int, int], ...]:
        spans = tuple((_us_of_day(a), _us_of_day(b)) for a, b in hours)
        if not spans:
            raise ValueError("working hours: at least one interval is needed")
        previous_end = -1
        for start, end in spans:
            if not previous_end <= start < end:
                raise ValueError(f"working hours must be ordered, disjoint intervals: {hours}")
            previous_end = end
        return spans

    # -- working days -------------------------------------------------------

    def _build(self, first_year: int, last_year: int) -> None:
        """Prefix counts of working days over [first_year, last_year]."""
        vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
        off = (set(vn) | self._extra_off) - self._extra_work
        makeup = (set(vn.weekend_workdays) | self._extra_work) - self._extra_off
        self._first_year, self._last_year = first_year, last_year
        self._holidays = vn
        self._base = date(first_year, 1, 1).toordinal()
        end = date(last_year, 12, 31).toordinal()
        cum = [0]
        working = []
        for ordinal in range(self._base, end + 1):
            day = date.fromordinal(ordinal)
            is_work = (day.weekday() < 5 and day not in off) or day in makeup
            working.append(is_work)
            cum.append(cum[-1] + is_work)
        self._cum = cum  # _cum[i] = working days in [base, base + i)
        self._working = working

    def _index(self, ordinal: int) -> int:
        """Index of a day in the prefix table, extending the table if needed."""
        i = ordinal - self._base
        if i < 0 or i >= len(self._working):
            year = date.fromordinal(ordinal).year
            self._build(
                min(self._first_year, year - _YEAR_MARGIN),
                max(self._last_year, year + _YEAR_MARGIN),
            )
            i = ordinal - self._base
        return i

    def is_working_day(self, day: date) -> bool:
        return self._working[self._index(day.toordinal())]

    def holiday_name(self, day: date) -> str | None:
        self._index(day.toordinal())
        return self._holidays.get(day)

    def _nth_working_day(self, k: int) -> int:
        """Ordinal of the working day preceded by exactly k working days."""
        while k + 1 > self._cum[-1]:  # extending forward keeps positions valid
            self._build(self._first_year, self._last_year + 10)
        return self._base + bisect.bisect_left(self._cum, k + 1) - 1

    # -- instants and positions ---------------------------------------------

    def local(self, t: datetime) -> datetime:
        """`t` in the calendar's zone; a naive `t` is taken as local time."""
        return t.replace(tzinfo=self.tz) if t.tzinfo is None else t.astimezone(self.tz)

    def _in_day(self, us: int) -> int:
        worked = 0
        for start, end in self._intervals:
            if us <= start:
                break
            worked += min(us, end) - start
        return worked

    def _cover(self, *instants: datetime) -> None:
        """Extend the table to all instants first: a rebuild moves every position."""
        for t in instants:
            self._index(self.local(t).toordinal())

    def _position(self, t: datetime) -> int:
        lt = self.local(t)
        i = self._index(lt.toordinal())
        pos = self._cum[i] * self._day_us
        if self._working[i]:
            pos += self._in_day(_us_of_day(lt.timetz()))
        return pos

    def _instant(self, ordinal: int, us: int) -> datetime:
        day = date.fromordinal(ordinal)
        return datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(microseconds=us)

    def _locate(self, position: int, *, earliest: bool) -> datetime:
        """An instant at `position`: the earliest one, or the first running one.

        Positions stand still outside working hours, so one position covers a
        span (e.g. 11:30-13:30). `earliest` picks its start (a due date lands on
        11:30, not 13:30); otherwise its end, where the clock runs again.
        """
        k, r = divmod(position, self._day_us)
        if earliest and r == 0 and k > 0:
            return self._instant(self._nth_working_day(k - 1), self._intervals[-1][1])
        ordinal = self._nth_working_day(k)
        if earliest:
            j = bisect.bisect_left(self._cum_end, r)
        else:
            j = bisect.bisect_right(self._cum_end, r)
        return self._instant(ordinal, self._intervals[j][0] + r - self._cum_start[j])

    # -- the rules of METRICS.md §1 -----------------------------------------

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside [a, b); zero when b <= a."""
        self._cover(a, b)
        return timedelta(microseconds=max(0, self._position(b) - self._position(a)))

    def add_working_time(self, t: datetime, d: timedelta) -> datetime:
        """Earliest u >= t with working_time_between(t, u) == d."""
        us = d // timedelta(microseconds=1)
        if us < 0:
            raise ValueError(f"working time to add must not be negative: {d}")
        if us == 0:
            return self.local(t)
        return self._locate(self._position(t) + us, earliest=True)

    def next_working_moment(self, t: datetime) -> datetime:
        """`t` itself inside working hours, else the next moment the clock runs."""
        return self._locate(self._position(t), earliest=False)

    def end_of_working_day(self, day: date) -> datetime:
        return self._instant(day.toordinal(), self._intervals[-1][1])

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        i = self._index(day.toordinal())
        return date.fromordinal(self._nth_working_day(self._cum[i + 1]))

    def normalize_due(self, due: datetime) -> datetime:
        """A due with no time of day (00:00:00 local) means that date's end of work."""
        lt = self.local(due)
        if lt.hour == lt.minute == lt.second == lt.microsecond == 0:
            return self.end_of_working_day(lt.date())
        return lt

    def due_from_limit(self, received: datetime, limit: TimeLimit) -> datetime:
        """The due of a dossier received at `received` with a statutory limit."""
        if limit.unit is TimeUnit.WORKING_DAYS:
            return self.add_working_time(received, self.day_length * limit.value)
        if limit.unit is TimeUnit.WORKING_HOURS:
            return self.add_working_time(received, timedelta(hours=limit.value))
        # plain days: counted from the moment counting starts; a due on a day
        # off moves to the end of the next working day.
        due = self.next_working_moment(received) + timedelta(days=limit.value)
        if self.is_working_day(due.date()):
            return due
        return self.end_of_working_day(self.next_working_day(due.date()))

    def working_days_between(self, a: datetime, b: datetime) -> float:
        """Working time inside [a, b) in working days (8 working hours each by default)."""
        return self.working_time_between(a, b) / self.day_length


_CALENDARS: dict[tuple, WorkingCalendar] = {}


def working_calendar(settings: Settings) -> WorkingCalendar:
    """The province's calendar as configured (working hours, the announced
    swaps, the timezone); built once per configuration, for every command and
    service alike."""
    key = (
        tuple(settings.working_hours),
        tuple(settings.extra_days_off),
        tuple(settings.extra_working_days),
        settings.timezone,
    )
    if key not in _CALENDARS:
        _CALENDARS[key] = WorkingCalendar(
            hours=settings.working_hours_spans(),
            extra_days_off=settings.extra_days_off,
            extra_working_days=settings.extra_working_days,
            tz=settings.timezone,
        )
    return _CALENDARS[key]
