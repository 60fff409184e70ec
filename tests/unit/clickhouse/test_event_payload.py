"""The raw_events payload (orjson) is the text pydantic writes, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import DossierEvent, EventType, TimeUnit
from streams.clickhouse.rows import event_payload

ZONES = st.sampled_from(
    [ZoneInfo("Asia/Ho_Chi_Minh"), ZoneInfo("UTC"), ZoneInfo("America/St_Johns"), UTC, None]
)
OFFSETS = st.integers(-23 * 3600, 23 * 3600).map(lambda s: timezone(timedelta(seconds=s)))
MINUTES = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
TIMES = st.builds(
    lambda t, tz: t.replace(tzinfo=tz),
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
    st.one_of(ZONES, OFFSETS, MINUTES),
)
TEXT = st.text(min_size=1, max_size=20)
OPTIONAL_TEXT = st.one_of(st.none(), TEXT)
FLAG = st.one_of(st.none(), st.booleans())


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(
        [t for t in EventType if t not in (EventType.RECEIVED, EventType.CORRECTED)]
    ),
    at=TIMES,
    due=st.one_of(st.none(), TIMES),
    ids=st.tuples(TEXT, TEXT),
    names=st.tuples(OPTIONAL_TEXT, OPTIONAL_TEXT, OPTIONAL_TEXT),
    flags=st.tuples(FLAG, FLAG, FLAG),
    limit=st.one_of(
        st.none(),
        st.tuples(
            st.floats(min_value=0, max_value=3650, exclude_min=True), st.sampled_from(TimeUnit)
        ),
    ),
)
def test_event_payload_is_pydantics_text(kind, at, due, ids, names, flags, limit) -> None:
    values = {
        "event_id": ids[0],
        "dossier_id": ids[1],
        "type": kind,
        "at": at,
        "due_at": due,
        "agency_name": names[0],
        "source": names[1],
        "commune_name": names[2],
        "fee_due": flags[0],
        "digitized": flags[1],
        "vneid_verified": flags[2],
    }
    if limit is not None:
        values["time_limit"] = {"value": limit[0], "unit": limit[1]}
    event = DossierEvent.model_validate(values)
    payload = event_payload(event)
    assert payload == event.model_dump_json(exclude_none=True)
    assert DossierEvent.model_validate_json(payload) == DossierEvent.model_validate_json(
        event.model_dump_json(exclude_none=True)
    )
