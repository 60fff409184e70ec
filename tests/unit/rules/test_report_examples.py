"""Hand-worked period report (METRICS.md §4, Biểu II.06a) for May 2026.

Period [2026-05-01 00:00, 2026-06-01 00:00) local, T = end. May 2026: Fri 05-01
is a holiday (and Thu 04-30, Mon 04-27 before it); no other holiday in May.
Processing times are counted by hand in working hours (07:00-11:30,
13:30-17:00) and divided by 8.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import DossierState, Standing, dossier_state
from streams.rules.period import CSV_COLUMNS, PeriodRow, UnitKind, period_report
from tests.unit.helpers import ev, t

CAL = WorkingCalendar()
START = t(2026, 5, 1)
END = t(2026, 6, 1)
PROVINCE = ("H44", "Tỉnh Phú Thọ")

AGENCY_A = {"agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì"}
AGENCY_B = {"agency_code": "H44.101", "agency_name": "UBND Phường Nông Trang"}


def dossier(
    dossier_id: str,
    agency: dict[str, str],
    received_at: datetime,
    follow_ups: list[tuple[str, datetime, dict[str, Any]]],
    **received_fields: Any,
) -> list[DossierEvent]:
    events = [ev("received", received_at, dossier_id=dossier_id, **agency, **received_fields)]
    for type_, at, fields in follow_ups:
        events.append(ev(type_, at, dossier_id=dossier_id, **fields))
    return events


def histories() -> dict[str, list[DossierEvent]]:
    return {
        # -- agency A ------------------------------------------------------------------
        # A1 carried over from April, resolved Tue 05-05 10:00 before due date Wed 05-06 → early.
        # Processing Thu 04-23 09:00 → Tue 05-05 10:00: Thu 6 h (2.5 + 3.5), Fri 04-24 8 h,
        # Mon 04-27 off, Tue 28 8 h, Wed 29 8 h, Thu 30 / Fri 05-01 off, Mon 05-04 8 h,
        # Tue 05-05 07:00-10:00 3 h → 41 h = 5.125 days.
        "A1": dossier(
            "A1",
            AGENCY_A,
            t(2026, 4, 23, 9),
            [("resolved", t(2026, 5, 5, 10), {})],
            channel="direct",
            due_at=t(2026, 5, 6, 17),
        ),
        # A2 received Fri 05-29 09:00 online (full service), 3 working days → due Wed 06-03
        # 09:00 (Mon 06-01, Tue 06-02, Wed 06-03) → in progress within due at T.
        "A2": dossier(
            "A2",
            AGENCY_A,
            t(2026, 5, 29, 9),
            [],
            channel="online",
            online_level="full",
            time_limit={"value": 3, "unit": "working_days"},
            fee_due=True,
            paid_online=True,
            digitized=True,
        ),
        # A3 direct (procedure offered full online), due Fri 05-15 17:00, nothing since →
        # in progress overdue at T.
        "A3": dossier(
            "A3",
            AGENCY_A,
            t(2026, 5, 4, 8),
            [],
            channel="direct",
            online_level="full",
            due_at=t(2026, 5, 15, 17),
            fee_due=True,
            paid_online=False,
        ),
        # A4 online (partial), due Fri 05-15 17:00, supplement requested Mon 05-18 10:00
        # (after due), unanswered → waiting for supplement, judged late.
        "A4": dossier(
            "A4",
            AGENCY_A,
            t(2026, 5, 12, 9),
            [("supplement_requested", t(2026, 5, 18, 10), {})],
            channel="online",
            online_level="partial",
            due_at=t(2026, 5, 15, 17),
            digitized=True,
        ),
        # A5 postal, withdrawn Thu 05-07 10:00, due Wed 05-13 → early, withdrawn.
        # Processing Wed 05-06 09:00 → Thu 10:00: 6 h + 3 h = 9 h = 1.125 days.
        "A5": dossier(
            "A5",
            AGENCY_A,
            t(2026, 5, 6, 9),
            [("withdrawn", t(2026, 5, 7, 10), {})],
            channel="postal",
            due_at=t(2026, 5, 13, 17),
            fee_due=True,
            paid_online=False,
        ),
        # A6 online (full), due Fri 05-15 17:00, apology Fri 14:00 promising Wed 05-20,
        # resolved Tue 05-19 10:00 → late with apology.
        # Processing Mon 05-11 09:00 → Tue 05-19 10:00: Mon 6 h, Tue-Fri 4 × 8 = 32 h,
        # Mon 05-18 8 h, Tue 05-19 3 h → 49 h = 6.125 days.
        "A6": dossier(
            "A6",
            AGENCY_A,
            t(2026, 5, 11, 9),
            [
                ("extended", t(2026, 5, 15, 14), {"due_at": t(2026, 5, 20, 17)}),
                ("resolved", t(2026, 5, 19, 10), {}),
            ],
            channel="online",
            online_level="full",
            due_at=t(2026, 5, 15, 17),
            fee_due=True,
            paid_online=True,
        ),
        # -- agency B ------------------------------------------------------------------
        # B1 carried over, resolved Tue 05-05 16:00 on its due date (due 17:00) → on time.
        # Processing Wed 04-29 14:00 → Tue 05-05 16:00: Wed 3 h, Thu 30 / Fri 05-01 off,
        # Mon 05-04 8 h, Tue 07:00-16:00 4.5 + 2.5 = 7 h → 18 h = 2.25 days.
        "B1": dossier(
            "B1",
            AGENCY_B,
            t(2026, 4, 29, 14),
            [("resolved", t(2026, 5, 5, 16), {})],
            channel="direct",
            due_at=t(2026, 5, 5, 17),
        ),
        # B2 online (full), rejected Fri 05-08 09:00, due Thu 05-14 → early, stopped.
        # Processing Thu 05-07 09:00 → Fri 09:00: 6 h + 2 h = 8 h = 1 day.
        "B2": dossier(
            "B2",
            AGENCY_B,
            t(2026, 5, 7, 9),
            [("rejected", t(2026, 5, 8, 9), {})],
            channel="online",
            online_level="full",
            due_at=t(2026, 5, 14, 17),
            digitized=True,
        ),
        # B3 direct (full service), due Wed 05-20 17:00, resolved Thu 05-21 09:00 → late,
        # no apology. Processing Mon 05-18 09:00 → Thu 09:00: 6 + 8 + 8 + 2 = 24 h = 3 days.
        "B3": dossier(
            "B3",
            AGENCY_B,
            t(2026, 5, 18, 9),
            [("resolved", t(2026, 5, 21, 9), {})],
            channel="direct",
            online_level="full",
            due_at=t(2026, 5, 20, 17),
            fee_due=True,
            paid_online=False,
        ),
        # B4 received and finished in April: not in this period at all.
        "B4": dossier(
            "B4",
            AGENCY_B,
            t(2026, 4, 20, 9),
            [("resolved", t(2026, 4, 22, 10), {})],
            channel="online",
            online_level="full",
            due_at=t(2026, 4, 24, 17),
            fee_due=True,
            paid_online=True,
            digitized=True,
        ),
        # B6 postal (partial), due Wed 05-27 10:00; supplement Mon 05-25 15:00 → Tue 05-26
        # 09:00 stops 2 h + 2 h = 4 h → due Wed 10:00 + 4 h = 16:00 (1.5 h + 2.5 h).
        # Resolved Wed 15:00 → on time. Processing Mon 09:00 → Wed 15:00 (stops included):
        # Mon 6 h, Tue 8 h, Wed 4.5 + 1.5 = 6 h → 20 h = 2.5 days.
        "B6": dossier(
            "B6",
            AGENCY_B,
            t(2026, 5, 25, 9),
            [
                ("supplement_requested", t(2026, 5, 25, 15), {}),
                ("supplement_received", t(2026, 5, 26, 9), {}),
                ("resolved", t(2026, 5, 27, 15), {}),
            ],
            channel="postal",
            online_level="partial",
            due_at=t(2026, 5, 27, 10),
            digitized=True,
        ),
        # B7 carried over, waiting for supplement since Wed 04-22 09:00 (before due Fri 04-24)
        # → waiting, on time.
        "B7": dossier(
            "B7",
            AGENCY_B,
            t(2026, 4, 14, 9),
            [("supplement_requested", t(2026, 4, 22, 9), {})],
            channel="direct",
            due_at=t(2026, 4, 24, 17),
        ),
        # B8 carried over, online (full), due Fri 06-05; resolved 06-02 is after T and not
        # applied → in progress within due. Its flags are not counted (received in April).
        "B8": dossier(
            "B8",
            AGENCY_B,
            t(2026, 4, 28, 9),
            [("resolved", t(2026, 6, 2, 10), {})],
            channel="online",
            online_level="full",
            due_at=t(2026, 6, 5, 17),
            fee_due=True,
            paid_online=True,
            digitized=True,
        ),
        # B9 received Mon 06-01 08:00, after the period: no state at T.
        "B9": dossier(
            "B9", AGENCY_B, t(2026, 6, 1, 8), [], channel="online", due_at=t(2026, 6, 5, 17)
        ),
    }


def states_at_end() -> list[DossierState]:
    states = [dossier_state(events, END, CAL) for events in histories().values()]
    assert sum(s is None for s in states) == 1  # B9
    return [s for s in states if s is not None]


def rows_by_code(by: UnitKind) -> dict[str, PeriodRow]:
    rows = period_report(states_at_end(), START, END, by, CAL, province=PROVINCE)
    return {r.unit_code: r for r in rows}


def two(value: Decimal | None) -> str | None:
    """A rate as shown (two decimals), or None."""
    return None if value is None else str(value)


def test_states_by_hand() -> None:
    by_id = {s.dossier_id: s for s in states_at_end()}
    expected = {
        "A1": Standing.EARLY,
        "A2": Standing.WITHIN_DUE,
        "A3": Standing.OVERDUE,
        "A4": Standing.WAITING_SUPPLEMENT,
        "A5": Standing.EARLY,
        "A6": Standing.LATE,
        "B1": Standing.ON_TIME,
        "B2": Standing.EARLY,
        "B3": Standing.LATE,
        "B4": Standing.EARLY,
        "B6": Standing.ON_TIME,
        "B7": Standing.WAITING_SUPPLEMENT,
        "B8": Standing.WITHIN_DUE,
    }
    assert {k: v.standing for k, v in by_id.items()} == expected
    assert by_id["A4"].late is True  # request after due
    assert by_id["B7"].late is False  # request before due
    assert by_id["A2"].due == t(2026, 6, 3, 9)
    assert by_id["B6"].due == t(2026, 5, 27, 16)


def test_agency_rows_are_the_two_agencies_in_code_order() -> None:
    rows = period_report(states_at_end(), START, END, UnitKind.AGENCY, CAL, province=PROVINCE)
    assert [(r.unit_code, r.unit_name) for r in rows] == [
        ("H44.100", "UBND Phường Việt Trì"),
        ("H44.101", "UBND Phường Nông Trang"),
    ]


def test_agency_a_counts() -> None:
    a = rows_by_code(UnitKind.AGENCY)["H44.100"]
    assert a.carried_over == 1  # A1
    assert a.received_total == 5  # A2 A3 A4 A5 A6
    assert a.received_online == 3  # A2 A4 A6
    assert a.received_direct_postal == 2  # A3 direct, A5 postal
    assert a.finished_total == 3  # A1 A5 A6
    assert a.finished_early == 2  # A1 A5
    assert a.finished_on_time == 0
    assert a.finished_late == 1  # A6
    assert a.in_progress_total == 2  # A2 A3
    assert a.in_progress_within_due == 1  # A2
    assert a.in_progress_overdue == 1  # A3
    assert a.waiting_supplement == 1  # A4
    assert a.stopped_or_withdrawn == 1  # A5
    assert a.apologies == 1  # A6
    # II.06a identity: 1 + 5 = 6 = 3 + 2 + 1
    assert a.carried_over + a.received_total == 6
    assert a.finished_total + a.in_progress_total + a.waiting_supplement == 6


def test_agency_a_rates() -> None:
    a = rows_by_code(UnitKind.AGENCY)["H44.100"]
    assert two(a.on_time_rate) == "66.67"  # (2 + 0) / 3 = 66.666..%
    assert two(a.late_rate) == "33.33"  # 1 / 3
    # (early 2 + on time 0 + within due 1 + waiting on time 0) / (3 + 2 + 1) = 3/6
    assert two(a.progress_ratio_766) == "50.00"
    assert two(a.progress_score_766) == "10.00"  # 50 × 20 / 100
    assert two(a.online_rate) == "60.00"  # 3 / 5
    assert two(a.full_online_rate) == "66.67"  # full service A2 A3 A6, online A2 A6: 2/3
    assert two(a.online_payment_rate) == "50.00"  # fee A2 A3 A5 A6, paid online A2 A6: 2/4
    assert two(a.digitized_rate) == "40.00"  # A2 A4: 2 / 5
    # (5.125 + 1.125 + 6.125) / 3 = 12.375 / 3 = 4.125 → HALF_UP 4.13
    assert two(a.avg_processing_days) == "4.13"


def test_agency_b_counts() -> None:
    b = rows_by_code(UnitKind.AGENCY)["H44.101"]
    assert b.carried_over == 3  # B1 B7 B8 (B4 finished in April)
    assert b.received_total == 3  # B2 B3 B6 (B9 is June)
    assert b.received_online == 1  # B2
    assert b.received_direct_postal == 2  # B3 direct, B6 postal
    assert b.finished_total == 4  # B1 B2 B3 B6
    assert b.finished_early == 1  # B2
    assert b.finished_on_time == 2  # B1 B6
    assert b.finished_late == 1  # B3
    assert b.in_progress_total == 1  # B8
    assert b.in_progress_within_due == 1
    assert b.in_progress_overdue == 0
    assert b.waiting_supplement == 1  # B7
    assert b.stopped_or_withdrawn == 1  # B2
    assert b.apologies == 0  # B3 is late without apology
    # II.06a identity: 3 + 3 = 6 = 4 + 1 + 1
    assert b.carried_over + b.received_total == 6
    assert b.finished_total + b.in_progress_total + b.waiting_supplement == 6


def test_agency_b_rates() -> None:
    b = rows_by_code(UnitKind.AGENCY)["H44.101"]
    assert two(b.on_time_rate) == "75.00"  # (1 + 2) / 4
    assert two(b.late_rate) == "25.00"  # 1 / 4
    # (1 + 2 + 1 + waiting on time 1) / (4 + 1 + 1) = 5/6 = 83.333..%
    assert two(b.progress_ratio_766) == "83.33"
    assert two(b.progress_score_766) == "16.67"  # 83.333.. × 20 / 100 = 16.666..
    assert two(b.online_rate) == "33.33"  # 1 / 3
    assert two(b.full_online_rate) == "50.00"  # full B2 (online) B3 (direct): 1/2
    assert two(b.online_payment_rate) == "0.00"  # fee B3, not paid online: 0/1
    assert two(b.digitized_rate) == "66.67"  # B2 B6: 2/3
    # (2.25 + 1 + 3 + 2.5) / 4 = 8.75 / 4 = 2.1875 → 2.19
    assert two(b.avg_processing_days) == "2.19"


def test_province_row_counts_and_rates() -> None:
    rows = period_report(states_at_end(), START, END, UnitKind.PROVINCE, CAL, province=PROVINCE)
    assert len(rows) == 1
    p = rows[0]
    assert (p.unit_code, p.unit_name) == PROVINCE
    assert p.carried_over == 4
    assert p.received_total == 8
    assert p.received_online == 4
    assert p.received_direct_postal == 4
    assert p.finished_total == 7
    assert p.finished_early == 3
    assert p.finished_on_time == 2
    assert p.finished_late == 2
    assert p.in_progress_total == 3
    assert p.in_progress_within_due == 2
    assert p.in_progress_overdue == 1
    assert p.waiting_supplement == 2
    assert p.stopped_or_withdrawn == 2
    assert p.apologies == 1
    # II.06a identity: 4 + 8 = 12 = 7 + 3 + 2
    assert p.carried_over + p.received_total == 12
    assert p.finished_total + p.in_progress_total + p.waiting_supplement == 12
    assert two(p.on_time_rate) == "71.43"  # 5/7 = 71.428..%
    assert two(p.late_rate) == "28.57"  # 2/7 = 28.571..%
    assert two(p.progress_ratio_766) == "66.67"  # (3 + 2 + 2 + 1) / 12 = 8/12
    assert two(p.progress_score_766) == "13.33"  # 66.666.. × 0.2 = 13.333..
    assert two(p.online_rate) == "50.00"  # 4/8
    assert two(p.full_online_rate) == "60.00"  # full A2 A3 A6 B2 B3, online A2 A6 B2: 3/5
    assert two(p.online_payment_rate) == "40.00"  # fee A2 A3 A5 A6 B3, paid A2 A6: 2/5
    assert two(p.digitized_rate) == "50.00"  # A2 A4 B2 B6: 4/8
    # (12.375 + 8.75) / 7 = 21.125 / 7 = 3.01785.. → 3.02
    assert two(p.avg_processing_days) == "3.02"


def test_province_row_is_the_sum_of_the_agency_rows() -> None:
    agencies = rows_by_code(UnitKind.AGENCY)
    province = rows_by_code(UnitKind.PROVINCE)["H44"]
    for column in CSV_COLUMNS[2:16]:  # the count columns
        total = sum(getattr(r, column) for r in agencies.values())
        assert getattr(province, column) == total, column


def test_csv_columns_are_in_the_spec_order() -> None:
    # the column list of METRICS.md §4, copied as text
    spec_text = (
        "unit_code, unit_name, carried_over, received_total, received_online, "
        "received_direct_postal, finished_total, finished_early, finished_on_time, "
        "finished_late, in_progress_total, in_progress_within_due, in_progress_overdue, "
        "waiting_supplement, stopped_or_withdrawn, apologies, on_time_rate, late_rate, "
        "progress_ratio_766, progress_score_766, online_rate, full_online_rate, "
        "online_payment_rate, digitized_rate, avg_processing_days"
    )
    spec = [name.strip() for name in spec_text.split(",")]
    assert list(CSV_COLUMNS) == spec
    record = rows_by_code(UnitKind.AGENCY)["H44.101"].as_record()
    assert list(record) == spec
    assert record["unit_code"] == "H44.101"
    assert record["carried_over"] == 3
    assert record["on_time_rate"] == Decimal("75.00")


def test_rates_are_none_when_the_denominator_is_zero() -> None:
    # only B8-like dossier: carried over, in progress within due at T → nothing finished,
    # nothing received in the period
    events = dossier(
        "C1",
        AGENCY_A,
        t(2026, 4, 28, 9),
        [],
        channel="online",
        online_level="full",
        due_at=t(2026, 6, 5, 17),
        fee_due=True,
    )
    state = dossier_state(events, END, CAL)
    assert state is not None
    (row,) = period_report([state], START, END, UnitKind.AGENCY, CAL)
    assert row.carried_over == 1
    assert row.in_progress_within_due == 1
    assert row.on_time_rate is None
    assert row.late_rate is None
    assert row.avg_processing_days is None
    assert row.online_rate is None
    assert row.full_online_rate is None
    assert row.online_payment_rate is None
    assert row.digitized_rate is None
    assert two(row.progress_ratio_766) == "100.00"  # 1 within due / 1 in progress
    assert two(row.progress_score_766) == "20.00"


def test_finished_exactly_at_start_is_carried_over_and_finished_in_period() -> None:
    # resolved at 2026-05-01 00:00:00: at `start` the state (events at < start) is unfinished
    # → carried over; its end is in [start, end) → finished in May.
    # Processing Wed 04-29 09:00 → Fri 05-01 00:00: Wed 6 h; Thu 04-30 holiday → 0.75 day.
    events = dossier(
        "C2",
        AGENCY_A,
        t(2026, 4, 29, 9),
        [("resolved", START, {})],
        channel="direct",
        due_at=t(2026, 5, 6, 17),
    )
    state = dossier_state(events, END, CAL)
    assert state is not None
    (row,) = period_report([state], START, END, UnitKind.AGENCY, CAL)
    assert row.carried_over == 1
    assert row.received_total == 0
    assert row.finished_total == 1
    assert row.finished_early == 1  # 05-01 < 05-06
    assert two(row.avg_processing_days) == "0.75"


def test_states_judged_at_another_instant_are_refused() -> None:
    state = dossier_state(histories()["A1"], t(2026, 5, 31), CAL)
    assert state is not None
    with pytest.raises(ValueError):
        period_report([state], START, END, UnitKind.AGENCY, CAL)


def test_report_by_field_puts_everything_in_one_row() -> None:
    # every dossier is in the helper's default field HT → one row equal to the province's counts
    by_field = rows_by_code(UnitKind.FIELD)
    province = rows_by_code(UnitKind.PROVINCE)["H44"]
    assert list(by_field) == ["HT"]
    for column in CSV_COLUMNS[2:]:
        assert getattr(by_field["HT"], column) == getattr(province, column), column


def test_received_exactly_at_start_is_new_not_carried_over() -> None:
    # received at 2026-05-01 00:00:00 (a holiday, in [start, end)); due Mon 05-04 17:00;
    # nothing else → in progress; at T (06-01) the due has passed → overdue
    events = dossier(
        "C3", AGENCY_A, START, [], channel="online", online_level="none", due_at=t(2026, 5, 4)
    )
    state = dossier_state(events, END, CAL)
    assert state is not None
    (row,) = period_report([state], START, END, UnitKind.AGENCY, CAL)
    assert row.carried_over == 0
    assert row.received_total == 1
    assert row.received_online == 1
    assert row.in_progress_overdue == 1
    assert two(row.full_online_rate) is None  # no full-service procedure received
    assert two(row.progress_ratio_766) == "0.00"  # 0 / 1
    assert two(row.progress_score_766) == "0.00"
