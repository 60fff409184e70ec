"""Hand-worked examples of METRICS.md §1 (working time).

Every expected instant/duration is worked out by hand from the rule and the
real Vietnamese calendar (holidays listed in the brief, Labour Code 2019);
weekdays were checked with `datetime.date.weekday`, never with the code under
test. Default hours: 07:00-11:30 and 13:30-17:00 (4.5 h + 3.5 h = 8 h a day).
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from schemas.events import TimeLimit
from streams.rules.calendar import WorkingCalendar
from tests.unit.helpers import TZ, t

CAL = WorkingCalendar()
H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = 8 * H  # one working day


# -- add_working_time: the two examples of METRICS.md §1 ------------------------------


def test_one_working_hour_after_10_30_is_11_30() -> None:
    # Wed 2026-05-06 10:30 + 1 h stays inside the morning block → 11:30
    assert CAL.add_working_time(t(2026, 5, 6, 10, 30), H) == t(2026, 5, 6, 11, 30)


def test_one_working_hour_after_11_00_is_14_00_same_day() -> None:
    # 30 min 11:00-11:30, lunch 11:30-13:30 does not count, 30 min 13:30-14:00
    assert CAL.add_working_time(t(2026, 5, 6, 11, 0), H) == t(2026, 5, 6, 14, 0)


def test_add_ending_exactly_at_lunch_is_the_earliest_instant_11_30() -> None:
    # 11:00 + 30 min: earliest u with 30 min inside [11:00, u) is 11:30, not 13:30
    assert CAL.add_working_time(t(2026, 5, 6, 11, 0), 30 * M) == t(2026, 5, 6, 11, 30)


def test_one_working_day_from_07_00_ends_17_00_same_day() -> None:
    # Mon 2026-05-11 07:00 + 8 h fills the whole day; the earliest u is 17:00 Mon,
    # not 07:00 Tue (both have 8 h inside [t, u)).
    assert CAL.add_working_time(t(2026, 5, 11, 7, 0), DAY) == t(2026, 5, 11, 17, 0)


def test_add_working_time_accepts_an_instant_in_another_zone() -> None:
    # 03:30 UTC = 10:30 +07:00; + 1 h → 11:30 local (same instant whatever the zone)
    from datetime import UTC, datetime

    start = datetime(2026, 5, 6, 3, 30, tzinfo=UTC)
    assert CAL.add_working_time(start, H) == t(2026, 5, 6, 11, 30)


# -- working_time_between ----------------------------------------------------------------


def test_between_across_lunch() -> None:
    # Wed 2026-05-06 10:00-14:00: 1.5 h (10:00-11:30) + 0.5 h (13:30-14:00) = 2 h
    assert CAL.working_time_between(t(2026, 5, 6, 10, 0), t(2026, 5, 6, 14, 0)) == 2 * H


def test_between_inside_lunch_is_zero() -> None:
    # 11:45-13:15 lies in the lunch break
    assert CAL.working_time_between(t(2026, 5, 6, 11, 45), t(2026, 5, 6, 13, 15)) == timedelta(0)


def test_between_reversed_interval_is_zero() -> None:
    # [b, a) with b after a is empty
    assert CAL.working_time_between(t(2026, 5, 6, 14, 0), t(2026, 5, 6, 10, 0)) == timedelta(0)


def test_between_across_a_weekend() -> None:
    # Fri 2026-05-08 16:00 → Mon 2026-05-11 08:00: 1 h Fri (16-17), Sat/Sun 0, 1 h Mon (7-8)
    assert CAL.working_time_between(t(2026, 5, 8, 16, 0), t(2026, 5, 11, 8, 0)) == 2 * H


def test_between_a_full_working_week() -> None:
    # Mon 2026-05-11 00:00 → Mon 2026-05-18 00:00: Mon-Fri, no holiday → 5 × 8 h
    assert CAL.working_time_between(t(2026, 5, 11), t(2026, 5, 18)) == 5 * DAY


def test_tet_2026_three_working_days() -> None:
    # Thu 2026-02-12 09:00 + 3 working days:
    #   Fri 02-13 09:00 = 1 day; Sat 14, Sun 15 weekend; Mon 16 - Fri 20 Tết;
    #   Sat 21, Sun 22 weekend; Mon 02-23 09:00 = 2 days; Tue 02-24 09:00 = 3 days.
    received = t(2026, 2, 12, 9, 0)
    assert CAL.add_working_time(received, 3 * DAY) == t(2026, 2, 24, 9, 0)
    limit = TimeLimit(value=3, unit="working_days")
    assert CAL.due_from_limit(received, limit) == t(2026, 2, 24, 9, 0)
    assert CAL.working_time_between(received, t(2026, 2, 24, 9, 0)) == 3 * DAY


def test_tet_2026_week_counts_nothing() -> None:
    # Fri 2026-02-13 17:00 → Mon 2026-02-23 07:00: weekend, Tết Mon 16-Fri 20, weekend → 0
    assert CAL.working_time_between(t(2026, 2, 13, 17), t(2026, 2, 23, 7)) == timedelta(0)
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day))


def test_tet_2025_spans_a_saturday_holiday() -> None:
    # Tết 2025 is Mon 01-27 .. Sat 02-01. Fri 2025-01-24 16:00 + 2 h: 1 h Fri to 17:00;
    # Sat 25 / Sun 26 weekend; Mon 27 - Fri 31 Tết; Sat 02-01 holiday; Sun 02-02;
    # Mon 2025-02-03 07:00 + 1 h → 08:00
    assert CAL.add_working_time(t(2025, 1, 24, 16), 2 * H) == t(2025, 2, 3, 8)


def test_make_up_saturday_2024_05_04_counts() -> None:
    # Fri 2024-05-03 16:00 + 2 h: 1 h Fri to 17:00, Sat 2024-05-04 is a make-up working
    # day → 07:00 + 1 h = 08:00 Sat
    assert CAL.add_working_time(t(2024, 5, 3, 16, 0), 2 * H) == t(2024, 5, 4, 8, 0)
    assert CAL.is_working_day(date(2024, 5, 4))


def test_make_up_week_2024_only_thu_fri_sat_count() -> None:
    # Week Mon 2024-04-29 .. Sun 05-05: Mon 29 off (swapped), Tue 30 and Wed 05-01
    # holidays, Thu 2 and Fri 3 work, Sat 4 make-up work, Sun 5 off → 3 days = 24 h
    assert CAL.working_time_between(t(2024, 4, 29), t(2024, 5, 6)) == 3 * DAY
    for day in (date(2024, 4, 29), date(2024, 4, 30), date(2024, 5, 1)):
        assert not CAL.is_working_day(day)


def test_fri_before_the_2024_holiday_block() -> None:
    # Fri 2024-04-26 16:00 + 2 h: 1 h Fri; Sat 27/Sun 28 weekend; Mon 29, Tue 30, Wed 05-01 off;
    # Thu 2024-05-02 07:00 + 1 h → 08:00
    assert CAL.add_working_time(t(2024, 4, 26, 16, 0), 2 * H) == t(2024, 5, 2, 8, 0)
    assert CAL.working_time_between(t(2024, 4, 26, 17), t(2024, 5, 2, 7)) == timedelta(0)


def test_make_up_saturday_between_friday_and_monday() -> None:
    # Fri 2024-05-03 07:00 → Mon 2024-05-06 07:00: Fri 8 h + Sat 05-04 8 h (make-up) = 16 h
    assert CAL.working_time_between(t(2024, 5, 3, 7), t(2024, 5, 6, 7)) == 2 * DAY


def test_make_up_saturday_2026_08_22_and_swapped_monday() -> None:
    # Sat 2026-08-22 is worked in exchange for Mon 2026-08-31 off; Sep 1-2 are National Day.
    # Fri 2026-08-21 16:00 + 2 h: 1 h Fri, Sat 22 07:00-08:00 → Sat 08:00
    assert CAL.add_working_time(t(2026, 8, 21, 16), 2 * H) == t(2026, 8, 22, 8)
    # Fri 2026-08-28 16:00 + 2 h: 1 h Fri; Sat/Sun; Mon 31 off; Tue 09-01, Wed 09-02 off;
    # Thu 2026-09-03 07:00 + 1 h → 08:00
    assert CAL.add_working_time(t(2026, 8, 28, 16), 2 * H) == t(2026, 9, 3, 8)


def test_hung_kings_2026_observed_monday() -> None:
    # 2026-04-26 (Hùng Kings) is a Sunday, observed Mon 04-27. Fri 04-24 16:00 + 2 h:
    # 1 h Fri; Sat 25/Sun 26; Mon 27 off; Tue 2026-04-28 07:00 + 1 h → 08:00
    assert CAL.add_working_time(t(2026, 4, 24, 16), 2 * H) == t(2026, 4, 28, 8)


def test_vietnam_cultural_day_2026_11_24_is_off() -> None:
    # Mon 2026-11-23 16:00 + 2 h: 1 h Mon; Tue 11-24 off; Wed 2026-11-25 08:00
    assert CAL.add_working_time(t(2026, 11, 23, 16), 2 * H) == t(2026, 11, 25, 8)


# -- outside working hours ---------------------------------------------------------------


def test_received_at_16_55_counts_five_minutes_that_day() -> None:
    # Wed 2026-05-06 16:55 → Thu 07:00: only 16:55-17:00 = 5 min
    assert CAL.working_time_between(t(2026, 5, 6, 16, 55), t(2026, 5, 7, 7, 0)) == 5 * M
    # + 1 h: 5 min Wed, 55 min Thu from 07:00 → Thu 07:55
    assert CAL.add_working_time(t(2026, 5, 6, 16, 55), H) == t(2026, 5, 7, 7, 55)


def test_received_at_18_00_counts_from_next_morning() -> None:
    # Wed 2026-05-06 18:00 is after hours: the clock starts Thu 2026-05-07 07:00
    evening = t(2026, 5, 6, 18, 0)
    assert CAL.next_working_moment(evening) == t(2026, 5, 7, 7, 0)
    assert CAL.working_time_between(evening, t(2026, 5, 7, 7, 30)) == 30 * M
    assert CAL.add_working_time(evening, H) == t(2026, 5, 7, 8, 0)
    # 1 working day → the whole of Thu: 17:00 Thu
    assert CAL.due_from_limit(evening, TimeLimit(value=1, unit="working_days")) == t(
        2026, 5, 7, 17, 0
    )


def test_next_working_moment_cases() -> None:
    # inside hours: itself
    assert CAL.next_working_moment(t(2026, 5, 6, 10, 0)) == t(2026, 5, 6, 10, 0)
    # in the lunch break (and at 11:30 exactly, the block [07:00, 11:30) is over) → 13:30
    assert CAL.next_working_moment(t(2026, 5, 6, 12, 0)) == t(2026, 5, 6, 13, 30)
    assert CAL.next_working_moment(t(2026, 5, 6, 11, 30)) == t(2026, 5, 6, 13, 30)
    # before opening → 07:00 the same day
    assert CAL.next_working_moment(t(2026, 5, 6, 6, 0)) == t(2026, 5, 6, 7, 0)
    # Fri 17:00 → Mon 2026-05-11 07:00
    assert CAL.next_working_moment(t(2026, 5, 8, 17, 0)) == t(2026, 5, 11, 7, 0)
    # Thu 2026-04-30 (holiday) 09:00 → Fri 05-01 holiday, weekend → Mon 2026-05-04 07:00
    assert CAL.next_working_moment(t(2026, 4, 30, 9, 0)) == t(2026, 5, 4, 7, 0)


def test_received_on_a_sunday() -> None:
    # Sun 2026-05-10 10:00: nothing counts until Mon 2026-05-11 07:00
    sunday = t(2026, 5, 10, 10, 0)
    assert CAL.next_working_moment(sunday) == t(2026, 5, 11, 7, 0)
    assert CAL.working_time_between(sunday, t(2026, 5, 11, 9, 0)) == 2 * H
    # 1 working day: all of Mon → Mon 17:00; 2 working days → Tue 2026-05-12 17:00
    assert CAL.add_working_time(sunday, DAY) == t(2026, 5, 11, 17, 0)
    assert CAL.due_from_limit(sunday, TimeLimit(value=2, unit="working_days")) == t(
        2026, 5, 12, 17, 0
    )


# -- time limits -------------------------------------------------------------------------


def test_plain_days_landing_on_a_working_day() -> None:
    # Wed 2026-05-06 10:00 + 5 calendar days = Mon 2026-05-11 10:00, a working day
    limit = TimeLimit(value=5, unit="days")
    assert CAL.due_from_limit(t(2026, 5, 6, 10, 0), limit) == t(2026, 5, 11, 10, 0)


def test_plain_days_landing_on_a_saturday_moves_to_end_of_next_working_day() -> None:
    # Wed 2026-05-06 10:00 + 3 days = Sat 2026-05-09 → next working day Mon 05-11, end 17:00
    limit = TimeLimit(value=3, unit="days")
    assert CAL.due_from_limit(t(2026, 5, 6, 10, 0), limit) == t(2026, 5, 11, 17, 0)


def test_plain_days_landing_on_a_holiday_moves_past_the_holiday_block() -> None:
    # Fri 2026-04-24 09:00 + 6 days = Thu 2026-04-30 (holiday); Fri 05-01 holiday;
    # Sat 2 / Sun 3 weekend → Mon 2026-05-04 17:00
    limit = TimeLimit(value=6, unit="days")
    assert CAL.due_from_limit(t(2026, 4, 24, 9, 0), limit) == t(2026, 5, 4, 17, 0)


def test_plain_days_landing_on_the_make_up_saturday_stays() -> None:
    # Mon 2024-04-22 09:00 + 12 days = Sat 2024-05-04 09:00, a make-up working day → stays
    limit = TimeLimit(value=12, unit="days")
    assert CAL.due_from_limit(t(2024, 4, 22, 9, 0), limit) == t(2024, 5, 4, 9, 0)


def test_plain_days_received_on_sunday_start_at_next_working_moment() -> None:
    # Received Sun 2026-05-10 10:00: counting starts Mon 05-11 07:00 (§1 last bullet);
    # + 3 days = Thu 2026-05-14 07:00, a working day
    limit = TimeLimit(value=3, unit="days")
    assert CAL.due_from_limit(t(2026, 5, 10, 10, 0), limit) == t(2026, 5, 14, 7, 0)


def test_limit_in_working_hours() -> None:
    # Wed 2026-05-06 15:00 + 6 working hours: 2 h Wed (15-17), 4 h Thu from 07:00 → Thu 11:00
    limit = TimeLimit(value=6, unit="working_hours")
    assert CAL.due_from_limit(t(2026, 5, 6, 15, 0), limit) == t(2026, 5, 7, 11, 0)


def test_limit_of_half_a_working_day() -> None:
    # 0.5 working day = 4 h: Wed 2026-05-06 07:00 + 4 h → 11:00
    limit = TimeLimit(value=0.5, unit="working_days")
    assert CAL.due_from_limit(t(2026, 5, 6, 7, 0), limit) == t(2026, 5, 6, 11, 0)


def test_limit_of_ten_working_days_over_a_holiday_block() -> None:
    # Thu 2026-04-23 09:00 + 10 working days. Working days after Thu 23:
    # Fri 24 (1), Mon 27 off, Tue 28 (2), Wed 29 (3), Thu 30 off, Fri 05-01 off,
    # Mon 05-04 (4), Tue 5 (5), Wed 6 (6), Thu 7 (7), Fri 8 (8), Mon 11 (9), Tue 12 (10)
    # → Tue 2026-05-12 09:00
    limit = TimeLimit(value=10, unit="working_days")
    assert CAL.due_from_limit(t(2026, 4, 23, 9, 0), limit) == t(2026, 5, 12, 9, 0)


# -- operator overrides and custom hours ----------------------------------------------


def test_extra_day_off_shifts_a_due() -> None:
    # Wed 2026-05-06 09:00 + 2 working days = Fri 05-08 09:00 normally;
    # with Thu 05-07 declared off: Fri 08 09:00 (1), Mon 11 09:00 (2)
    limit = TimeLimit(value=2, unit="working_days")
    assert CAL.due_from_limit(t(2026, 5, 6, 9), limit) == t(2026, 5, 8, 9)
    cal = WorkingCalendar(extra_days_off=[date(2026, 5, 7)])
    assert not cal.is_working_day(date(2026, 5, 7))
    assert cal.due_from_limit(t(2026, 5, 6, 9), limit) == t(2026, 5, 11, 9)


def test_extra_working_saturday_shifts_a_due() -> None:
    # Wed 2026-05-06 09:00 + 3 working days = Mon 05-11 09:00 normally (Thu, Fri, Mon);
    # with Sat 05-09 declared a working day: Thu 07, Fri 08, Sat 09 → Sat 2026-05-09 09:00
    limit = TimeLimit(value=3, unit="working_days")
    assert CAL.due_from_limit(t(2026, 5, 6, 9), limit) == t(2026, 5, 11, 9)
    cal = WorkingCalendar(extra_working_days=[date(2026, 5, 9)])
    assert cal.is_working_day(date(2026, 5, 9))
    assert cal.due_from_limit(t(2026, 5, 6, 9), limit) == t(2026, 5, 9, 9)


def test_extra_working_day_can_cancel_a_holiday() -> None:
    # With Thu 2026-04-30 made a working day: Wed 04-29 16:00 + 2 h → 1 h Wed, Thu 30 08:00
    cal = WorkingCalendar(extra_working_days=[date(2026, 4, 30)])
    assert cal.add_working_time(t(2026, 4, 29, 16), 2 * H) == t(2026, 4, 30, 8)
    # default calendar: Thu 30, Fri 05-01 off, weekend → Mon 2026-05-04 08:00
    assert CAL.add_working_time(t(2026, 4, 29, 16), 2 * H) == t(2026, 5, 4, 8)


def test_override_clash_is_refused() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(extra_days_off=[date(2026, 5, 7)], extra_working_days=[date(2026, 5, 7)])


def test_custom_hours_8_to_12_and_13_to_17() -> None:
    cal = WorkingCalendar(hours=((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0))))
    assert cal.day_length == DAY  # 4 h + 4 h
    # 11:30 + 1 h: 30 min to 12:00, lunch 12-13, 30 min → 13:30
    assert cal.add_working_time(t(2026, 5, 6, 11, 30), H) == t(2026, 5, 6, 13, 30)
    # 07:00-08:30: the day starts at 08:00 → 30 min
    assert cal.working_time_between(t(2026, 5, 6, 7, 0), t(2026, 5, 6, 8, 30)) == 30 * M
    # Wed 16:00 + 2 h: 1 h Wed to 17:00, Thu from 08:00 → 09:00
    assert cal.add_working_time(t(2026, 5, 6, 16, 0), 2 * H) == t(2026, 5, 7, 9, 0)
    # 12:30 is in the break → next working moment 13:00; 07:30 → 08:00
    assert cal.next_working_moment(t(2026, 5, 6, 12, 30)) == t(2026, 5, 6, 13, 0)
    assert cal.next_working_moment(t(2026, 5, 6, 7, 30)) == t(2026, 5, 6, 8, 0)
    # 1 working day from Wed 08:00 ends Wed 17:00
    assert cal.add_working_time(t(2026, 5, 6, 8, 0), DAY) == t(2026, 5, 6, 17, 0)


def test_custom_hours_normalize_due_to_their_end_of_day() -> None:
    cal = WorkingCalendar(hours=((time(7, 30), time(11, 30)), (time(13, 0), time(16, 30))))
    # a 00:00:00 due means the end of working hours that date: 16:30
    assert cal.normalize_due(t(2026, 5, 8)) == t(2026, 5, 8, 16, 30)


# -- normalize_due ---------------------------------------------------------------------


def test_normalize_due_midnight_means_17_00_that_date() -> None:
    assert CAL.normalize_due(t(2026, 5, 8, 0, 0, 0)) == t(2026, 5, 8, 17, 0)


def test_normalize_due_with_a_time_is_unchanged() -> None:
    assert CAL.normalize_due(t(2026, 5, 8, 10, 0)) == t(2026, 5, 8, 10, 0)
    # one second past midnight has a time of day: unchanged
    assert CAL.normalize_due(t(2026, 5, 8, 0, 0, 1)) == t(2026, 5, 8, 0, 0, 1)


def test_normalize_due_of_a_naive_midnight() -> None:
    from datetime import datetime

    # a naive due is local time: 00:00 → 17:00 +07:00 that date
    assert CAL.normalize_due(datetime(2026, 5, 8)) == t(2026, 5, 8, 17, 0)


# -- long spans ------------------------------------------------------------------------


def test_working_days_of_2025() -> None:
    # 2025 starts on a Wednesday: 52 weeks + 1 day (Wed) → 261 weekdays.
    # Weekday holidays: Jan 1 (Wed); Tết Mon 01-27 .. Fri 01-31 (5; Sat 02-01 is a weekend
    # day anyway); Apr 7 (Mon); Apr 30 (Wed); May 1 (Thu); May 2 (Fri); Sep 1 (Mon);
    # Sep 2 (Tue) → 12. Make-up Saturday Apr 26: +1. 261 - 12 + 1 = 250 working days.
    assert CAL.working_time_between(t(2025, 1, 1), t(2026, 1, 1)) == 250 * DAY
    assert CAL.working_days_between(t(2025, 1, 1), t(2026, 1, 1)) == 250
    assert CAL.is_working_day(date(2025, 4, 26))  # make-up Saturday
    assert not CAL.is_working_day(date(2025, 5, 2))  # the swapped Friday


def test_working_days_of_2026() -> None:
    # 2026 starts on a Thursday: 52 weeks + 1 day (Thu) → 261 weekdays.
    # Weekday holidays: Jan 1 (Thu); Tết Mon 02-16 .. Fri 02-20 (5); Apr 27 (Mon, observed);
    # Apr 30 (Thu); May 1 (Fri); Aug 31 (Mon); Sep 1 (Tue); Sep 2 (Wed); Nov 24 (Tue) → 13.
    # Make-up Saturday Aug 22: +1. 261 - 13 + 1 = 249 working days.
    assert CAL.working_time_between(t(2026, 1, 1), t(2027, 1, 1)) == 249 * DAY


def test_two_year_span() -> None:
    # 2025 + 2026 = 250 + 249 = 499 working days
    assert CAL.working_time_between(t(2025, 1, 1), t(2027, 1, 1)) == 499 * DAY
    # and back: adding 499 working days to 2025-01-01 00:00 gives the end of the last
    # working day of 2026: Thu 2026-12-31 17:00 (Dec 31 2026 is a Thursday, no holiday)
    assert CAL.add_working_time(t(2025, 1, 1), 499 * DAY) == t(2026, 12, 31, 17, 0)


# -- zero and negative -------------------------------------------------------------------


def test_add_zero_working_time_is_the_instant_itself() -> None:
    # earliest u >= t with 0 working time in [t, u) is t itself, even in the lunch break
    assert CAL.add_working_time(t(2026, 5, 6, 10, 0), timedelta(0)) == t(2026, 5, 6, 10, 0)
    assert CAL.add_working_time(t(2026, 5, 6, 12, 0), timedelta(0)) == t(2026, 5, 6, 12, 0)
    assert CAL.add_working_time(t(2026, 5, 9, 12, 0), timedelta(0)).tzinfo is not None


def test_add_negative_working_time_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_time(t(2026, 5, 6, 10, 0), -H)


def test_local_zone_is_ho_chi_minh() -> None:
    # +07:00, no DST
    assert CAL.add_working_time(t(2026, 5, 6, 10), H).utcoffset() == timedelta(hours=7)
    assert TZ.key == "Asia/Ho_Chi_Minh"


# -- beyond the pre-built range (2015-2035) --------------------------------------------


def test_a_week_in_2037_outside_the_prebuilt_table() -> None:
    # June has no Vietnamese public holiday; Mon 2037-06-01 → Mon 2037-06-08: 5 × 8 h
    cal = WorkingCalendar()
    assert cal.working_time_between(t(2037, 6, 1, 7), t(2037, 6, 8, 7)) == 5 * DAY
    # Fri 2037-06-05 16:00 + 2 h: 1 h Fri, Mon 2037-06-08 08:00
    assert cal.add_working_time(t(2037, 6, 5, 16), 2 * H) == t(2037, 6, 8, 8)


def test_due_across_the_end_of_the_prebuilt_table() -> None:
    # Mon 2035-12-31 09:00 + 3 working days: Tue 2036-01-01 New Year off,
    # Wed 01-02 09:00 (1), Thu 01-03 (2), Fri 2036-01-04 09:00 (3)
    cal = WorkingCalendar()
    assert cal.add_working_time(t(2035, 12, 31, 9), 3 * DAY) == t(2036, 1, 4, 9)
    assert cal.working_time_between(t(2035, 12, 31, 9), t(2036, 1, 4, 9)) == 3 * DAY
