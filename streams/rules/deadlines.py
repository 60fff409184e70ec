"""Deadline alerts for inspectors: due soon, overdue, overdue reminders (METRICS.md §6).

Every alert of a dossier has a fixed instant `at` computed from its facts, so
a deadline watch is a filter: the watch ticking from `since` to `until`
(wall time live, event time in replay) sends `alerts_between(facts, since,
until)`. Nothing depends on when the scan runs, hence re-runs and restarts
give the same alerts and keys (downstream dedups by `alert_key`).

Decisions:

- The due in force (§6). Each alert is judged with the due in force at its
  instant: `facts.dues` lists every effective due with the instant `since`
  it came into force (the events at `since` applied), so due D_i rules the
  instants x with since_i ≤ x < since_i+1. Each due gets its own due soon,
  overdue and reminders inside its own stretch; an alert whose natural
  instant lies before its due came into force fires at `since_i` (e.g. a
  restart whose shifted due is already past: overdue at the restart), and
  nothing of a due is raised before it existed or once a later one replaced
  it. So an alert at x depends only on the events with `at ≤ x`, and the
  alerts of a span are the same from a live watch and from a replay.
- Keys name the due (UTC spelling): a new due's alerts are distinct from the
  old due's, which stand. A due that comes back to a value it had before
  (A, then B, then A again) is a new due too: its keys add `@` and the
  instant it came into force.
- An alert at instant x fires if the dossier stands right for it once x is
  applied (state just after x, i.e. `standing_at(facts, x + 1µs)`): due soon
  needs WITHIN_DUE, overdue and reminders need OVERDUE. So nothing fires for
  a dossier finished or waiting for supplement at x, and a dossier paused
  for payment is overdue only if its due had passed when the clock stopped
  (the lifecycle's rule, carried by the timeline); paused in due, it is
  within due, so its due soon may fire while it waits.
- due soon: the first instant ≥ max(received_at, u, since_i) at which the
  dossier is within due, where u is the earliest instant with
  working_time_between(u, due) == due_soon (the moment the remaining working
  time first drops to due_soon); it fires only if that instant is before
  the due and the due is still in force. A wait for supplement over u
  delays it to the restart. `due_soon` of zero turns it off.
- overdue: the first instant ≥ max(due, since_i) at which the dossier is
  overdue (normally the due itself), while the due is in force.
- reminders: at the due's local time of day on the n-th working day after
  the due's local date (n = 1, 2, ...; calendar days if
  `reminder_every_working_day` is False), after the overdue, while overdue
  then and the due in force, at most `max_reminders` (60) per due: a dossier
  forgotten for months does not page forever, and the board still lists it.
- hours_late: working hours from the due to the alert's `at` (0 for due
  soon), so an alert is the same whenever it is computed.
- due_alerts(facts, T) lists the alerts with `at < T` (the state just before
  T, §2) when the dossier is in progress at T, else nothing; it includes a
  due soon that fired before the due passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DossierFacts, DueInForce, standing_at
from streams.rules.lifecycle import Standing

_TICK = timedelta(microseconds=1)  # datetimes resolve to µs: x + 1µs is "just after x"
_HOUR = timedelta(hours=1)
_IN_PROGRESS = (Standing.WITHIN_DUE, Standing.OVERDUE)

AlertKind = Literal["due_soon", "overdue", "overdue_reminder"]


@dataclass(frozen=True, slots=True)
class AlertConfig:
    due_soon: timedelta = timedelta(hours=8)  # working time before the due
    overdue_reminder: bool = True  # remind while overdue
    reminder_every_working_day: bool = True  # False: every calendar day
    max_reminders: int = 60


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    dossier_id: str
    due: datetime
    at: datetime
    hours_late: float  # working hours from due to at; 0 for due soon
    alert_key: str


def _stands(facts: DossierFacts, x: datetime) -> Standing | None:
    """The standing once instant x is applied (changes at x included)."""
    s = standing_at(facts, x + _TICK)
    return None if s is None else s[0]


def _first_standing(facts: DossierFacts, start: datetime, wanted: Standing) -> datetime | None:
    """The first instant ≥ start at which the dossier stands `wanted`.

    The standing only changes at the timeline's change points and at the end,
    so the answer is `start` or one of those.
    """
    points = [c.at for c in facts.changes if c.at > start]
    if facts.end_at is not None and facts.end_at > start:
        points.append(facts.end_at)
    for x in [start, *sorted(points)]:
        if _stands(facts, x) is wanted:
            return x
    return None


def _key(kind: str, facts: DossierFacts, due: str, *extra: object) -> str:
    return "|".join([kind, facts.dossier_id, due, *map(str, extra)])


def _due_label(entry: DueInForce, again: bool) -> str:
    # UTC spelling: one instant, one key whatever zone the due was written in
    label = entry.due.astimezone(UTC).isoformat()
    return f"{label}@{entry.since.astimezone(UTC).isoformat()}" if again else label


@dataclass(frozen=True, slots=True)
class _Stretch:
    """A due and the instants it rules: [start, stop), stop None = open-ended."""

    due: datetime
    start: datetime
    stop: datetime | None
    label: str  # the due as keys spell it

    def holds(self, x: datetime | None) -> bool:
        return x is not None and x >= self.start and (self.stop is None or x < self.stop)


def _stretches(facts: DossierFacts) -> list[_Stretch]:
    dues = facts.dues
    found, seen = [], set()
    for i, entry in enumerate(dues):
        stop = dues[i + 1].since if i + 1 < len(dues) else None
        label = _due_label(entry, entry.due in seen)
        seen.add(entry.due)
        found.append(_Stretch(entry.due, entry.since, stop, label))
    return found


def _alert(
    kind: AlertKind,
    facts: DossierFacts,
    stretch: _Stretch,
    at: datetime,
    cal: WorkingCalendar,
    *n: int,
) -> Alert:
    due = stretch.due
    late = 0.0 if kind == "due_soon" else cal.working_time_between(due, at) / _HOUR
    key = _key(kind, facts, stretch.label, *n)
    return Alert(kind, facts.dossier_id, due, cal.local(at), late, key)


def _due_soon_at(
    facts: DossierFacts, stretch: _Stretch, cal: WorkingCalendar, soon: timedelta
) -> datetime | None:
    """When the due soon alert of this due fires, or None (see the module's decisions)."""
    if soon <= timedelta(0):
        return None
    due = stretch.due
    # u = earliest instant with working_time_between(u, due) == soon, counted
    # forward from the receipt (the calendar adds working time, it does not subtract)
    ahead = cal.working_time_between(facts.received_at, due)
    start = facts.received_at
    if ahead > soon:
        start = cal.add_working_time(facts.received_at, ahead - soon)
    x = _first_standing(facts, max(start, stretch.start), Standing.WITHIN_DUE)
    return x if stretch.holds(x) and x is not None and x < due else None


def _working_days_after(cal: WorkingCalendar, a: date, b: date) -> int:
    """Working days in (a, b]: positions at the end of each day differ by whole days."""
    worked = cal.working_time_between(cal.end_of_working_day(a), cal.end_of_working_day(b))
    return worked // cal.day_length


def _nth_working_day_after(cal: WorkingCalendar, day: date, n: int) -> date:
    # the earliest instant n working days after `day`'s close is the n-th one's close
    return cal.local(cal.add_working_time(cal.end_of_working_day(day), cal.day_length * n)).date()


def _reminder_instants(
    due: datetime, since: datetime, cal: WorkingCalendar, config: AlertConfig
) -> Iterator[tuple[int, datetime]]:
    """(n, instant) of the n-th reminder, from the first that can be ≥ since, in order."""
    local_due = cal.local(due)
    since_day = cal.local(since).date()
    if config.reminder_every_working_day:
        n = max(1, _working_days_after(cal, local_due.date(), since_day))
    else:
        n = max(1, (since_day - local_due.date()).days)
    for k in range(n, config.max_reminders + 1):
        if config.reminder_every_working_day:
            day = _nth_working_day_after(cal, local_due.date(), k)
        else:
            day = local_due.date() + timedelta(days=k)
        yield k, datetime.combine(day, local_due.timetz())


def alerts_between(
    facts: DossierFacts,
    since: datetime,
    until: datetime,
    calendar: WorkingCalendar,
    config: AlertConfig | None = None,
) -> list[Alert]:
    """The alerts of this dossier whose `at` lies in [since, until), in time order."""
    config = config or AlertConfig()
    if until <= since:
        return []
    alerts: list[Alert] = []
    for stretch in _stretches(facts):
        if stretch.start >= until:
            break
        if stretch.stop is not None and stretch.stop <= since:
            continue
        alerts += _stretch_alerts(facts, stretch, since, until, calendar, config)
    alerts.sort(key=lambda a: (a.at, a.alert_key))
    return alerts


def _stretch_alerts(
    facts: DossierFacts,
    stretch: _Stretch,
    since: datetime,
    until: datetime,
    calendar: WorkingCalendar,
    config: AlertConfig,
) -> list[Alert]:
    """The alerts of one due in force, with `at` in [since, until)."""
    alerts = []
    due = stretch.due
    soon_at = _due_soon_at(facts, stretch, calendar, config.due_soon)
    if soon_at is not None and since <= soon_at < until:
        alerts.append(_alert("due_soon", facts, stretch, soon_at, calendar))
    start = max(due, stretch.start)
    overdue_at = _first_standing(facts, start, Standing.OVERDUE)
    if overdue_at is None or not stretch.holds(overdue_at) or overdue_at >= until:
        return alerts
    if overdue_at >= since:
        alerts.append(_alert("overdue", facts, stretch, overdue_at, calendar))
    if not config.overdue_reminder:
        return alerts
    for n, x in _reminder_instants(due, max(since, overdue_at), calendar, config):
        if x >= until or (stretch.stop is not None and x >= stretch.stop):
            break
        if x >= since and x > overdue_at and _stands(facts, x) is Standing.OVERDUE:
            alerts.append(_alert("overdue_reminder", facts, stretch, x, calendar, n))
    return alerts


def due_alerts(
    facts: DossierFacts,
    as_of: datetime,
    calendar: WorkingCalendar,
    config: AlertConfig | None = None,
) -> list[Alert]:
    """Every alert that has fired for this dossier before as_of, if it is in progress at as_of.

    Nothing for a dossier finished, waiting for supplement or not yet
    received at as_of: there is nothing left to chase.
    """
    standing = standing_at(facts, as_of)
    if standing is None or standing[0] not in _IN_PROGRESS:
        return []
    return alerts_between(facts, facts.received_at, as_of, calendar, config)
