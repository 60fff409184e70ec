"""Forecast of the month's 2.1 points and the dossiers that decide them (METRICS.md §7).

At an instant `now` of the current month, the month's 2.1 population is §4's
denominator: dossiers finished in the month so far, and those open now
(received this month or carried over). Their fate by the month's end:

- finished ones, those already overdue, those with 2+ supplement requests and
  those waiting for a supplement (766 judges them at the request, §3) are
  decided;
- an open one whose due falls after the month's end is on time at the month's
  end whatever happens (finished before its due, or still within due);
- the rest, open with a due before the month's end, are *undecided*: on time
  in the best case, late in the worst, and on time at the unit's on-time share
  of the last 90 days in the expected case.

The at-risk list is the undecided dossiers, those whose finishing on time
saves the most points of their unit first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from schemas.scoring import DEFAULT_SCORING, ScoringTable
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import DossierState, Standing
from streams.rules.period import UnitKind, two_decimals, unit_of
from streams.rules.scorecard import exact_points, points_of

Share = Fraction | Decimal  # of 1: 0.8 = 80 % finished on time


@dataclass(frozen=True, slots=True)
class UnitForecast:
    unit_code: str
    unit_name: str
    denominator: int  # the month's 2.1 population known at `now`
    on_time: int  # decided on time (or sure to be at the month's end)
    late: int  # decided late
    undecided: int  # open, due before the month's end, can still be on time
    share: Fraction | None  # on-time share used for the expected case
    best: Decimal | None  # 2.1 points; None when the population is empty
    expected: Decimal | None  # None also when the unit has no share
    worst: Decimal | None


@dataclass(frozen=True, slots=True)
class AtRisk:
    dossier_id: str
    unit_code: str
    unit_name: str
    due: datetime
    standing: Standing
    points_saved: Decimal  # 2.1 points of its unit gained by finishing it on time
    saving: Fraction  # the same, unrounded: the list's order


@dataclass(frozen=True, slots=True)
class Forecast:
    month_start: datetime
    month_end: datetime
    units: list[UnitForecast]  # by unit code
    at_risk: list[AtRisk]  # most points saved first, then earliest due, then dossier id


def month_of(now: datetime, calendar: WorkingCalendar) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar month holding `now`."""
    local = calendar.local(now)
    start = datetime(local.year, local.month, 1, tzinfo=calendar.tz)
    end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=calendar.tz)
    return start, end


def _fate(s: DossierState, month_end: datetime) -> bool | None:
    """True: on time at the month's end, False: late, None: undecided."""
    if s.standing.finished or s.standing is Standing.WAITING_SUPPLEMENT:
        return not s.late
    if s.late or s.supplement_count >= 2:  # overdue, or late whenever it finishes
        return False
    if s.due is None or s.due >= month_end:
        return True
    return None


def forecast(
    states: Iterable[DossierState],
    now: datetime,
    by: UnitKind,
    calendar: WorkingCalendar,
    *,
    on_time_share: Mapping[str, Share],
    default_share: Share | None = None,
    table: ScoringTable = DEFAULT_SCORING,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> Forecast:
    """Best / expected / worst 2.1 points per unit for the month of `now`.

    `states` are taken at `now`. `on_time_share` is unit code → share of the
    last 90 days (see `on_time_shares`); a unit without one uses
    `default_share`, or has no expected figure (never a made-up one).
    """
    month_start, month_end = month_of(now, calendar)
    indicator = table["2.1"]
    if not indicator.scored:
        raise ValueError("2.1 has no points in this scoring table: nothing to forecast")
    groups: dict[str, list[tuple[DossierState, bool | None]]] = {}
    names: dict[str, tuple[datetime, str]] = {}
    for s in states:
        if s.as_of != now:
            raise ValueError(f"dossier {s.dossier_id} is judged at {s.as_of}, not at {now}")
        if s.end_at is not None and s.end_at < month_start:
            continue  # finished before the month: not in its 2.1
        code, name = unit_of(s, by, province)
        groups.setdefault(code, []).append((s, _fate(s, month_end)))
        if code not in names or s.received_at > names[code][0]:
            names[code] = (s.received_at, name)

    def points(num: Fraction | int, den: int) -> Decimal | None:
        return points_of(Fraction(100) * num / den, indicator)

    def exact(num: int, den: int) -> Fraction:
        exact = exact_points(Fraction(100 * num, den), indicator)
        assert exact is not None  # 2.1 is scored
        return exact

    units, at_risk = [], []
    for code in sorted(groups):
        fates = [fate for _, fate in groups[code]]
        on_time, late = fates.count(True), fates.count(False)
        undecided, den = fates.count(None), len(fates)
        given = on_time_share.get(code, default_share)
        share = None if given is None else Fraction(given)
        name = names[code][1]
        units.append(
            UnitForecast(
                code,
                name,
                den,
                on_time,
                late,
                undecided,
                share,
                best=points(on_time + undecided, den),
                expected=None if share is None else points(on_time + share * undecided, den),
                worst=points(on_time, den),
            )
        )
        # one more on time than the worst case (where a target's cap binds last)
        saving = exact(on_time + 1, den) - exact(on_time, den) if undecided else Fraction(0)
        for s, fate in groups[code]:
            if fate is None:
                assert s.due is not None  # a dossier without a due is never undecided
                rounded = two_decimals(saving)
                at_risk.append(AtRisk(s.dossier_id, code, name, s.due, s.standing, rounded, saving))
    at_risk.sort(key=lambda r: (-r.saving, r.due, r.dossier_id))
    return Forecast(month_start, month_end, units, at_risk)


def on_time_shares(
    states: Iterable[DossierState],
    now: datetime,
    by: UnitKind,
    *,
    days: int = 90,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> dict[str, Fraction]:
    """Unit code → share of dossiers finished in the last `days` days that were on time
    (early or on time, §4's on_time_rate as a share); units with none finished are left out.

    `states` are taken at `now`."""
    since = now - timedelta(days=days)
    finished: dict[str, list[bool]] = {}
    for s in states:
        if s.end_at is None or not since <= s.end_at < now:
            continue
        code, _ = unit_of(s, by, province)
        finished.setdefault(code, []).append(not s.late)
    return {code: Fraction(sum(flags), len(flags)) for code, flags in finished.items()}
