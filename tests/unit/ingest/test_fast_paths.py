"""The ingest path's shortcuts give what the plain definitions give: events
built without validation (`built_event`), stored records copied without
pydantic (`with_history`, `history_of_steps`), event bytes by orjson
(`schemas.events.event_json`), the cached portal values, and the record history's writes
deferred to the commit (same rows, same transaction semantics)."""

from __future__ import annotations

import functools
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import ingest.record_history as record_history
from ingest.record_history import SqliteRecords
from ingest.simulator.knobs import Knobs
from ingest.simulator.simulation import Format, Simulation
from ingest.sync import LastRecords, UnitDirectory, convert, parse_record
from ingest.sync.events import built_event
from ingest.sync.record import (
    SyncHistory,
    SyncRecord,
    history_of_steps,
    read_record,
    with_history,
)
from ingest.sync.steps import Step
from ingest.sync.values import (
    HISTORY_KEY,
    _names_file,
    _online_level,
    _portal_time,
    _read_time,
    _stated,
    _yes,
    component_flags,
    format_time,
    online_level_of,
)
from schemas.events import (
    LOCAL_TZ,
    Channel,
    CorrectedField,
    DossierEvent,
    EventType,
    Level,
    OnlineLevel,
    TimeLimit,
    TimeUnit,
    describe_errors,
    event_json,
)
from schemas.personal import scrub_personal_data
from streams.rules.calendar import WorkingCalendar

SEEN = datetime(2026, 2, 1, 12, 0, 30, 123456, tzinfo=LOCAL_TZ)


def _payloads(
    count: int, seed: int = 3, start: date = date(2026, 1, 5), days: int = 59
) -> list[dict[str, Any]]:
    """The first `count` sync records of a simulation of `days` from `start`."""
    sim = Simulation(start, start + timedelta(days=days), Knobs(seed=seed), WorkingCalendar())
    payloads = []
    for item in sim.stream(Format.SYNC):
        payloads.append(item.payload)
        if len(payloads) >= count:
            break
    return payloads


def _same_model(fast: Any, slow: Any) -> None:
    assert type(fast) is type(slow)
    assert fast == slow
    assert list(fast.__dict__) == list(slow.__dict__)  # field order too
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__


# -- built_event == DossierEvent(**fields) -----------------------------------------

ZONES = st.sampled_from(
    [LOCAL_TZ, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(seconds=30))]
)
TIMES = st.builds(
    lambda moment, micro, tz: moment.replace(microsecond=micro, tzinfo=tz),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    st.sampled_from([0, 0, 1, 999_999]),
    st.one_of(ZONES, st.none()),
)
TEXTS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(["", " ", "x" * 200, "x" * 201, "y" * 500, "y" * 501]),
)
FLAGS = st.one_of(st.none(), st.booleans())
COMMON = {
    "due_at": st.one_of(st.none(), TIMES),
    "fee_due": FLAGS,
    "paid_online": FLAGS,
    "digitized": FLAGS,
    "electronic_result": FLAGS,
    "components_digitized": FLAGS,
    "reused_digitized_data": FLAGS,
    "from_personal_store": FLAGS,
    "vneid_verified": FLAGS,
    "source": TEXTS,
}
ATTRIBUTION = {
    "agency_code": TEXTS,
    "agency_name": TEXTS,
    "level": st.sampled_from(list(Level)),
    "district_code": TEXTS,
    "district_name": TEXTS,
    "procedure_code": st.one_of(st.none(), TEXTS),
    "procedure_name": st.one_of(st.none(), TEXTS),
    "field_code": st.one_of(st.none(), TEXTS),
    "field_name": TEXTS,
    "channel": st.sampled_from(list(Channel)),
    "online_level": st.one_of(st.none(), st.sampled_from(list(OnlineLevel))),
    "commune_code": st.one_of(st.none(), TEXTS),
    "commune_name": st.one_of(st.none(), TEXTS),
}


