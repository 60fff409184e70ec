"""Worked examples of METRICS.md §1-3, each expected value worked out by hand
from the rule and the real 2024-2026 Vietnamese calendar (comments show how)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schemas.events import DossierEvent, TimeLimit
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import Outcome, Standing, dossier_state

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
H = timedelta(hours=1)


def t(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


def received(at: datetime, **extra: object) -> DossierEvent:
    fields = {
        "agency_code": "H44.100",
        "agency_name": "UBND Phường Việt Trì",
        "level": "commune",
        "district_code": "D01",
        "district_name": "Thành phố Việt Trì",
        "procedure_code": "1.003003",
        "field_code": "DD",
        "field_name": "Đất đai",
        "channel": "online",
    }
    return DossierEvent(event_id="r", dossier_id="D", type="received", at=at, **(fields | extra))


def ev(event_id: str, kind: str, at: datetime, **extra: object) -> DossierEvent:
    return DossierEvent(event_id=event_id, dossier_id="D", type=kind, at=at, **extra)


# -- §1 working time -------------------------------------------------------------------


def test_one_working_hour_after_10_30_and_after_11_00() -> None:
    assert CAL.add_working_time(t(2026, 5, 6, 10, 30), H) == t(2026, 5, 6, 11, 30)
    # 30 min to the lunch break, then 30 min from 13:30
    assert CAL.add_working_time(t(2026, 5, 6, 11, 0), H) == t(2026, 5, 6, 14, 0)


def test_tet_2026_spans_a_due_date() -> None:
    # Thu 2026-02-12 09:00 + 3 working days: Thu → Fri 09:00 (1), Tết Mon 16 – Fri 20 Feb,
    # weekend, Mon 23 09:00 (2), Tue 24 09:00 (3).
    limit = TimeLimit(value=3, unit="working_days")
    assert CAL.due_from_limit(t(2026, 2, 12, 9), limit) == t(2026, 2, 24, 9)
    # the whole of Tết week counts nothing
    assert CAL.working_time_between(t(2026, 2, 13, 17), t(2026, 2, 23, 7)) == timedelta(0)


def test_make_up_saturday_2024_05_04_counts() -> None:
    # Fri 2024-05-03 16:00 + 2 working hours: 1 h to 17:00, Sat 05-04 is worked → 08:00
    assert CAL.add_working_time(t(2024, 5, 3, 16), 2 * H) == t(2024, 5, 4, 8)
    # 04-29 (swapped), 04-30, 05-01 are off: Fri 04-26 17:00 → Thu 05-02 07:00 is zero
    assert CAL.working_time_between(t(2024, 4, 26, 17), t(2024, 5, 2, 7)) == timedelta(0)
    assert CAL.is_working_day(date(2024, 5, 4)) and not CAL.is_working_day(date(2024, 4, 29))


def test_received_at_16_55_and_at_18_00() -> None:
    # 16:55 Wed: 5 minutes that day, then Thu 07:00-11:30 (4.5 h) and 13:30-16:55 (3 h 25)
    assert CAL.add_working_time(t(2026, 5, 6, 16, 55), 8 * H) == t(2026, 5, 7, 16, 55)
    assert CAL.working_time_between(t(2026, 5, 6, 16, 55), t(2026, 5, 7, 7)) == timedelta(minutes=5)
    # 18:00 Wed counts from Thu 07:00: 1 working hour → 08:00
    assert CAL.next_working_moment(t(2026, 5, 6, 18)) == t(2026, 5, 7, 7)
    assert CAL.add_working_time(t(2026, 5, 6, 18), H) == t(2026, 5, 7, 8)
    # Saturday evening → Monday 07:00
    assert CAL.next_working_moment(t(2026, 5, 9, 20)) == t(2026, 5, 11, 7)


def test_plain_day_limits_move_off_a_day_off() -> None:
    # Mon 2026-04-20 10:00 + 5 days = Sat 04-25 → end of the next working day: Tue 04-28
    # 17:00 (Mon 04-27 is Hùng Kings' day, observed).
    limit = TimeLimit(value=5, unit="days")
    assert CAL.due_from_limit(t(2026, 4, 20, 10), limit) == t(2026, 4, 28, 17)
    # on a working day the time of day stays: Mon 10:00 + 3 days = Thu 10:00
    assert CAL.due_from_limit(t(2026, 4, 20, 10), TimeLimit(value=3, unit="days")) == (
        t(2026, 4, 23, 10)
    )


def test_operator_overrides_and_custom_hours() -> None:
    # a province gives Fri 2026-05-08 off and works Sat 05-09
    cal = WorkingCalendar(extra_days_off=[date(2026, 5, 8)], extra_working_days=[date(2026, 5, 9)])
    # Thu 16:00 + 2 h: 1 h Thu, Fri off, Sat 07:00 + 1 h
    assert cal.add_working_time(t(2026, 5, 7, 16), 2 * H) == t(2026, 5, 9, 8)
    custom = WorkingCalendar(hours=((time(8), time(12)), (time(13), time(17))))
    assert custom.add_working_time(t(2026, 5, 6, 11, 30), H) == t(2026, 5, 6, 13, 30)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_time(t(2026, 5, 6, 9), -H)


def test_working_days_of_2025() -> None:
    # 2025 starts on a Wednesday: 52 weeks + 1 day → 261 weekdays. Weekday holidays:
    # Jan 1 (1); Tết Mon Jan 27 - Fri Jan 31 (5); Apr 7; Apr 30; May 1; May 2; Sep 1;
    # Sep 2 (6) = 12 (Sat Feb 1 is Tết but a weekend); one make-up Saturday (Apr 26):
    # 261 - 12 + 1 = 250 working days.
    worked = CAL.working_time_between(t(2025, 1, 1), t(2026, 1, 1))
    assert worked == 250 * 8 * H


# -- §2-3 lifecycle and classification ------------------------------------------------

DUE = t(2026, 5, 7, 9)  # Thu


JUNE = t(2026, 6, 1)


def state(events: list[DossierEvent], at: datetime = JUNE):
    return dossier_state(events, at, CAL)


def test_early_on_time_late_by_the_local_date() -> None:
    base = received(t(2026, 5, 4, 9), due_at=DUE)
    assert state([base, ev("x", "resolved", t(2026, 5, 6, 16))]).standing is Standing.EARLY
    # same date as the due, before it → on time; after it → late
    assert state([base, ev("x", "resolved", t(2026, 5, 7, 8))]).standing is Standing.ON_TIME
    assert state([base, ev("x", "resolved", t(2026, 5, 7, 10))]).standing is Standing.LATE


def test_a_due_of_midnight_means_17_00() -> None:
    s = state(
        [
            received(t(2026, 5, 4, 9), due_at=t(2026, 5, 7)),
            ev("x", "resolved", t(2026, 5, 7, 16, 30)),
        ]
    )
    assert s.due == t(2026, 5, 7, 17)
    assert s.standing is Standing.ON_TIME


def test_two_supplement_requests_make_it_late_even_if_early() -> None:
    events = [
        received(t(2026, 5, 4, 9), due_at=t(2026, 5, 29, 17)),
        ev("s1", "supplement_requested", t(2026, 5, 4, 10)),
        ev("b1", "supplement_received", t(2026, 5, 4, 11)),
        ev("s2", "supplement_requested", t(2026, 5, 4, 14)),
        ev("b2", "supplement_received", t(2026, 5, 4, 15)),
        ev("x", "resolved", t(2026, 5, 5, 9)),
    ]
    s = state(events)
    assert (s.supplement_count, s.standing, s.late) == (2, Standing.LATE, True)


def test_a_supplement_round_moves_the_due_by_the_stopped_working_time() -> None:
    # clock stopped Tue 05-05 10:00 → Thu 05-07 10:00 = 1.5 + 3.5 (Tue) + 8 (Wed) + 3 (Thu
    # 07:00-10:00) = 16 working hours; due Thu 05-07 09:00 + 16 h → Mon 05-11 09:00.
    events = [
        received(t(2026, 5, 4, 9), due_at=DUE),
        ev("s1", "supplement_requested", t(2026, 5, 5, 10)),
        ev("b1", "supplement_received", t(2026, 5, 7, 10)),
    ]
    assert state(events).due == t(2026, 5, 11, 9)
    late = [*events, ev("x", "resolved", t(2026, 5, 11, 10))]
    assert state(late).standing is Standing.LATE
    on_time = [*events, ev("x", "resolved", t(2026, 5, 11, 8))]
    assert state(on_time).standing is Standing.ON_TIME


def test_a_new_due_on_the_supplement_wins_over_the_shift() -> None:
    events = [
        received(t(2026, 5, 4, 9), due_at=DUE),
        ev("s1", "supplement_requested", t(2026, 5, 5, 10)),
        ev("b1", "supplement_received", t(2026, 5, 7, 10), due_at=t(2026, 5, 20, 17)),
    ]
    assert state(events).due == t(2026, 5, 20, 17)


def test_an_apology_does_not_cure_lateness() -> None:
    events = [
        received(t(2026, 5, 4, 9), due_at=DUE),
        ev("e", "extended", t(2026, 5, 6, 9), due_at=t(2026, 5, 15, 17)),
        ev("x", "resolved", t(2026, 5, 12, 9)),
    ]
    s = state(events)
    assert (s.standing, s.apology, s.promised_due) == (Standing.LATE, True, t(2026, 5, 15, 17))


def test_waiting_for_supplement_at_the_period_end() -> None:
    base = [received(t(2026, 5, 4, 9), due_at=DUE)]
    # asked before the due: waiting, counts on time
    s = state([*base, ev("s1", "supplement_requested", t(2026, 5, 6, 9))])
    assert (s.standing, s.waiting_supplement, s.late) == (Standing.WAITING_SUPPLEMENT, True, False)
    # asked after the due: waiting, counts late
    s = state([*base, ev("s1", "supplement_requested", t(2026, 5, 8, 9))])
    assert (s.standing, s.late) == (Standing.WAITING_SUPPLEMENT, True)


def test_finished_while_waiting_is_judged_at_the_request() -> None:
    events = [
        received(t(2026, 5, 4, 9), due_at=DUE),
        ev("s1", "supplement_requested", t(2026, 5, 6, 9)),
        ev("w", "withdrawn", t(2026, 5, 25, 9)),  # long after the due
    ]
    s = state(events)
    assert (s.outcome, s.judged_at, s.standing) == (
        Outcome.WITHDRAWN,
        t(2026, 5, 6, 9),
        Standing.EARLY,
    )


def test_withdrawn_stopped_and_simultaneous_finishes() -> None:
    base = [received(t(2026, 5, 4, 9), due_at=DUE)]
    assert state([*base, ev("stop", "rejected", t(2026, 5, 5, 9))]).outcome is Outcome.STOPPED
    same = [*base, ev("w", "withdrawn", t(2026, 5, 5, 9)), ev("x", "resolved", t(2026, 5, 5, 9))]
    assert state(same).outcome is Outcome.RESOLVED  # 766 priority: resolved first
    later = [*base, ev("x", "resolved", t(2026, 5, 5, 9)), ev("t", "returned", t(2026, 5, 6, 9))]
    s = state(later)
    assert (s.end_at, s.returned_at) == (t(2026, 5, 5, 9), t(2026, 5, 6, 9))


def test_payment_pause_and_overdue_in_progress() -> None:
    base = [received(t(2026, 5, 4, 9), due_at=DUE)]
    paused = [*base, ev("p", "payment_requested", t(2026, 5, 6, 9))]
    s = state(paused, t(2026, 5, 20))
    # clock stopped before the due: still within due, however long the payment takes
    assert (s.standing, s.paused_for_payment) == (Standing.WITHIN_DUE, True)
    late_pause = [*base, ev("p", "payment_requested", t(2026, 5, 8, 9))]
    assert state(late_pause, t(2026, 5, 20)).standing is Standing.OVERDUE
    assert state(base, t(2026, 5, 7, 9)).standing is Standing.WITHIN_DUE  # due not < T
    assert state(base, t(2026, 5, 7, 9, 1)).standing is Standing.OVERDUE


def test_time_limit_without_due_and_events_at_or_after_t() -> None:
    events = [
        received(t(2026, 5, 4, 9), time_limit={"value": 3, "unit": "working_days"}),
        ev("x", "resolved", t(2026, 5, 6, 9)),
    ]
    assert state(events).due == DUE  # Mon 09:00 + 3 working days
    assert state(events, t(2026, 5, 6, 9)).end_at is None  # an event at T is not applied
    assert state(events, t(2026, 5, 4, 9)) is None  # nor is a receipt at T
