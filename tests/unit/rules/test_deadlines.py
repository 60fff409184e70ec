"""Hand-worked examples of METRICS.md §6 (deadline alerts for inspectors).

Real calendar, default hours 07:00-11:30 and 13:30-17:00 (4.5 h + 3.5 h = 8 h),
Asia/Ho_Chi_Minh. Around the dates used: Mon 2026-04-27 (Hùng Kings,
observed), Thu 04-30 and Fri 05-01 are holidays, Sat/Sun 05-02/03 weekend;
Tue 04-28, Wed 04-29 and Mon 05-04 .. Fri 05-08, Mon 05-11 .. are working days.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.deadlines import Alert, AlertConfig, alerts_between, due_alerts
from streams.rules.facts import DossierFacts, dossier_facts
from tests.unit.helpers import DEFAULT_DOSSIER, ev, t

CAL = WorkingCalendar()
H = timedelta(hours=1)
S = timedelta(seconds=1)

RECEIVED = t(2026, 5, 4, 8)  # Mon 08:00
DUE = t(2026, 5, 7, 9)  # Thu 09:00
KEY_DUE = "2026-05-07T02:00:00+00:00"  # Thu 09:00 +07:00 in UTC


def facts(*events: DossierEvent, cal: WorkingCalendar = CAL) -> DossierFacts:
    f = dossier_facts(events, cal)
    assert f is not None
    return f


def received(at: datetime = RECEIVED, due: datetime | None = DUE, **fields) -> DossierEvent:
    return ev("received", at, due_at=due, **fields)


def summary(alerts: list[Alert]) -> list[tuple[str, datetime, float]]:
    return [(a.kind, a.at, a.hours_late) for a in alerts]


# -- due soon ------------------------------------------------------------------------


def test_due_soon_fires_8_working_hours_before_the_due() -> None:
    # back from Thu 09:00: Thu 07:00-09:00 = 2 h, Wed 13:30-17:00 = 3.5 h,
    # Wed 09:00-11:30 = 2.5 h → 8 h at Wed 2026-05-06 09:00
    f = facts(received())
    [alert] = due_alerts(f, t(2026, 5, 6, 9, 0, 1), CAL)
    assert alert == Alert(
        kind="due_soon",
        dossier_id=DEFAULT_DOSSIER,
        due=DUE,
        at=t(2026, 5, 6, 9),
        hours_late=0.0,
        alert_key=f"due_soon|{DEFAULT_DOSSIER}|{KEY_DUE}",
    )
    assert CAL.working_time_between(alert.at, DUE) == 8 * H


def test_no_due_soon_before_its_instant() -> None:
    # the state just before Wed 09:00 has 8 h 00 min + a moment left
    f = facts(received())
    assert due_alerts(f, t(2026, 5, 6, 9), CAL) == []
    assert due_alerts(f, t(2026, 5, 6, 8, 59), CAL) == []


def test_due_soon_for_a_due_at_close_fires_at_the_previous_close() -> None:
    # due Thu 17:00: remaining time is 8 h already at Wed 17:00 (Wed evening and
    # Thu 07:00 are the same working position); the first such moment is Wed 17:00
    f = facts(received(due=t(2026, 5, 7, 17)))
    assert summary(due_alerts(f, t(2026, 5, 7, 8), CAL)) == [("due_soon", t(2026, 5, 6, 17), 0.0)]


def test_due_soon_at_receipt_when_less_than_8_hours_are_left() -> None:
    # received Mon 10:00, due Mon 16:00: 1.5 + 2.5 = 4 h left from the start
    f = facts(received(at=t(2026, 5, 4, 10), due=t(2026, 5, 4, 16)))
    assert summary(due_alerts(f, t(2026, 5, 4, 10, 0, 1), CAL)) == [
        ("due_soon", t(2026, 5, 4, 10), 0.0)
    ]


def test_due_soon_for_a_weekend_receipt_is_the_receipt() -> None:
    # received Sun 05-03 20:00, due Mon 05-04 15:00 (6 working hours ahead):
    # the 8 h point is Wed 04-29 15:00, before the receipt → max() gives the receipt
    f = facts(received(at=t(2026, 5, 3, 20), due=t(2026, 5, 4, 15)))
    assert summary(due_alerts(f, t(2026, 5, 4, 9), CAL))[0] == ("due_soon", t(2026, 5, 3, 20), 0.0)


def test_due_soon_across_a_holiday_bridge() -> None:
    # due Mon 05-04 10:00: Mon 07:00-10:00 = 3 h; Thu 04-30 .. Sun 05-03 off;
    # Wed 04-29 13:30-17:00 = 3.5 h, 10:00-11:30 = 1.5 h → 8 h at Wed 04-29 10:00
    f = facts(received(at=t(2026, 4, 28, 8), due=t(2026, 5, 4, 10)))
    assert summary(alerts_between(f, t(2026, 4, 1), t(2026, 5, 4), CAL)) == [
        ("due_soon", t(2026, 4, 29, 10), 0.0)
    ]


def test_due_soon_zero_turns_it_off() -> None:
    f = facts(received())
    config = AlertConfig(due_soon=timedelta(0))
    assert [a.kind for a in due_alerts(f, t(2026, 5, 8), CAL, config)] == ["overdue"]


def test_due_soon_window_is_configurable() -> None:
    # 1 working hour before Thu 09:00 is Thu 08:00; 2 h back reaches Thu 07:00, which is
    # the same working position as Wed 17:00, and the earliest of them is Wed 17:00
    f = facts(received())
    assert summary(due_alerts(f, DUE, CAL, AlertConfig(due_soon=1 * H))) == [
        ("due_soon", t(2026, 5, 7, 8), 0.0)
    ]
    assert summary(due_alerts(f, DUE, CAL, AlertConfig(due_soon=2 * H))) == [
        ("due_soon", t(2026, 5, 6, 17), 0.0)
    ]


# -- overdue and reminders -----------------------------------------------------------


def test_overdue_fires_at_the_due() -> None:
    f = facts(received())
    assert due_alerts(f, DUE, CAL)[-1].kind == "due_soon"  # just before the due
    alerts = due_alerts(f, DUE + S, CAL)
    assert summary(alerts) == [
        ("due_soon", t(2026, 5, 6, 9), 0.0),
        ("overdue", DUE, 0.0),
    ]
    assert alerts[-1].alert_key == f"overdue|{DEFAULT_DOSSIER}|{KEY_DUE}"


def test_reminders_each_working_day_skip_the_weekend() -> None:
    # Fri 05-08 09:00: 8 h late; Sat/Sun skipped; Mon 05-11 09:00: 16 h; Tue: 24 h
    f = facts(received())
    alerts = due_alerts(f, t(2026, 5, 12, 9, 0, 1), CAL)
    assert summary(alerts)[2:] == [
        ("overdue_reminder", t(2026, 5, 8, 9), 8.0),
        ("overdue_reminder", t(2026, 5, 11, 9), 16.0),
        ("overdue_reminder", t(2026, 5, 12, 9), 24.0),
    ]
    assert [a.alert_key for a in alerts[2:]] == [
        f"overdue_reminder|{DEFAULT_DOSSIER}|{KEY_DUE}|{n}" for n in (1, 2, 3)
    ]


def test_reminders_skip_holidays_and_weekend() -> None:
    # due Wed 04-29 10:00; Thu 04-30 and Fri 05-01 holidays, 05-02/03 weekend.
    # Mon 05-04 10:00 is the 1st working day after: Wed 10:00-11:30 1.5 h +
    # 13:30-17:00 3.5 h + Mon 07:00-10:00 3 h = 8 h late; Tue 05-05 10:00: 16 h
    f = facts(received(at=t(2026, 4, 28, 8), due=t(2026, 4, 29, 10)))
    alerts = alerts_between(f, t(2026, 4, 29), t(2026, 5, 6), CAL)
    assert summary(alerts) == [
        ("overdue", t(2026, 4, 29, 10), 0.0),
        ("overdue_reminder", t(2026, 5, 4, 10), 8.0),
        ("overdue_reminder", t(2026, 5, 5, 10), 16.0),
    ]
    assert alerts[-1].alert_key.endswith("|2")


def test_reminders_stop_when_resolved() -> None:
    # resolved Mon 05-11 08:00: Fri's reminder fired, Mon 09:00 does not
    f = facts(received(), ev("resolved", t(2026, 5, 11, 8)))
    assert [a.at for a in alerts_between(f, DUE, t(2026, 6, 1), CAL)] == [
        DUE,
        t(2026, 5, 8, 9),
    ]
    assert due_alerts(f, t(2026, 6, 1), CAL) == []  # finished: nothing to chase


def test_reminders_on_calendar_days_when_configured() -> None:
    f = facts(received())
    config = AlertConfig(reminder_every_working_day=False)
    alerts = due_alerts(f, t(2026, 5, 10, 12), CAL, config)
    # Fri 05-08 09:00: Thu 09:00-11:30 2.5 h + 13:30-17:00 3.5 h + Fri 07:00-09:00 2 h = 8 h;
    # Sat 05-09 and Sun 05-10 09:00: Thu's 6 h + all of Friday's 8 h = 14 h
    assert summary(alerts)[2:] == [
        ("overdue_reminder", t(2026, 5, 8, 9), 8.0),
        ("overdue_reminder", t(2026, 5, 9, 9), 14.0),
        ("overdue_reminder", t(2026, 5, 10, 9), 14.0),
    ]


def test_reminders_can_be_turned_off() -> None:
    f = facts(received())
    config = AlertConfig(overdue_reminder=False)
    assert [a.kind for a in due_alerts(f, t(2026, 6, 1), CAL, config)] == ["due_soon", "overdue"]


def test_reminders_are_capped_at_60() -> None:
    f = facts(received())
    alerts = due_alerts(f, t(2027, 6, 1), CAL)
    reminders = [a for a in alerts if a.kind == "overdue_reminder"]
    assert len(reminders) == 60
    assert reminders[-1].alert_key.endswith("|60")
    assert reminders[-1].hours_late == 60 * 8.0
    assert len(due_alerts(f, t(2027, 6, 1), CAL, AlertConfig(max_reminders=3))) == 2 + 3


# -- no alerts when there is nothing to chase -------------------------------------------


def test_no_overdue_when_resolved_before_or_at_the_due() -> None:
    early = facts(received(), ev("resolved", t(2026, 5, 6, 15)))
    at_due = facts(received(), ev("resolved", DUE))
    for f in (early, at_due):
        assert [a.kind for a in alerts_between(f, RECEIVED, t(2026, 6, 1), CAL)] == ["due_soon"]
        assert due_alerts(f, t(2026, 6, 1), CAL) == []


def test_resolved_before_due_soon_fires_nothing() -> None:
    f = facts(received(), ev("resolved", t(2026, 5, 5, 10)))
    assert alerts_between(f, RECEIVED, t(2026, 6, 1), CAL) == []


def test_waiting_for_supplement_has_no_alerts_and_no_reminders() -> None:
    # due Tue 05-05 17:00; overdue then; supplement requested Thu 05-07 10:00, unanswered
    f = facts(
        received(due=t(2026, 5, 5, 17)),
        ev("supplement_requested", t(2026, 5, 7, 10)),
    )
    assert due_alerts(f, t(2026, 5, 12), CAL) == []
    # what the watch did send: due soon Mon 17:00 (8 h before Tue 17:00),
    # overdue Tue 17:00, Wed's reminder; Thu 17:00 onwards the dossier waits
    assert summary(alerts_between(f, RECEIVED, t(2026, 5, 12), CAL)) == [
        ("due_soon", t(2026, 5, 4, 17), 0.0),
        ("overdue", t(2026, 5, 5, 17), 0.0),
        ("overdue_reminder", t(2026, 5, 6, 17), 8.0),
    ]


def test_waiting_over_the_due_soon_instant_delays_it_to_the_restart() -> None:
    # due Thu 09:00 → soon at Wed 09:00; waiting Tue 10:00 .. Wed 10:00 shifts the
    # due by 8 h (Tue 10:00-11:30 1.5 + 13:30-17:00 3.5 + Wed 07:00-10:00 3) to Fri 09:00;
    # soon at Thu 09:00 (after the restart), overdue Fri 09:00
    f = facts(
        received(),
        ev("supplement_requested", t(2026, 5, 5, 10)),
        ev("supplement_received", t(2026, 5, 6, 10)),
    )
    assert f.due == t(2026, 5, 8, 9)
    assert summary(due_alerts(f, t(2026, 5, 8, 12), CAL)) == [
        ("due_soon", t(2026, 5, 7, 9), 0.0),
        ("overdue", t(2026, 5, 8, 9), 0.0),
    ]
    assert "2026-05-08T02:00:00+00:00" in due_alerts(f, t(2026, 5, 8, 12), CAL)[1].alert_key


def test_payment_pause_before_the_due_is_not_overdue() -> None:
    # due Tue 05-05 17:00; payment requested Tue 10:00, still unpaid: clock stopped in due
    f = facts(received(due=t(2026, 5, 5, 17)), ev("payment_requested", t(2026, 5, 5, 10)))
    assert summary(due_alerts(f, t(2026, 5, 8), CAL)) == [("due_soon", t(2026, 5, 4, 17), 0.0)]


def test_payment_pause_after_the_due_stays_overdue_with_reminders() -> None:
    # due Tue 05-05 17:00 passed; payment requested Wed 08:00: still overdue
    f = facts(received(due=t(2026, 5, 5, 17)), ev("payment_requested", t(2026, 5, 6, 8)))
    assert summary(due_alerts(f, t(2026, 5, 8, 18), CAL)) == [
        ("due_soon", t(2026, 5, 4, 17), 0.0),
        ("overdue", t(2026, 5, 5, 17), 0.0),
        ("overdue_reminder", t(2026, 5, 6, 17), 8.0),
        ("overdue_reminder", t(2026, 5, 7, 17), 16.0),
        ("overdue_reminder", t(2026, 5, 8, 17), 24.0),
    ]


def test_not_received_yet_or_without_due() -> None:
    assert due_alerts(facts(received()), RECEIVED, CAL) == []
    assert alerts_between(facts(received(due=None)), RECEIVED, t(2027, 1, 1), CAL) == []


# -- determinism: restarts and ticking --------------------------------------------------


def test_second_run_after_restart_gives_the_same_alerts_and_keys() -> None:
    events = [received(), ev("transferred", t(2026, 5, 5, 9)), ev("resolved", t(2026, 5, 14, 9))]
    first = due_alerts(facts(*events), t(2026, 5, 9), CAL)
    # restart: a fresh calendar, events re-read in another order, a later scan
    restarted = WorkingCalendar()
    again = due_alerts(facts(*reversed(events), cal=restarted), t(2026, 5, 12), restarted)
    assert again[: len(first)] == first
    assert [a.alert_key for a in first] == [
        f"due_soon|{DEFAULT_DOSSIER}|{KEY_DUE}",
        f"overdue|{DEFAULT_DOSSIER}|{KEY_DUE}",
        f"overdue_reminder|{DEFAULT_DOSSIER}|{KEY_DUE}|1",
    ]


def test_keys_do_not_depend_on_the_zone_the_due_was_written_in() -> None:
    local = due_alerts(facts(received()), t(2026, 5, 9), CAL)
    utc = due_alerts(facts(received(due=DUE.astimezone(UTC))), t(2026, 5, 9), CAL)
    assert [a.alert_key for a in utc] == [a.alert_key for a in local]


def sample_facts() -> list[DossierFacts]:
    return [
        facts(received()),
        facts(received(), ev("resolved", t(2026, 5, 11, 8))),
        facts(received(at=t(2026, 4, 28, 8), due=t(2026, 4, 29, 10))),
        facts(
            received(due=t(2026, 5, 5, 17)),
            ev("supplement_requested", t(2026, 5, 7, 10)),
            ev("supplement_received", t(2026, 5, 12, 9)),
        ),
        facts(received(due=t(2026, 5, 5, 17)), ev("payment_requested", t(2026, 5, 6, 8))),
        facts(
            received(due=t(2026, 5, 5, 17)),
            ev("payment_requested", t(2026, 5, 5, 10)),
            ev("payment_received", t(2026, 5, 8, 14)),
        ),
    ]


def test_split_property_on_alert_instants_and_random_cuts() -> None:
    # alerts_between(a, b) + alerts_between(b, c) == alerts_between(a, c) for all a < b < c,
    # cutting at alert instants, a second after them, and random instants
    rng = random.Random(20260507)
    start, end = t(2026, 4, 20), t(2026, 8, 1)
    for f in sample_facts():
        whole = alerts_between(f, start, end, CAL)
        assert whole, f.dossier_id
        firsts = whole[:4]  # the alerts around the due, where the rules differ
        cuts = {a.at for a in firsts} | {a.at + S for a in firsts} | {start, end}
        cuts |= {start + (end - start) * rng.random() for _ in range(3)}
        for a, b, c in itertools.combinations(sorted(cuts), 3):
            split = alerts_between(f, a, b, CAL) + alerts_between(f, b, c, CAL)
            assert split == alerts_between(f, a, c, CAL)


def test_ticking_watch_sends_each_alert_once() -> None:
    # a watch ticking every 37 minutes from receipt sends exactly the alerts of the whole span
    for f in sample_facts():
        ticks = [RECEIVED - timedelta(days=10) + k * timedelta(minutes=37) for k in range(4000)]
        sent = [a for x, y in itertools.pairwise(ticks) for a in alerts_between(f, x, y, CAL)]
        assert sent == alerts_between(f, ticks[0], ticks[-1], CAL)
        assert len({a.alert_key for a in sent}) == len(sent)


def test_due_alerts_equals_the_watch_from_receipt_when_in_progress() -> None:
    for f in sample_facts():
        for as_of in (t(2026, 5, 6, 12), t(2026, 5, 13, 12), t(2026, 7, 1)):
            got = due_alerts(f, as_of, CAL)
            if got:
                assert got == alerts_between(f, f.received_at, as_of, CAL)


@pytest.mark.parametrize("hours", [1, 4, 8, 16])
def test_due_soon_is_due_soon_working_hours_before_the_due(hours: int) -> None:
    config = AlertConfig(due_soon=hours * H)
    f = facts(received(at=t(2026, 4, 20, 8)))
    [soon] = [a for a in due_alerts(f, DUE, CAL, config) if a.kind == "due_soon"]
    assert CAL.working_time_between(soon.at, DUE) == hours * H


# -- the due in force: a restart that moves the due (METRICS.md §6) ---------------------


def keyed(alerts: list[Alert]) -> list[tuple[str, datetime, float, str]]:
    return [(a.kind, a.at, round(a.hours_late, 4), a.alert_key.split("|", 2)[2]) for a in alerts]


def test_a_supplement_round_after_the_old_due_passed_raises_both_dues_alerts() -> None:
    # Received Mon 05-04 14:58 with 2 working hours: due Mon 16:58 (14:58-16:58).
    # Due soon at once (2 h < 8 h left), overdue at 16:58. Supplement asked Mon 20:00,
    # answered Thu 05-07 10:00: stopped Tue 8 h + Wed 8 h + Thu 07:00-10:00 3 h = 19 h,
    # so the due moves to Mon 16:58 + 19 h: Mon's last 2 min, Tue, Wed (16 h 02 min),
    # then 2 h 58 min of Thu → Thu 09:58, already past at the restart: overdue then,
    # 2 min late. Reminders at 09:58 on each working day after Thu: Fri (8 h), then
    # Mon 05-11 after the weekend (16 h); resolved Mon 12:00, so not Tue.
    # Nothing for the old due while the dossier waits (Tue 16:58, Wed 16:58).
    f = facts(
        received(
            at=t(2026, 5, 4, 14, 58), due=None, time_limit={"value": 2, "unit": "working_hours"}
        ),
        ev("supplement_requested", t(2026, 5, 4, 20)),
        ev("supplement_received", t(2026, 5, 7, 10)),
        ev("resolved", t(2026, 5, 11, 12)),
    )
    old, new = "2026-05-04T09:58:00+00:00", "2026-05-07T02:58:00+00:00"
    assert keyed(alerts_between(f, t(2026, 5, 1), t(2026, 6, 1), CAL)) == [
        ("due_soon", t(2026, 5, 4, 14, 58), 0.0, old),
        ("overdue", t(2026, 5, 4, 16, 58), 0.0, old),
        ("overdue", t(2026, 5, 7, 10), round(2 / 60, 4), new),
        ("overdue_reminder", t(2026, 5, 8, 9, 58), 8.0, f"{new}|1"),
        ("overdue_reminder", t(2026, 5, 11, 9, 58), 16.0, f"{new}|2"),
    ]


def test_a_supplement_round_with_a_new_later_due_gives_it_its_own_alerts() -> None:
    # Same start (due Mon 05-04 16:58: due soon 14:58, overdue 16:58); the answer
    # on Thu 05-07 10:00 carries a new due, Mon 05-11 17:00, which wins. Its due soon:
    # 8 h before Mon 17:00 is Mon 07:00, the same working position as Fri 05-08 17:00,
    # the earlier of them. Overdue Mon 17:00; reminders Tue 05-12 17:00 (8 h) and
    # Wed 05-13 17:00 (16 h).
    f = facts(
        received(
            at=t(2026, 5, 4, 14, 58), due=None, time_limit={"value": 2, "unit": "working_hours"}
        ),
        ev("supplement_requested", t(2026, 5, 4, 20)),
        ev("supplement_received", t(2026, 5, 7, 10), due_at=t(2026, 5, 11, 17)),
    )
    old, new = "2026-05-04T09:58:00+00:00", "2026-05-11T10:00:00+00:00"
    assert keyed(alerts_between(f, t(2026, 5, 1), t(2026, 5, 14), CAL)) == [
        ("due_soon", t(2026, 5, 4, 14, 58), 0.0, old),
        ("overdue", t(2026, 5, 4, 16, 58), 0.0, old),
        ("due_soon", t(2026, 5, 8, 17), 0.0, new),
        ("overdue", t(2026, 5, 11, 17), 0.0, new),
        ("overdue_reminder", t(2026, 5, 12, 17), 8.0, f"{new}|1"),
        ("overdue_reminder", t(2026, 5, 13, 17), 16.0, f"{new}|2"),
    ]


def test_a_due_moved_before_its_restart_is_overdue_at_the_restart_and_nothing_back_dated() -> None:
    # Received Thu 05-07 08:00, due Mon 05-11 17:00: due soon 8 h before, Fri 05-08 17:00.
    # Supplement asked Mon 05-11 09:00 (before the due), answered Mon 05-18 10:00 with
    # the due Tue 05-12 13:43, a week before. From the restart: overdue at once,
    # late Tue 13:43-17:00 3 h 17 min + Wed, Thu, Fri 24 h + Mon 07:00-10:00 3 h
    # = 30 h 17 min; no due soon (the due has passed). Reminders at 13:43 on the
    # working days after Tue 05-12: the 1st-3rd (Wed-Fri) lie before the new due
    # existed and are not raised; the 4th, Mon 05-18 13:43, is (32 h), then Tue (40 h).
    f = facts(
        received(at=t(2026, 5, 7, 8), due=t(2026, 5, 11, 17)),
        ev("supplement_requested", t(2026, 5, 11, 9)),
        ev("supplement_received", t(2026, 5, 18, 10), due_at=t(2026, 5, 12, 13, 43)),
    )
    old, new = "2026-05-11T10:00:00+00:00", "2026-05-12T06:43:00+00:00"
    alerts = alerts_between(f, t(2026, 5, 1), t(2026, 5, 20), CAL)
    assert keyed(alerts) == [
        ("due_soon", t(2026, 5, 8, 17), 0.0, old),
        ("overdue", t(2026, 5, 18, 10), round(30 + 17 / 60, 4), new),
        ("overdue_reminder", t(2026, 5, 18, 13, 43), 32.0, f"{new}|4"),
        ("overdue_reminder", t(2026, 5, 19, 13, 43), 40.0, f"{new}|5"),
    ]
    # a watch that stepped up to the restart sent only the old due soon
    assert keyed(alerts_between(f, t(2026, 5, 1), t(2026, 5, 18, 10), CAL)) == keyed(alerts[:1])


def test_due_soon_fires_while_paused_for_payment_and_the_shifted_due_gets_its_own() -> None:
    # Received Mon 05-04 08:00, due Thu 05-07 09:00; payment asked Tue 05-05 10:00, paid
    # Fri 05-08 14:00. Paused in due, it is in progress: the due soon of Thu 09:00 fires
    # at Wed 05-06 09:00 while it waits; no overdue at Thu 09:00 (the clock is stopped).
    # Stopped Tue 10:00-17:00 5 h + Wed 8 h + Thu 8 h + Fri 07:00-14:00 5 h = 26 h:
    # the due moves to Thu 09:00 + 26 h = Thu 6 h, Fri 8 h, Mon 8 h, Tue 07:00-11:00 4 h
    # → Tue 05-12 11:00. Its due soon 8 h before: Tue 07:00-11:00 4 h + Mon 13:30-17:00
    # 3.5 h + Mon 11:00-11:30 0.5 h → Mon 05-11 11:00; overdue Tue 11:00; reminder
    # Wed 05-13 11:00 (8 h).
    f = facts(
        received(),
        ev("payment_requested", t(2026, 5, 5, 10)),
        ev("payment_received", t(2026, 5, 8, 14)),
    )
    new = "2026-05-12T04:00:00+00:00"
    assert keyed(alerts_between(f, t(2026, 5, 1), t(2026, 5, 14), CAL)) == [
        ("due_soon", t(2026, 5, 6, 9), 0.0, KEY_DUE),
        ("due_soon", t(2026, 5, 11, 11), 0.0, new),
        ("overdue", t(2026, 5, 12, 11), 0.0, new),
        ("overdue_reminder", t(2026, 5, 13, 11), 8.0, f"{new}|1"),
    ]


def test_paused_for_payment_when_already_overdue_then_the_shifted_due_is_past() -> None:
    # Due Tue 05-05 17:00 (due soon Mon 05-04 17:00, overdue Tue 17:00); payment asked
    # Wed 05-06 08:00, already overdue: it stays overdue while it waits (reminders
    # Wed 17:00, Thu 17:00). Paid Fri 05-08 10:00: stopped Wed 08:00-17:00 7 h + Thu
    # 8 h + Fri 07:00-10:00 3 h = 18 h; the due moves to Tue 17:00 + 18 h = Wed, Thu,
    # Fri 07:00-09:00 → Fri 05-08 09:00, past: overdue at the payment, 1 h late; no
    # due soon; reminder Mon 05-11 09:00 (8 h), and Fri 17:00 is no longer a reminder
    # of the old due.
    f = facts(
        received(due=t(2026, 5, 5, 17)),
        ev("payment_requested", t(2026, 5, 6, 8)),
        ev("payment_received", t(2026, 5, 8, 10)),
    )
    old, new = "2026-05-05T10:00:00+00:00", "2026-05-08T02:00:00+00:00"
    assert keyed(alerts_between(f, t(2026, 5, 1), t(2026, 5, 12), CAL)) == [
        ("due_soon", t(2026, 5, 4, 17), 0.0, old),
        ("overdue", t(2026, 5, 5, 17), 0.0, old),
        ("overdue_reminder", t(2026, 5, 6, 17), 8.0, f"{old}|1"),
        ("overdue_reminder", t(2026, 5, 7, 17), 16.0, f"{old}|2"),
        ("overdue", t(2026, 5, 8, 10), 1.0, new),
        ("overdue_reminder", t(2026, 5, 11, 9), 8.0, f"{new}|1"),
    ]


def test_reminders_of_a_moved_due_across_tet_2026() -> None:
    # Tết 2026: Mon 02-16 .. Fri 02-20 are holidays, with the weekends around them
    # Fri 02-13 then Mon 02-23 are consecutive working days. Received Mon 02-09 08:00,
    # due Wed 02-11 10:00; supplement asked Mon 10:00, answered Tue 02-10 15:00:
    # stopped Mon 10:00-17:00 5 h + Tue 07:00-15:00 6 h = 11 h; due Wed 10:00 + 11 h
    # = Wed 5 h, Thu 07:00-11:30 4.5 h, 13:30-15:00 1.5 h → Thu 02-12 15:00.
    # The old due's soon point (Tue 10:00) fell in the wait: nothing for it.
    # New due: soon 8 h before, Thu 13:30-15:00 1.5 h + 07:00-11:30 4.5 h + Wed
    # 15:00-17:00 2 h → Wed 02-11 15:00; overdue Thu 15:00; reminders 15:00 on Fri
    # 02-13 (8 h), Mon 02-23 (16 h), Tue 02-24 (24 h); resolved Wed 02-25 08:00.
    f = facts(
        received(at=t(2026, 2, 9, 8), due=t(2026, 2, 11, 10)),
        ev("supplement_requested", t(2026, 2, 9, 10)),
        ev("supplement_received", t(2026, 2, 10, 15)),
        ev("resolved", t(2026, 2, 25, 8)),
    )
    new = "2026-02-12T08:00:00+00:00"
    assert keyed(alerts_between(f, t(2026, 2, 1), t(2026, 3, 1), CAL)) == [
        ("due_soon", t(2026, 2, 11, 15), 0.0, new),
        ("overdue", t(2026, 2, 12, 15), 0.0, new),
        ("overdue_reminder", t(2026, 2, 13, 15), 8.0, f"{new}|1"),
        ("overdue_reminder", t(2026, 2, 23, 15), 16.0, f"{new}|2"),
        ("overdue_reminder", t(2026, 2, 24, 15), 24.0, f"{new}|3"),
    ]


def test_a_due_that_comes_back_is_a_new_due_with_its_own_keys() -> None:
    # Due Thu 05-07 09:00 (soon Wed 05-06 09:00). Supplement Mon 05-04 09:00 .. 10:00
    # answered with due Fri 05-08 09:00; another Tue 05-05 09:00 .. 10:00 answered
    # with Thu 09:00 again: from Tue 10:00 it is a new due (again), soon Wed 09:00.
    f = facts(
        received(),
        ev("supplement_requested", t(2026, 5, 4, 9)),
        ev("supplement_received", t(2026, 5, 4, 10), due_at=t(2026, 5, 8, 9)),
        ev("supplement_requested", t(2026, 5, 5, 9)),
        ev("supplement_received", t(2026, 5, 5, 10), due_at=DUE),
        ev("resolved", t(2026, 5, 6, 12)),
    )
    assert [d.due for d in f.dues] == [DUE, t(2026, 5, 8, 9), DUE]
    [soon] = alerts_between(f, RECEIVED, t(2026, 6, 1), CAL)
    assert (soon.kind, soon.at) == ("due_soon", t(2026, 5, 6, 9))
    assert soon.alert_key == f"due_soon|{DEFAULT_DOSSIER}|{KEY_DUE}@2026-05-05T03:00:00+00:00"


def test_a_restart_after_that_days_reminder_time_starts_with_the_next_days() -> None:
    # As above, but answered Mon 05-18 15:00, after that day's 13:43: overdue at 15:00,
    # late Tue 13:43-17:00 3 h 17 min + Wed-Fri 24 h + Mon 07:00-11:30 4.5 h and
    # 13:30-15:00 1.5 h = 33 h 17 min; Mon 13:43 (the 4th) has passed before the due
    # existed, the first reminder is the 5th, Tue 05-19 13:43 (40 h).
    f = facts(
        received(at=t(2026, 5, 7, 8), due=t(2026, 5, 11, 17)),
        ev("supplement_requested", t(2026, 5, 11, 9)),
        ev("supplement_received", t(2026, 5, 18, 15), due_at=t(2026, 5, 12, 13, 43)),
    )
    new = "2026-05-12T06:43:00+00:00"
    assert keyed(alerts_between(f, t(2026, 5, 18), t(2026, 5, 20), CAL)) == [
        ("overdue", t(2026, 5, 18, 15), round(33 + 17 / 60, 4), new),
        ("overdue_reminder", t(2026, 5, 19, 13, 43), 40.0, f"{new}|5"),
    ]
