"""Hand-worked examples of METRICS.md §2-3 (events, clock stops, classification).

Dates: May 2026 — Fri 05-01 is a holiday; Mon 05-04 .. Fri 05-08 and
Mon 05-11 .. Fri 05-15 are full working weeks. Default hours 07:00-11:30,
13:30-17:00. Durations are worked out by hand in the comments.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import Outcome, Standing, dossier_state
from tests.unit.helpers import ev, t

CAL = WorkingCalendar()
LATER = t(2026, 6, 1)  # an as_of well after everything below

RECEIVED = t(2026, 5, 4, 9, 0)  # Mon 09:00
DUE = t(2026, 5, 8, 17, 0)  # Fri 17:00


def received(at: datetime = RECEIVED, **fields: Any) -> DossierEvent:
    """The received event, due Fri 2026-05-08 17:00 unless told otherwise."""
    fields.setdefault("due_at", DUE)
    return ev("received", at, **fields)


# -- finished: early / on time / late ------------------------------------------------


def test_resolved_a_day_before_due_date_is_early() -> None:
    # end Thu 05-07, due Fri 05-08: local date of end before local date of due → early
    s = dossier_state([received(), ev("resolved", t(2026, 5, 7, 10))], LATER, CAL)
    assert s is not None
    assert s.standing is Standing.EARLY
    assert s.late is False
    assert s.end_at == t(2026, 5, 7, 10)
    assert s.judged_at == t(2026, 5, 7, 10)
    assert s.outcome is Outcome.RESOLVED
    assert s.due == DUE


def test_resolved_on_due_date_before_due_is_on_time() -> None:
    # Fri 05-08 08:00: same date as due, not after it → on time
    s = dossier_state([received(), ev("resolved", t(2026, 5, 8, 8))], LATER, CAL)
    assert s is not None
    assert s.standing is Standing.ON_TIME
    assert s.late is False


def test_resolved_exactly_at_due_is_on_time() -> None:
    # late only if the judged moment is *after* due; 17:00 == due → on time
    s = dossier_state([received(), ev("resolved", DUE)], LATER, CAL)
    assert s is not None
    assert s.standing is Standing.ON_TIME


def test_resolved_one_minute_after_due_is_late() -> None:
    s = dossier_state([received(), ev("resolved", t(2026, 5, 8, 17, 1))], LATER, CAL)
    assert s is not None
    assert s.standing is Standing.LATE
    assert s.late is True


def test_resolved_next_monday_is_late() -> None:
    s = dossier_state([received(), ev("resolved", t(2026, 5, 11, 8))], LATER, CAL)
    assert s is not None
    assert s.standing is Standing.LATE


def test_due_at_with_no_time_of_day_means_17_00() -> None:
    # due_at Fri 2026-05-08 00:00:00 → Fri 17:00; resolved Fri 16:00 is on time, not late
    events = [received(due_at=t(2026, 5, 8)), ev("resolved", t(2026, 5, 8, 16))]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 8, 17, 0)
    assert s.standing is Standing.ON_TIME


def test_due_at_text_without_offset_midnight_means_17_00_local() -> None:
    # due_at "2026-05-08T00:00:00" (no offset = Asia/Ho_Chi_Minh) → 2026-05-08 17:00 +07:00
    events = [received(due_at="2026-05-08T00:00:00"), ev("resolved", t(2026, 5, 8, 16, 59))]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 8, 17, 0)
    assert s.standing is Standing.ON_TIME


# -- supplements ---------------------------------------------------------------------


def test_two_supplement_requests_are_late_even_if_finished_early() -> None:
    # due Fri 05-15 17:00, resolved Fri 05-08 (a week early), but 2 requests → late (766)
    events = [
        received(due_at=t(2026, 5, 15, 17)),
        ev("supplement_requested", t(2026, 5, 5, 9)),
        ev("supplement_received", t(2026, 5, 6, 9)),
        ev("supplement_requested", t(2026, 5, 6, 14)),
        ev("supplement_received", t(2026, 5, 7, 9)),
        ev("resolved", t(2026, 5, 8, 10)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.supplement_count == 2
    assert s.standing is Standing.LATE
    assert s.late is True


def test_one_supplement_round_moves_the_due_by_the_stopped_working_time() -> None:
    # due Fri 05-08 10:00. Stopped Tue 05-05 16:00 → Wed 05-06 09:00:
    #   Tue 16:00-17:00 = 1 h, Wed 07:00-09:00 = 2 h → 3 h.
    # New due = Fri 10:00 + 3 h: 1.5 h to 11:30, 1.5 h from 13:30 → Fri 2026-05-08 15:00.
    events = [
        received(due_at=t(2026, 5, 8, 10)),
        ev("supplement_requested", t(2026, 5, 5, 16)),
        ev("supplement_received", t(2026, 5, 6, 9)),
    ]
    s = dossier_state(events, t(2026, 5, 6, 12), CAL)
    assert s is not None
    assert s.due == t(2026, 5, 8, 15, 0)
    assert s.supplement_count == 1
    assert s.waiting_supplement is False
    assert s.standing is Standing.WITHIN_DUE
    # resolved Fri 14:00: after the old due (10:00) but before the moved one → on time
    done = dossier_state([*events, ev("resolved", t(2026, 5, 8, 14))], LATER, CAL)
    assert done is not None
    assert done.standing is Standing.ON_TIME
    assert done.judged_at == t(2026, 5, 8, 14)


def test_supplement_round_across_a_weekend_moves_due_by_working_time_only() -> None:
    # due Tue 05-12 10:00. Stopped Fri 05-08 16:00 → Mon 05-11 08:00: 1 h Fri + 1 h Mon = 2 h
    # (the weekend does not count). New due = Tue 10:00 + 2 h: 1.5 h to 11:30 + 0.5 h → 14:00
    events = [
        received(due_at=t(2026, 5, 12, 10)),
        ev("supplement_requested", t(2026, 5, 8, 16)),
        ev("supplement_received", t(2026, 5, 11, 8)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 12, 14, 0)


def test_supplement_received_with_a_new_due_at_wins() -> None:
    # the shift would give Fri 05-08 15:00 (see above); the new due_at Tue 05-12 10:00 wins
    events = [
        received(due_at=t(2026, 5, 8, 10)),
        ev("supplement_requested", t(2026, 5, 5, 16)),
        ev("supplement_received", t(2026, 5, 6, 9), due_at=t(2026, 5, 12, 10)),
        ev("resolved", t(2026, 5, 11, 16)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 12, 10, 0)
    # end Mon 05-11 < due date Tue 05-12 → early
    assert s.standing is Standing.EARLY


def test_supplement_received_new_due_at_midnight_means_17_00() -> None:
    events = [
        received(due_at=t(2026, 5, 8, 10)),
        ev("supplement_requested", t(2026, 5, 5, 16)),
        ev("supplement_received", t(2026, 5, 6, 9), due_at=t(2026, 5, 12)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 12, 17, 0)


def test_waiting_for_supplement_with_one_request_before_due_is_not_late() -> None:
    # request Thu 05-07 10:00 < due Fri 05-08 17:00; still unanswered at 06-01
    events = [received(), ev("supplement_requested", t(2026, 5, 7, 10))]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.standing is Standing.WAITING_SUPPLEMENT
    assert s.waiting_supplement is True
    assert s.late is False
    assert s.end_at is None
    assert s.judged_at is None
    assert s.supplement_count == 1


def test_waiting_for_supplement_requested_after_due_is_late() -> None:
    # request Mon 05-11 09:00 > due Fri 05-08 17:00
    events = [received(), ev("supplement_requested", t(2026, 5, 11, 9))]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.standing is Standing.WAITING_SUPPLEMENT
    assert s.late is True


def test_waiting_for_a_second_supplement_is_late() -> None:
    # first round Tue 05-05 09:00 → Wed 05-06 09:00 stops 6 h Tue + 2 h Wed = 8 h:
    # due Fri 05-08 17:00 + 8 h = Mon 05-11 17:00. Second request Thu 05-07 09:00 is before
    # that due, but it is the 2nd request → late.
    events = [
        received(),
        ev("supplement_requested", t(2026, 5, 5, 9)),
        ev("supplement_received", t(2026, 5, 6, 9)),
        ev("supplement_requested", t(2026, 5, 7, 9)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 11, 17, 0)
    assert s.standing is Standing.WAITING_SUPPLEMENT
    assert s.supplement_count == 2
    assert s.late is True


def test_finished_while_waiting_for_supplement_is_judged_at_the_request() -> None:
    # request Thu 05-07 10:00, citizen never supplies; rejected Mon 05-25 (long after due
    # Fri 05-08 17:00). Judged at Thu 05-07 10:00: date 05-07 < 05-08 → early, not late.
    events = [
        received(),
        ev("supplement_requested", t(2026, 5, 7, 10)),
        ev("rejected", t(2026, 5, 25, 9)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.end_at == t(2026, 5, 25, 9)
    assert s.judged_at == t(2026, 5, 7, 10)
    assert s.outcome is Outcome.STOPPED
    assert s.standing is Standing.EARLY
    assert s.late is False
    assert s.waiting_supplement is False


def test_withdrawn_while_waiting_for_supplement_on_due_date_is_on_time() -> None:
    # request Fri 05-08 10:00 (due date, before 17:00); withdrawn Wed 05-20 → judged Fri 10:00
    events = [
        received(),
        ev("supplement_requested", t(2026, 5, 8, 10)),
        ev("withdrawn", t(2026, 5, 20, 9)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.WITHDRAWN
    assert s.judged_at == t(2026, 5, 8, 10)
    assert s.standing is Standing.ON_TIME


# -- extension (apology) -------------------------------------------------------------


def test_extension_does_not_cure_lateness_and_sets_apology() -> None:
    # due Fri 05-08 17:00; apology Fri 15:00 promising Wed 05-13 17:00; resolved Tue 05-12
    # 10:00 is before the promise but after the due → still late, with an apology
    events = [
        received(),
        ev("extended", t(2026, 5, 8, 15), due_at=t(2026, 5, 13, 17)),
        ev("resolved", t(2026, 5, 12, 10)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.apology is True
    assert s.due == DUE
    assert s.promised_due == t(2026, 5, 13, 17)
    assert s.standing is Standing.LATE
    assert s.late is True


def test_extension_while_in_progress_keeps_the_due_for_overdue() -> None:
    # at Mon 05-11 12:00 the dossier is past its due (Fri 17:00) despite the promise
    events = [received(), ev("extended", t(2026, 5, 8, 15), due_at=t(2026, 5, 13, 17))]
    s = dossier_state(events, t(2026, 5, 11, 12), CAL)
    assert s is not None
    assert s.standing is Standing.OVERDUE
    assert s.apology is True


def test_no_extension_no_apology() -> None:
    s = dossier_state([received(), ev("resolved", t(2026, 5, 7, 10))], LATER, CAL)
    assert s is not None
    assert s.apology is False


# -- payment -------------------------------------------------------------------------


def test_payment_request_before_due_pauses_the_clock() -> None:
    # payment requested Thu 05-07 10:00 (before due); at Wed 05-20 still waiting to pay:
    # in progress, within due (the stopped time does not count)
    events = [received(), ev("payment_requested", t(2026, 5, 7, 10))]
    s = dossier_state(events, t(2026, 5, 20), CAL)
    assert s is not None
    assert s.paused_for_payment is True
    assert s.waiting_supplement is False
    assert s.supplement_count == 0
    assert s.end_at is None
    assert s.standing is Standing.WITHIN_DUE
    assert s.late is False


def test_payment_request_after_due_is_overdue() -> None:
    # clock stopped Mon 05-11 09:00, due Fri 05-08 17:00 had already passed → overdue
    events = [received(), ev("payment_requested", t(2026, 5, 11, 9))]
    s = dossier_state(events, t(2026, 5, 20), CAL)
    assert s is not None
    assert s.paused_for_payment is True
    assert s.standing is Standing.OVERDUE
    assert s.late is True


def test_payment_received_moves_the_due_without_counting_a_supplement() -> None:
    # stopped Thu 05-07 10:00 → Fri 05-08 10:00: Thu 1.5 h + 3.5 h = 5 h, Fri 07-10 = 3 h → 8 h
    # due Fri 05-08 17:00 + 8 h = Mon 2026-05-11 17:00
    events = [
        received(),
        ev("payment_requested", t(2026, 5, 7, 10)),
        ev("payment_received", t(2026, 5, 8, 10)),
    ]
    s = dossier_state(events, t(2026, 5, 11, 12), CAL)
    assert s is not None
    assert s.due == t(2026, 5, 11, 17)
    assert s.supplement_count == 0
    assert s.paused_for_payment is False
    assert s.standing is Standing.WITHIN_DUE


def test_finished_while_paused_for_payment_is_judged_at_the_stop() -> None:
    # payment requested Thu 05-07 10:00, resolved Mon 05-11 10:00 (after due) while still
    # stopped → judged Thu 05-07 10:00 → date before due date → early
    events = [
        received(),
        ev("payment_requested", t(2026, 5, 7, 10)),
        ev("resolved", t(2026, 5, 11, 10)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.judged_at == t(2026, 5, 7, 10)
    assert s.standing is Standing.EARLY
    assert s.paused_for_payment is False


def test_overlapping_supplement_and_payment_stops_shift_the_due_once() -> None:
    # The clock is stopped from the supplement request Tue 05-05 09:00 until the last
    # stop ends (payment received Wed 05-06 14:00); the supplement answer at Wed 09:00
    # does not restart it while payment is still awaited.
    # Stopped: Tue 09:00-17:00 = 6 h; Wed 07:00-11:30 = 4.5 h, 13:30-14:00 = 0.5 h → 11 h.
    # Due Fri 05-08 17:00 + 11 h: Mon 05-11 8 h (→ 17:00), Tue 05-12 3 h → Tue 10:00.
    events = [
        received(),
        ev("supplement_requested", t(2026, 5, 5, 9)),
        ev("payment_requested", t(2026, 5, 5, 14)),
        ev("supplement_received", t(2026, 5, 6, 9)),
        ev("payment_received", t(2026, 5, 6, 14)),
    ]
    mid = dossier_state(events, t(2026, 5, 6, 12), CAL)
    assert mid is not None
    assert mid.waiting_supplement is False
    assert mid.paused_for_payment is True
    assert mid.standing is Standing.WITHIN_DUE
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 12, 10)
    assert s.supplement_count == 1
    assert s.paused_for_payment is False


def test_paid_online_reported_on_payment_received() -> None:
    events = [
        received(fee_due=True),
        ev("payment_requested", t(2026, 5, 5, 9)),
        ev("payment_received", t(2026, 5, 5, 10), paid_online=True),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.fee_due is True
    assert s.paid_online is True
    assert s.digitized is False


def test_scorecard_flags_hold_once_any_event_before_t_says_so() -> None:
    # received Mon 05-04 09:00 with its components attached; the result file is
    # reported with `returned` on Thu 05-07 10:00 (a False later does not undo it)
    events = [
        received(components_digitized=True, vneid_verified=False),
        ev("resolved", t(2026, 5, 7, 9)),
        ev("returned", t(2026, 5, 7, 10), electronic_result=True),
        ev("transferred", t(2026, 5, 7, 11), components_digitized=False),
    ]
    before = dossier_state(events, t(2026, 5, 7, 10), CAL)  # just before the return
    assert before is not None
    assert (before.components_digitized, before.electronic_result) == (True, False)
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert (s.components_digitized, s.electronic_result) == (True, True)
    assert (s.reused_digitized_data, s.from_personal_store, s.vneid_verified) == (
        False,
        False,
        False,
    )


def test_complaint_is_noted_and_changes_no_standing() -> None:
    # resolved Thu 05-07 10:00, due Fri 05-08 17:00 → early; a complaint on
    # Mon 05-11 (after the finish) is still noted, and the dossier stays early
    done = [received(), ev("resolved", t(2026, 5, 7, 10))]
    with_complaint = [*done, ev("complaint", t(2026, 5, 11, 9))]
    a = dossier_state(done, LATER, CAL)
    b = dossier_state(with_complaint, LATER, CAL)
    assert a is not None and b is not None
    assert (a.complaint, b.complaint) == (False, True)
    assert b.standing is a.standing is Standing.EARLY
    assert b.end_at == a.end_at
    # an open dossier: a complaint on Tue 05-05 leaves it within due
    open_ = dossier_state([received(), ev("complaint", t(2026, 5, 5, 9))], t(2026, 5, 6), CAL)
    assert open_ is not None
    assert (open_.standing, open_.complaint, open_.end_at) == (Standing.WITHIN_DUE, True, None)


# -- outcomes and end ----------------------------------------------------------------


def test_withdrawn_outcome() -> None:
    s = dossier_state([received(), ev("withdrawn", t(2026, 5, 6, 9))], LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.WITHDRAWN
    assert s.end_at == t(2026, 5, 6, 9)
    assert s.standing is Standing.EARLY  # 05-06 < 05-08


def test_rejected_outcome_is_stopped() -> None:
    s = dossier_state([received(), ev("rejected", t(2026, 5, 11, 9))], LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.STOPPED
    assert s.standing is Standing.LATE  # Mon 05-11 09:00 > due Fri 17:00


def test_resolved_and_returned_at_the_same_instant_is_resolved() -> None:
    at = t(2026, 5, 7, 15)
    # returned listed first: the tie is broken by the 766 priority, not by list order
    events = [ev("returned", at), received(), ev("resolved", at)]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.RESOLVED
    assert s.end_at == at
    assert s.returned_at == at


def test_returned_and_rejected_at_the_same_instant_is_returned() -> None:
    at = t(2026, 5, 7, 15)
    events = [received(), ev("rejected", at), ev("returned", at)]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.RETURNED


def test_rejected_and_withdrawn_at_the_same_instant_is_stopped() -> None:
    at = t(2026, 5, 7, 15)
    events = [received(), ev("withdrawn", at), ev("rejected", at)]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.STOPPED


def test_returned_alone_finishes_the_dossier() -> None:
    s = dossier_state([received(), ev("returned", t(2026, 5, 8, 9))], LATER, CAL)
    assert s is not None
    assert s.outcome is Outcome.RETURNED
    assert s.end_at == t(2026, 5, 8, 9)
    assert s.returned_at == t(2026, 5, 8, 9)
    assert s.standing is Standing.ON_TIME  # same date as due, before 17:00


def test_returned_after_resolved_keeps_the_resolved_end() -> None:
    # resolved Fri 05-08 16:00 (on time), returned Mon 05-11 09:00 (after due): end stays
    events = [
        received(),
        ev("resolved", t(2026, 5, 8, 16)),
        ev("returned", t(2026, 5, 11, 9)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.end_at == t(2026, 5, 8, 16)
    assert s.returned_at == t(2026, 5, 11, 9)
    assert s.outcome is Outcome.RESOLVED
    assert s.standing is Standing.ON_TIME


def test_events_after_the_end_do_not_reopen() -> None:
    # resolved Wed 05-06 10:00 (early); later requests and a rejection change nothing
    events = [
        received(),
        ev("resolved", t(2026, 5, 6, 10)),
        ev("supplement_requested", t(2026, 5, 7, 9)),
        ev("supplement_received", t(2026, 5, 7, 10)),
        ev("supplement_requested", t(2026, 5, 7, 11)),
        ev("payment_requested", t(2026, 5, 7, 14)),
        ev("rejected", t(2026, 5, 12, 9)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.end_at == t(2026, 5, 6, 10)
    assert s.outcome is Outcome.RESOLVED
    assert s.judged_at == t(2026, 5, 6, 10)
    assert s.standing is Standing.EARLY
    assert s.late is False
    assert s.waiting_supplement is False
    assert s.paused_for_payment is False
    assert s.due == DUE


def test_transferred_has_no_clock_effect() -> None:
    events = [
        received(),
        ev("transferred", t(2026, 5, 5, 9), agency_code="H44.07"),
        ev("resolved", t(2026, 5, 7, 9)),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == DUE
    assert s.standing is Standing.EARLY
    assert s.received.agency_code == "H44.100"  # attribution stays with the receipt


# -- the instant T ---------------------------------------------------------------------


def test_event_at_as_of_is_not_applied() -> None:
    # state just before T: a resolution at exactly T is not yet applied
    at = t(2026, 5, 6, 10)
    s = dossier_state([received(), ev("resolved", at)], at, CAL)
    assert s is not None
    assert s.end_at is None
    assert s.standing is Standing.WITHIN_DUE
    after = dossier_state([received(), ev("resolved", at)], at + timedelta(seconds=1), CAL)
    assert after is not None
    assert after.end_at == at


def test_received_at_as_of_gives_none() -> None:
    assert dossier_state([received()], RECEIVED, CAL) is None


def test_no_received_event_gives_none() -> None:
    events = [ev("resolved", t(2026, 5, 7, 10)), ev("returned", t(2026, 5, 7, 11))]
    assert dossier_state(events, LATER, CAL) is None


def test_in_progress_within_due_at_due_and_overdue_after() -> None:
    events = [received()]
    # T = due exactly: due < T is false → within due
    at_due = dossier_state(events, DUE, CAL)
    assert at_due is not None
    assert at_due.standing is Standing.WITHIN_DUE
    assert at_due.late is False
    # one second later → overdue
    after = dossier_state(events, DUE + timedelta(seconds=1), CAL)
    assert after is not None
    assert after.standing is Standing.OVERDUE
    assert after.late is True
    # Wed 05-06 12:00 → within due
    mid = dossier_state(events, t(2026, 5, 6, 12), CAL)
    assert mid is not None
    assert mid.standing is Standing.WITHIN_DUE


# -- time limits without due_at ----------------------------------------------------------


def test_time_limit_in_working_days_without_due_at() -> None:
    # Thu 2026-02-12 09:00 + 3 working days over Tết 2026 → Tue 2026-02-24 09:00
    events = [
        ev("received", t(2026, 2, 12, 9), time_limit={"value": 3, "unit": "working_days"}),
    ]
    s = dossier_state(events, t(2026, 2, 24, 9), CAL)
    assert s is not None
    assert s.due == t(2026, 2, 24, 9)
    assert s.standing is Standing.WITHIN_DUE
    late = dossier_state(events, t(2026, 2, 24, 10), CAL)
    assert late is not None
    assert late.standing is Standing.OVERDUE


def test_time_limit_received_after_hours() -> None:
    # received Wed 05-06 18:00, 1 working day: counting starts Thu 07:00 → due Thu 17:00
    events = [
        ev("received", t(2026, 5, 6, 18), time_limit={"value": 1, "unit": "working_days"}),
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 7, 17)


def test_time_limit_in_working_hours_and_in_days() -> None:
    # 6 working hours from Wed 05-06 15:00: 2 h Wed, 4 h Thu → Thu 11:00
    wh = [ev("received", t(2026, 5, 6, 15), time_limit={"value": 6, "unit": "working_hours"})]
    s = dossier_state(wh, LATER, CAL)
    assert s is not None
    assert s.due == t(2026, 5, 7, 11)
    # 3 plain days from Wed 05-06 10:00 → Sat 05-09 → end of Mon 05-11 = 17:00
    d = [ev("received", t(2026, 5, 6, 10), time_limit={"value": 3, "unit": "days"})]
    s2 = dossier_state(d, LATER, CAL)
    assert s2 is not None
    assert s2.due == t(2026, 5, 11, 17)


def test_due_at_wins_over_time_limit() -> None:
    events = [
        ev(
            "received",
            RECEIVED,
            due_at=DUE,
            time_limit={"value": 1, "unit": "working_days"},
        )
    ]
    s = dossier_state(events, LATER, CAL)
    assert s is not None
    assert s.due == DUE


# -- order independence and duplicates -----------------------------------------------


def _rich_history() -> list[DossierEvent]:
    return [
        received(),
        ev("transferred", t(2026, 5, 4, 10)),
        ev("supplement_requested", t(2026, 5, 5, 16)),
        ev("supplement_received", t(2026, 5, 6, 9)),
        ev("payment_requested", t(2026, 5, 7, 9)),
        ev("payment_received", t(2026, 5, 7, 10)),
        ev("extended", t(2026, 5, 8, 15), due_at=t(2026, 5, 13)),
        ev("resolved", t(2026, 5, 11, 9)),
        ev("returned", t(2026, 5, 11, 9)),
    ]


def test_duplicates_and_reversed_order_give_the_same_state() -> None:
    events = _rich_history()
    forward = dossier_state(events, LATER, CAL)
    backward = dossier_state(list(reversed(events)), LATER, CAL)
    doubled = dossier_state(events + _rich_history(), LATER, CAL)  # same event_ids again
    assert forward is not None
    assert forward == backward == doubled
    # by hand: stops 3 h (Tue 16:00 → Wed 09:00) + 1 h (Thu 09:00 → 10:00) = 4 h;
    # due Fri 17:00 + 4 h → Mon 05-11 11:00; resolved Mon 09:00 → on time (same date)
    assert forward.due == t(2026, 5, 11, 11)
    assert forward.standing is Standing.ON_TIME
    assert forward.outcome is Outcome.RESOLVED
    assert forward.supplement_count == 1
    assert forward.apology is True


def test_shuffled_order_gives_the_same_state() -> None:
    events = _rich_history()
    expected = dossier_state(events, LATER, CAL)
    rnd = random.Random(766)
    for _ in range(20):
        shuffled = events[:]
        rnd.shuffle(shuffled)
        assert dossier_state(shuffled, LATER, CAL) == expected


def test_duplicate_supplement_request_counts_once() -> None:
    req = ev("supplement_requested", t(2026, 5, 5, 9))
    s = dossier_state([received(), req, req, ev("resolved", t(2026, 5, 7, 9))], LATER, CAL)
    assert s is not None
    assert s.supplement_count == 1
    # judged at the request Tue 05-05 09:00 (finished while waiting) → early
    assert s.standing is Standing.EARLY
