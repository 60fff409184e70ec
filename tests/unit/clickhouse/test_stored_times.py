"""`StoredTimes` (one conversion per distinct datetime) equals `stored_time`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.clickhouse.rows import NEVER_STORED, StoredTimes, stored_time
from streams.clickhouse.sql import NEVER

ZONES = [ZoneInfo(name) for name in ("Asia/Ho_Chi_Minh", "Europe/London", "America/New_York")]
OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENTS = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1))
AWARE = st.builds(
    lambda t, tz, fold: t.replace(tzinfo=tz, fold=fold),
    MOMENTS,
    st.one_of(OFFSETS, st.sampled_from([*ZONES, UTC])),
    st.integers(0, 1),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(AWARE, MOMENTS, st.none()), max_size=20))
def test_stored_times_equal_stored_time_whatever_the_order(moments: list) -> None:
    # the same instants again, in other zones and folds, must not take a wrong entry
    times = StoredTimes()
    for t in moments + [m.astimezone(UTC) for m in moments if m and m.tzinfo] + moments:
        assert times[t] == stored_time(t)


def test_never_and_an_ambiguous_hour() -> None:
    times = StoredTimes()
    assert times[None] == NEVER_STORED == stored_time(NEVER) == int(NEVER.timestamp())
    # 01:30 happens twice in New York on 2026-11-01: fold tells them apart
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    assert times[first] == int(first.timestamp())
    assert times[second] == int(second.timestamp()) == times[first] + 3600
