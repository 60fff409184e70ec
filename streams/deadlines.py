"""Deadline alerts for inspectors: due soon, overdue, overdue reminders (METRICS.md §6).

Every alert of a dossier has a fixed instant `at` computed from its facts, so
a deadline watch is a filter: the watch ticking from `since` to `until`
(wall time live, event time in replay) sends `alerts_between(facts, since,
until)`. Nothing depends on when the scan runs, hence re-runs and restarts
give the same alerts and keys (downstream dedups by `alert_key`).

Decisions:

- The due is `facts.due`, the latest effective due; the timeline
  (`facts.changes`, read with `standing_at`) says how the dossier stood at
  each instant. If a later clock stop moved the due, the alerts follow the
  new due (new keys: "once per dossier and due").
- An alert at instant x fires if the dossier stands right for it once x is
  applied (state just after x, i.e. `standing_at(facts, x + 1µs)`): due soon
  needs WITHIN_DUE, overdue and reminders need OVERDUE. So nothing fires for
  a dossier finished or waiting for supplement at x, and a dossier paused
  for payment is overdue only if its due had passed when the clock stopped
  (the lifecycle's rule, carried by the timeline).
- due soon: the first instant ≥ max(received_at, u) at which the dossier is
  within due, where u is the earliest instant with
  working_time_between(u, due) == due_soon (the moment the remaining working
  time first drops to due_soon); it fires only if that instant is before
  the due. A wait for supplement over u delays it to the restart.
  `due_soon` of zero turns it off.
- overdue: the first instant ≥ due at which the dossier is overdue
  (normally the due itself).
- reminders: at the due's local time of day on the n-th working day after
  the due's local date (n = 1, 2, ...; calendar days if
  `reminder_every_working_day` is False), while overdue then, at most
  `max_reminders` (60) of them: a dossier forgotten for months does not
  page forever, and the board still lists it.
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

from streams.calendar import WorkingCalendar
from streams.facts import DossierFacts, standing_at
from streams.lifecycle import Standing

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


def _key(kind: str, facts: DossierFacts, due: datetime, *extra: object) -> str:
    # UTC spelling: one instant, one key whatever zone the due was written in
    return "|".join([kind, facts.dossier_id, due.astimezone(UTC).isoformat(), *map(str, extra)])


def _alert(
    kind: AlertKind, facts: DossierFacts, due: datetime, at: datetime, cal: WorkingCalendar, *n: int
) -> Alert:
    late = 0.0 if kind == "due_soon" else cal.working_time_between(due, at) / _HOUR
    return Alert(kind, facts.dossier_id, due, cal.local(at), late, _key(kind, facts, due, *n))


def _due_soon_at(
    facts: DossierFacts, due: datetime, cal: WorkingCalendar, soon: timedelta
) -> datetime | None:
    """When the due soon alert fires, or None (see the module's decisions)."""
    if soon <= timedelta(0):
        return None
    # u = earliest instant with working_time_between(u, due) == soon, counted
    # forward from the receipt (the calendar adds working time, it does not subtract)
    ahead = cal.working_time_between(facts.received_at, due)
    start = facts.received_at
    if ahead > soon:
        start = cal.add_working_time(facts.received_at, ahead - soon)
    x = _first_standing(facts, start, Standing.WITHIN_DUE)
    return x if x is not None and x < due else None


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
    due = facts.due
    if due is None or until <= since:
        return []
    alerts = []
    soon_at = _due_soon_at(facts, due, calendar, config.due_soon)
    if soon_at is not None and since <= soon_at < until:
        alerts.append(_alert("due_soon", facts, due, soon_at, calendar))
    overdue_at = _first_standing(facts, max(due, facts.received_at), Standing.OVERDUE)
    if overdue_at is None or overdue_at >= until:
        return alerts
    if overdue_at >= since:
        alerts.append(_alert("overdue", facts, due, overdue_at, calendar))
    if not config.overdue_reminder:
        return alerts
    for n, x in _reminder_instants(due, max(since, overdue_at), calendar, config):
        if x >= until:
            break
        if x >= since and x > overdue_at and _stands(facts, x) is Standing.OVERDUE:
            alerts.append(_alert("overdue_reminder", facts, due, x, calendar, n))
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
