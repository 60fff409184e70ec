"""Property tests of the rules (hypothesis): calendar against a day-by-day oracle,
order/duplicate independence of the dossier fold, and the II.06a identities."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import CorrectedField, DossierEvent, EventType
from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import dossier_facts, standing_at
from streams.rules.lifecycle import FLAGS, dossier_state
from streams.rules.period import COUNT_COLUMNS, UnitKind, period_report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
HOURS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
_VN = holidays.country_holidays("VN", years=range(2023, 2029))


def _oracle_is_working(day: date) -> bool:
    return (day.weekday() < 5 and day not in _VN) or day in _VN.weekend_workdays


def oracle_working_time(a: datetime, b: datetime) -> timedelta:
    """Walk every day of [a, b): slow, obvious, independent of the calendar module."""
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if _oracle_is_working(day):
            for start, end in HOURS:
                lo = max(a, datetime.combine(day, start, TZ))
                hi = min(b, datetime.combine(day, end, TZ))
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


instants = st.datetimes(
    min_value=datetime(2023, 6, 1), max_value=datetime(2028, 6, 1), timezones=st.just(TZ)
).map(lambda t: t.replace(microsecond=0))


@st.composite
def working_instants(draw: st.DrawFn) -> datetime:
    """An instant inside working hours, never the first moment of an interval."""
    day = draw(st.dates(min_value=date(2023, 6, 1), max_value=date(2028, 6, 1)))
    while not _oracle_is_working(day):
        day += timedelta(days=1)
    start, end = draw(st.sampled_from(HOURS))
    span = int((datetime.combine(day, end) - datetime.combine(day, start)).total_seconds())
    offset = draw(st.integers(1, span))
    return datetime.combine(day, start, TZ) + timedelta(seconds=offset)


@settings(max_examples=300, deadline=None)
@given(instants, st.integers(0, 90 * 24 * 3600))
def test_working_time_matches_day_by_day_oracle(a: datetime, seconds: int) -> None:
    b = a + timedelta(seconds=seconds)
    assert CAL.working_time_between(a, b) == oracle_working_time(a, b)


@settings(max_examples=300, deadline=None)
@given(working_instants(), st.integers(0, 400 * 24 * 3600))
def test_add_inverts_between_for_working_instants(u: datetime, gap: int) -> None:
    t = u - timedelta(seconds=gap)
    assert CAL.add_working_time(t, CAL.working_time_between(t, u)) == u


@settings(max_examples=200, deadline=None)
@given(instants, instants, instants)
def test_working_time_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    between = CAL.working_time_between
    assert between(a, b) + between(b, c) == between(a, c)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(1, 400 * 8 * 60))
def test_add_working_time_is_earliest(t: datetime, minutes: int) -> None:
    d = timedelta(minutes=minutes)
    u = CAL.add_working_time(t, d)
    assert CAL.working_time_between(t, u) == d
    assert CAL.working_time_between(t, u - timedelta(seconds=1)) < d


# -- dossier histories --------------------------------------------------------

AGENCIES = [
    ("H44.100", "UBND Phường Việt Trì", "D01", "TP Việt Trì", "commune"),
    ("H44.101", "UBND Phường Nông Trang", "D01", "TP Việt Trì", "commune"),
    ("H44.07", "Sở Công Thương", "D00", "Cấp tỉnh", "province"),
]
FIELDS = [("DD", "Đất đai"), ("HT", "Hộ tịch"), ("KD", "Kinh doanh")]


def _correction(draw, received_at: datetime) -> dict[str, object]:
    """A rewritten value: a time for the time fields, a lifecycle status otherwise."""
    field = draw(st.sampled_from(list(CorrectedField)))
    if field is CorrectedField.STATUS:
        old, new = draw(st.sampled_from([("resolved", "processing"), ("returned", "received")]))
    else:
        old, new = (
            (received_at + timedelta(hours=draw(st.integers(0, 600)))).isoformat() for _ in range(2)
        )
    return {"field": field, "old": old, "new": new}


FOLLOW_UPS = [t for t in EventType if t is not EventType.RECEIVED] + [EventType.RECEIVED]
BASE = datetime(2026, 3, 2, 7, 0, tzinfo=TZ)
# minutes after receipt; a few fixed values make same-instant ties common
OFFSETS = st.one_of(st.integers(-600, 30 * 24 * 60), st.sampled_from([0, 60, 24 * 60]))


SCORECARD_FLAGS = (
    "electronic_result",
    "components_digitized",
    "reused_digitized_data",
    "from_personal_store",
    "vneid_verified",
)
maybe_flag = st.sampled_from([None, False, True])


@st.composite
def dossier_history(draw: st.DrawFn, dossier_id: str) -> list[DossierEvent]:
    """A random history, the 766 scorecard's flags and complaints included."""
    code, name, district, district_name, level = draw(st.sampled_from(AGENCIES))
    field_code, field_name = draw(st.sampled_from(FIELDS))
    received_at = BASE + timedelta(minutes=draw(st.integers(0, 120 * 24 * 60)))
    limit = draw(st.sampled_from([None, (3, "working_days"), (15, "days"), (4, "working_hours")]))
    due_at = None
    if limit is None:
        due_at = received_at + timedelta(hours=draw(st.integers(1, 400)))
        if draw(st.booleans()):
            due_at = due_at.replace(hour=0, minute=0)
    received = DossierEvent(
        event_id=f"{dossier_id}/0",
        dossier_id=dossier_id,
        type=EventType.RECEIVED,
        at=received_at,
        agency_code=code,
        agency_name=name,
        level=level,
        district_code=district,
        district_name=district_name,
        procedure_code=f"1.{field_code}",
        procedure_name=f"Thủ tục {field_name}",
        field_code=field_code,
        field_name=field_name,
        channel=draw(st.sampled_from(["online", "direct", "postal"])),
        online_level=draw(st.sampled_from(["none", "partial", "full"])),
        due_at=due_at,
        time_limit=None if limit is None else {"value": limit[0], "unit": limit[1]},
        fee_due=draw(st.booleans()),
        paid_online=draw(st.booleans()),
        digitized=draw(st.booleans()),
        **{f: draw(maybe_flag) for f in SCORECARD_FLAGS},
    )
    events = [received]
    steps = draw(st.lists(st.tuples(st.sampled_from(FOLLOW_UPS), OFFSETS)))
    for i, (kind, minutes) in enumerate(steps, start=1):
        extra: dict[str, object] = {}
        if kind is EventType.RECEIVED:
            extra = received.model_dump(exclude={"event_id", "dossier_id", "type", "at"})
        elif kind in (EventType.EXTENDED, EventType.SUPPLEMENT_RECEIVED) and draw(st.booleans()):
            extra["due_at"] = received_at + timedelta(hours=draw(st.integers(1, 600)))
        elif kind is EventType.CORRECTED:
            extra = _correction(draw, received_at)
        if kind is not EventType.RECEIVED and draw(st.booleans()):
            # a flag reported later (the result file, a reused component...)
            extra[draw(st.sampled_from(SCORECARD_FLAGS))] = draw(st.booleans())
        events.append(
            DossierEvent(
                event_id=f"{dossier_id}/{i}",
                dossier_id=dossier_id,
                type=kind,
                at=received_at + timedelta(minutes=minutes),
                **extra,
            )
        )
    return events