@st.composite
def event_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Fields as `_event` and `corrections` pass them (their keys, in their order)."""
    kind = draw(st.sampled_from(list(EventType)))
    fields = {
        "event_id": draw(TEXTS),
        "dossier_id": draw(TEXTS),
        "type": kind,
        "at": draw(TIMES),
    }
    if kind is EventType.CORRECTED:
        fields |= {
            "field": draw(st.sampled_from(list(CorrectedField))),
            "old": draw(TEXTS),
            "new": draw(st.one_of(TEXTS, TIMES.map(lambda t: t.isoformat()))),
            "source": draw(TEXTS),
        }
        return fields
    fields |= {name: draw(values) for name, values in COMMON.items()}
    if kind is EventType.RECEIVED:
        fields |= {name: draw(values) for name, values in ATTRIBUTION.items()}
    return fields


@settings(max_examples=400, deadline=None)
@given(event_fields())
def test_built_event_equals_validation(fields: dict[str, Any]) -> None:
    try:
        slow = DossierEvent(**fields)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as fast_error:
            built_event(fields)
        plain = {"include_url": False, "include_context": False}
        assert fast_error.value.errors(**plain) == exc.errors(**plain)
        return
    fast = built_event(fields)
    _same_model(fast, slow)
    assert fast.model_dump_json(exclude_none=True) == slow.model_dump_json(exclude_none=True)


# -- event_json == model_dump_json(exclude_none=True) ------------------------------


@settings(max_examples=400, deadline=None)
@given(
    event_fields(),
    st.text(st.characters(codec=None), max_size=8),
    st.one_of(st.none(), st.sampled_from([0.5, 3.0, 20.0, 3650.0])),
)
def test_event_json_equal_pydantic(fields: dict[str, Any], odd: str, limit: float | None) -> None:
    fields = fields | {"dossier_id": f"H44-{odd}"}  # any text, surrogates included
    if limit is not None:
        fields["time_limit"] = TimeLimit(value=limit, unit=TimeUnit.WORKING_DAYS)
    try:
        event = DossierEvent(**fields)
    except ValidationError:
        return
    assert event_json(event) == event.model_dump_json(exclude_none=True).encode()


def test_event_json_of_converted_events_equal_pydantic() -> None:
    records = [parse_record(p) for p in _payloads(3000)]
    events = convert(records, LastRecords(), UnitDirectory(), SEEN)
    assert len(events) > 1000
    for event in events:
        assert event_json(event) == event.model_dump_json(exclude_none=True).encode()
        # and the event built without validation is what validation makes of its values
        _same_model(event, DossierEvent(**{k: event.__dict__[k] for k in event.model_fields_set}))


# -- stored records: with_history, history_of_steps ----------------------------------


def test_with_history_equals_model_copy() -> None:
    store = LastRecords()
    convert([parse_record(p) for p in _payloads(1500)], store, UnitDirectory(), SEEN)
    for record in store._records.values():
        history = record.history
        plain = SyncHistory(steps=history.steps, seen_at=history.seen_at)
        _same_model(history_of_steps(history.steps, history.seen_at), plain)
        for base in (record, record.model_copy(update={"history": SyncHistory()})):
            fast, slow = with_history(base, plain), base.model_copy(update={"history": plain})
            _same_model(fast, slow)
            assert fast.to_json() == slow.to_json()
            assert SyncRecord.from_json(fast.to_json()) == slow


# -- cached portal values -----------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(r"\s?\d{14}\s?", fullmatch=True), st.text(max_size=16)))
def test_cached_portal_time_equals_reading_it(text: str) -> None:
    for _ in range(2):  # the second one from the cache
        try:
            expected = _read_time(text) if text != "" else None
        except ValueError as exc:
            with pytest.raises(ValueError, match=str(exc)):
                _portal_time(text)
            continue
        assert _portal_time(text) == expected


@given(st.one_of(st.text(max_size=20), st.integers(-10, 10), st.sampled_from(["Toàn trình"])))
def test_cached_online_level_equals_reading_it(value: str | int) -> None:
    expected = None if value == "" else _online_level(str(value))
    assert online_level_of(value) == expected
    assert online_level_of(value) == expected


# -- the record history: puts written at the commit ------------------------------------


def _stored(path: Path) -> dict[str, bytes]:
    with sqlite3.connect(path) as other:  # another connection: what is durable
        return dict(other.execute("SELECT dossier_id, record FROM last_record"))


def test_deferred_puts_are_durable_only_after_commit(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    records = [parse_record(p) for p in _payloads(600)]
    store = SqliteRecords(path)
    mirror = LastRecords()
    convert(records, store, UnitDirectory(), SEEN)
    convert(records, mirror, UnitDirectory(), SEEN)
    assert _stored(path) == {}
    assert len(store) == len(mirror)  # the open transaction counts its puts
    assert _stored(path) == {}
    store.put_cursor("poll", "page-2")
    store.commit()
    assert _stored(path) == {k: r.to_json() for k, r in mirror._records.items()}
    assert store.get_cursor("poll") == "page-2"
    # a rollback forgets the puts and the cursor of its transaction
    later = mirror._records[records[0].dossier_id].model_copy(update={"status": 10})
    store.put(later)
    store.put_cursor("poll", "page-3")
    store.rollback()
    assert store.get(later.dossier_id) == mirror.get(later.dossier_id)
    assert store.get_cursor("poll") == "page-2"
    store.commit()
    assert _stored(path)[later.dossier_id] == mirror._records[later.dossier_id].to_json()


def test_a_full_cache_writes_its_puts_before_forgetting_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_history, "CACHED_RECORDS", 50)
    records = [parse_record(p) for p in _payloads(800)]
    store, mirror = SqliteRecords(tmp_path / "records.sqlite"), LastRecords()
    events = convert(records, store, UnitDirectory(), SEEN)
    assert events == convert(records, mirror, UnitDirectory(), SEEN)
    assert len(mirror) > 50
    for dossier_id, record in mirror._records.items():
        assert store.get(dossier_id) == record
    store.rollback()
    assert all(store.get(d) is None for d in mirror._records)


def test_a_store_another_process_holds_fails_at_the_first_put(tmp_path: Path) -> None:
    # as when each put was written at once: before any event of the batch is sent
    path = tmp_path / "records.sqlite"
    store = SqliteRecords(path)
    other = sqlite3.connect(path)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.put(parse_record(_payloads(1)[0]))
    finally:
        other.rollback()
        other.close()
    store.rollback()
    store.put(parse_record(_payloads(1)[0]))
    store.commit()
    assert len(_stored(path)) == 1


# -- read_record == SyncRecord.model_validate -----------------------------------------


def _validated(data: dict[str, Any]) -> SyncRecord | str:
    """What validation makes of a record (as parse_record did before read_record):
    the model, or the reason it is refused."""
    clean = scrub_personal_data(data)
    clean.pop(HISTORY_KEY, None)
    try:
        return SyncRecord.model_validate(clean)
    except ValidationError as exc:
        return describe_errors(exc)


@pytest.mark.parametrize(
    ("seed", "start"), [(3, date(2026, 1, 5)), (7, date(2026, 1, 5)), (11, date(2025, 5, 1))]
)
def test_read_record_equals_validation_on_simulated_records(seed: int, start: date) -> None:
    for payload in _payloads(2500, seed, start, days=3650):
        expected = _validated(payload)
        assert isinstance(expected, SyncRecord)
        clean = scrub_personal_data(payload)
        fast = read_record(clean)
        assert fast is not None  # the simulator's records all take the fast path
        _same_model(fast, expected)
        _same_model(parse_record(payload), expected)
        assert fast.to_json() == expected.to_json()
        for mine, theirs in zip(fast.supplements, expected.supplements, strict=True):
            _same_model(mine, theirs)


PORTAL_KEYS = [
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "DonViXuLy", "KenhThucHien",
    "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayDongBo", "TrangThaiHoSo",
    "DanhSachHoSoBoSung", "DuocThanhToanTrucTuyen", "HoSoCoThanhPhanSoHoa", "MucDoDVC", "CoPhi",
    "PhiLePhi", "MaKetQua", "DuongDanTepTinKetQua", "TaiLieuNop", "TaiKhoanDuocXacThucVoiVNeID",
    "MaXa", "TenXa", HISTORY_KEY, "ChuHoSo", "so_dien_thoai", "dossier_id", "Khac",
]  # fmt: skip
PORTAL_TIMES = st.one_of(
    st.from_regex(r"20[0-3]\d[01]\d[0-3]\d[0-2]\d[0-5]\d[0-5]\d", fullmatch=True),
    st.sampled_from(["", " 20260105120000 ", "2026010512000", "２０２６０１０５１２００００"]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(["", " ", "2", " 4 ", "04", "abc", "x" * 201, "y" * 600, "Toàn trình"]),
    st.sampled_from(["H44.1-260105-0001", " H44-1 ", "-abc", "nohyphen", "z" * 151 + "-1"]),
    st.text(max_size=8),
    PORTAL_TIMES,
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "SoTien",
                    "TepDinhKem",
                    "DuocSoHoa",
                    "DuocLayTuKhoDMQG",
                    "IsDeleted",
                    "DaXoa",
                    "Url",
                    "HoTen",
                    "DiaChiFile",
                    "NgayYeuCauBoSung",
                    "NgayHenTraTruoc",
                    "NgayHenTraMoi",
                    "NgayTiepNhanBoSung",
                    "Email",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=6,
)
ROUND = st.dictionaries(
    st.sampled_from(
        ["NgayYeuCauBoSung", "NgayHenTraTruoc", "NgayHenTraMoi", "NgayTiepNhanBoSung", "HoTen"]
    ),
    st.one_of(PORTAL_TIMES, st.none(), SCALARS),
    max_size=5,
)
COMPONENT = st.dictionaries(
    st.sampled_from(
        [
            "TenGiayTo",
            "TepDinhKem",
            "DuocSoHoa",
            "DuocLayTuKhoDMQG",
            "IsDeleted",
            "DaXoa",
            "File",
            "DiaChiTep",
            "Url",
        ]
    ),
    SCALARS,
    max_size=5,
)
VALUE_OF = {
    "DanhSachHoSoBoSung": st.one_of(st.lists(ROUND, max_size=3), JUNK),
    "TaiLieuNop": st.one_of(st.lists(COMPONENT, max_size=3), COMPONENT, JUNK),
}


@functools.cache
def _some_payloads() -> list[dict[str, Any]]:
    return _payloads(300)


@st.composite
def messy_records(draw: st.DrawFn) -> dict[str, Any]:
    """A simulated record with some keys changed, dropped or added."""
    record = dict(draw(st.sampled_from(_some_payloads())))
    for key in draw(st.lists(st.sampled_from(PORTAL_KEYS), max_size=5)):
        if draw(st.integers(0, 5)) == 0:
            record.pop(key, None)
        else:
            record[key] = draw(VALUE_OF.get(key, JUNK))
    return record


@settings(max_examples=1500, deadline=None)
@given(messy_records())
def test_read_record_equals_validation_on_messy_records(data: dict[str, Any]) -> None:
    expected = _validated(data)
    if isinstance(expected, str):
        with pytest.raises(ValueError) as refused:
            parse_record(data)
        assert str(refused.value) == expected
        clean = scrub_personal_data(data)
        clean.pop(HISTORY_KEY, None)
        assert read_record(clean) is None
        return
    _same_model(parse_record(data), expected)
    clean = scrub_personal_data(data)
    clean.pop(HISTORY_KEY, None)
    fast = read_record(clean)
    if fast is not None:
        _same_model(fast, expected)
        assert fast.to_json() == expected.to_json()


def _component_flags_plainly(value: Any) -> tuple[bool, bool, bool] | None:
    """component_flags as first written (METRICS.md §7), before its shortcuts."""
    if value is None or value == "":
        return None
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise ValueError("expected a list of components")
    found = [False, False, False]
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("expected each component as an object")
        if _yes(item.get("IsDeleted")) or _yes(item.get("DaXoa")):
            continue
        digitized = _yes(item.get("DuocSoHoa"))
        has_file = any(
            _stated(v) and v is not False and v != 0 for k, v in item.items() if _names_file(k)
        )
        found[0] |= digitized or has_file
        found[1] |= digitized
        found[2] |= _yes(item.get("DuocLayTuKhoDMQG"))
    return found[0], found[1], found[2]


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.lists(COMPONENT, max_size=4), COMPONENT, JUNK))
def test_component_flags_equal_the_plain_rule(value: Any) -> None:
    try:
        expected = _component_flags_plainly(value)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)):
            component_flags(value)
        return
    for _ in range(2):  # the second one with the component shapes cached
        assert component_flags(value) == expected


# -- what a history's steps say, worked out once per set of steps -----------------------

STEP_KEYS = st.builds(
    lambda kind, n: f"{kind}:{n}", st.sampled_from(list(EventType)), st.integers(0, 4)
)


@settings(max_examples=300, deadline=None)
@given(st.frozensets(STEP_KEYS, max_size=8))
def test_history_answers_equal_the_plain_rule(steps: frozenset[str]) -> None:
    finishing = {"resolved", "returned", "rejected", "withdrawn"}
    finished = any(key.split(":", 1)[0] in finishing for key in steps)
    pairs = [
        (EventType.SUPPLEMENT_REQUESTED, EventType.SUPPLEMENT_RECEIVED),
        (EventType.PAYMENT_REQUESTED, EventType.PAYMENT_RECEIVED),
    ]
    for _ in range(2):  # the second one remembered
        history = history_of_steps(frozenset(steps), SEEN)  # an equal set, another object
        assert history.finished is finished
        for requested, received in pairs:
            asked = {int(k.rsplit(":", 1)[1]) for k in steps if k.startswith(f"{requested}:")}
            expected = sorted(n for n in asked if f"{received}:{n}" not in steps)
            assert history.pending(requested, received) == expected


@given(st.sampled_from(list(EventType)), st.integers(0, 30))
def test_step_key_is_type_and_round(kind: EventType, n: int) -> None:
    step = Step(kind, n, SEEN)
    assert step.key == step.key == f"{kind.value}:{n}"


@settings(max_examples=300, deadline=None)
@given(TIMES)
def test_cached_format_time_equals_formatting_it(moment: datetime) -> None:
    expected = moment.astimezone(LOCAL_TZ).strftime("%Y%m%d%H%M%S")
    for _ in range(2):  # the second one from the cache (aware times)
        assert format_time(moment) == expected
    same_instant = moment.astimezone(UTC) if moment.tzinfo else moment
    assert format_time(same_instant) == expected


def test_records_read_alike_share_their_fields_set_safely() -> None:
    first, second = (parse_record(p) for p in _some_payloads()[:2])
    assert first.model_fields_set is second.model_fields_set  # one shape of keys
    before = set(first.model_fields_set)
    copied = first.model_copy(update={"commune_code": "X"})
    assert "commune_code" in copied.model_fields_set
    assert first.model_fields_set == second.model_fields_set == before