province_histories = st.integers(1, 25).flatmap(
    lambda n: st.tuples(*(dossier_history(f"H44-{i:04d}") for i in range(n)))
)
moments = st.integers(0, 150).map(lambda days: BASE + timedelta(days=days, hours=-7))


@settings(max_examples=200, deadline=None)
@given(dossier_history("H44-0001"), moments, st.randoms(use_true_random=False))
def test_state_ignores_arrival_order_and_duplicates(
    events: list[DossierEvent], as_of: datetime, rnd: random.Random
) -> None:
    shuffled = events + rnd.sample(events, k=len(events) // 2)
    rnd.shuffle(shuffled)
    assert dossier_state(shuffled, as_of, CAL) == dossier_state(events, as_of, CAL)


def _states(histories: tuple[list[DossierEvent], ...], end: datetime) -> list:
    states = (dossier_state(h, end, CAL) for h in histories)
    return [s for s in states if s is not None]


@settings(max_examples=150, deadline=None)
@given(province_histories, moments, st.integers(1, 60))
def test_ii06a_identities_and_unit_sums(histories, start: datetime, length: int) -> None:
    end = start + timedelta(days=length)
    states = _states(histories, end)
    province = period_report(states, start, end, UnitKind.PROVINCE, CAL, ("H44", "Phú Thọ"))
    assert len(province) <= 1
    for by in UnitKind:
        rows = period_report(states, start, end, by, CAL, ("H44", "Phú Thọ"))
        total = defaultdict(int)
        for row in rows:
            assert row.carried_over + row.received_total == (
                row.finished_total + row.in_progress_total + row.waiting_supplement
            )
            assert row.finished_total == (
                row.finished_early + row.finished_on_time + row.finished_late
            )
            assert row.in_progress_total == row.in_progress_within_due + row.in_progress_overdue
            assert row.received_total == row.received_online + row.received_direct_postal
            for name in COUNT_COLUMNS:
                total[name] += getattr(row, name)
        expected = {name: getattr(province[0], name) for name in COUNT_COLUMNS} if province else {}
        assert {k: v for k, v in total.items() if province} == expected


@settings(max_examples=100, deadline=None)
@given(province_histories, moments, st.integers(1, 40), st.integers(1, 40))
def test_consecutive_periods_chain(histories, start: datetime, first: int, second: int) -> None:
    """What one period leaves unfinished is what the next one carries over."""
    middle = start + timedelta(days=first)
    end = middle + timedelta(days=second)
    rows_a = period_report(_states(histories, middle), start, middle, UnitKind.PROVINCE, CAL)
    rows_b = period_report(_states(histories, end), middle, end, UnitKind.PROVINCE, CAL)
    left = rows_a[0].in_progress_total + rows_a[0].waiting_supplement if rows_a else 0
    carried = rows_b[0].carried_over if rows_b else 0
    assert carried == left


@settings(max_examples=300, deadline=None)
@given(
    dossier_history("H44-0001"), st.lists(moments, min_size=1, max_size=5), st.integers(0, 86399)
)
def test_facts_give_the_state_at_any_instant(
    events: list[DossierEvent], days: list[datetime], second: int
) -> None:
    facts = dossier_facts(events, CAL)
    edges = [e.at for e in events] + ([facts.due] if facts and facts.due else [])
    instants = [d + timedelta(seconds=second) for d in days]
    instants += [t + timedelta(seconds=s) for t in edges for s in (0, 1)]
    for as_of in instants:
        state = dossier_state(events, as_of, CAL)
        if state is None:
            assert facts is None or standing_at(facts, as_of) is None
            continue
        assert facts is not None
        assert standing_at(facts, as_of) == (state.standing, state.late)
        assert (facts.apology_at is not None and facts.apology_at < as_of) == state.apology
        for flag in FLAGS:
            flag_at = getattr(facts, f"{flag}_at")
            assert (flag_at is not None and flag_at < as_of) == getattr(state, flag), flag
        assert (facts.complaint_at is not None and facts.complaint_at < as_of) == state.complaint
        finished = facts.end_at is not None and facts.end_at < as_of
        assert finished == (state.end_at is not None)


# with the 766 scorecard flags: the stored history format carries them (issue #16)
@given(dossier_history("H44.100-260504-0007"))
@settings(max_examples=200, deadline=None)
def test_stored_history_roundtrips(events: list[DossierEvent]) -> None:
    from streams.rules.processor import decode_history, encode_history

    assert decode_history(encode_history(events)) == events


@given(dossier_history("H44.100-260504-0008"), st.sampled_from(["+07:00", "Z", "+00:00", ""]))
@settings(max_examples=300, deadline=None)
def test_trusted_decode_equals_validation(events: list[DossierEvent], offset: str) -> None:
    # the stored history is read back without pydantic validation
    # (DossierEvent.trusted): it must give what model_validate gives on the
    # same stored values, to the type of every field (aware datetimes, enums)
    import orjson

    from streams.rules.processor import HISTORY_FIELDS, _unpacked, decode_history, encode_history

    if offset != "+07:00":  # events as other sources write their times
        events = [
            DossierEvent.model_validate(
                e.model_dump(mode="json") | {"at": e.at.strftime("%Y-%m-%dT%H:%M:%S") + offset}
            )
            for e in events
        ]
    stored = orjson.loads(encode_history(events))
    dossier_id = stored[1]
    for values, event in zip(stored[2:], events, strict=True):
        fast = _unpacked(dossier_id, values)
        fields = dict(zip(HISTORY_FIELDS, values, strict=False))
        if isinstance(fields["event_id"], list):
            fields["event_id"] = dossier_id + fields["event_id"][0]
        checked = DossierEvent.model_validate(fields | {"dossier_id": dossier_id})
        assert fast == checked == event
        for name in DossierEvent.model_fields:
            assert type(getattr(fast, name)) is type(getattr(checked, name)), name
        assert fast.at.tzinfo is not None and fast.at.utcoffset() == checked.at.utcoffset()
        assert fast.model_dump_json() == checked.model_dump_json()
    assert decode_history(encode_history(events)) == events
