"""Portal sync records (DongBoHoSoMC) → canonical events, with expected events written by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.sync import (
    UNMAPPED_DISTRICT_CODE,
    UNMAPPED_DISTRICT_NAME,
    LastRecords,
    SyncRecord,
    UnitDirectory,
    advance,
    attribute,
    convert,
    infer_level,
    parse_record,
    parse_records,
    read_unit_directory,
    record_events,
)
from schemas.events import LOCAL_TZ, DossierEvent, Level, parse_event
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import Standing, dossier_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sync"
DOSSIER = "H44.100-240524-0001"
DIRECTORY = read_unit_directory(FIXTURES / "units.json")
CAL = WorkingCalendar()

# A record as a provincial system pushes it, at status 2 (received), with the
# applicant's personal data that ingest must drop.
BASE: dict[str, Any] = {
    "MaHoSo": DOSSIER,
    "MaTTHC": "1.003003",
    "TenTTHC": "Đăng ký biến động đất đai",
    "MaLinhVuc": "DD",
    "TenLinhVuc": "Đất đai",
    "DonViXuLy": "UBND Phường Việt Trì",
    "KenhThucHien": 2,
    "NgayTiepNhan": "20240524081500",
    "NgayHenTra": "20240531170000",
    "NgayKetThucXuLy": "",
    "NgayTra": "",
    "TrangThaiHoSo": 2,
    "DanhSachHoSoBoSung": [],
    "DuocThanhToanTrucTuyen": 2,
    "HoSoCoThanhPhanSoHoa": 1,
    "MucDoDVC": "4",
    "CoPhi": 1,
    "ChuHoSo": "PII-Nguyễn Văn An",
    "MaDoiTuong": "PII-025090001234",
    "SoDienThoai": "PII-0912345678",
    "Email": "pii-an@example.vn",
    "DiaChiThuongTru": "PII-12 Hùng Vương, Việt Trì",
    "NgaySinh": "PII-19900101",
}
FLAGS = {
    "fee_due": True,
    "paid_online": True,
    "digitized": True,
    "reused_digitized_data": True,  # HoSoCoThanhPhanSoHoa = 1 (EVENTS.md §2)
    "source": "dongbo",
}
RECEIVED = {
    "event_id": f"{DOSSIER}:received:0",
    "dossier_id": DOSSIER,
    "type": "received",
    "at": "2024-05-24T08:15:00+07:00",
    "agency_code": "H44.100",
    "agency_name": "UBND Phường Việt Trì",
    "level": "commune",
    "district_code": "H44.D01",
    "district_name": "Thành phố Việt Trì",
    # a commune unit's own dossier: that commune (METRICS.md §8; no MaXa in BASE)
    "commune_code": "H44.100",
    "commune_name": "UBND Phường Việt Trì",
    "procedure_code": "1.003003",
    "procedure_name": "Đăng ký biến động đất đai",
    "field_code": "DD",
    "field_name": "Đất đai",
    "channel": "online",
    "online_level": "full",
    "due_at": "2024-05-31T17:00:00+07:00",
    **FLAGS,
}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


SEEN = local("2024-06-10T09:00")  # observation time later than every time a record carries


def rec(**changes: Any) -> SyncRecord:
    return parse_record(BASE | changes)


def ev(type_: str, at: str, n: int = 0, **extra: Any) -> dict[str, Any]:
    """An expected non-received event, as model_dump(mode='json', exclude_none=True)."""
    at_text = local(at).isoformat()
    event = {"event_id": f"{DOSSIER}:{type_}:{n}", "dossier_id": DOSSIER, "type": type_}
    return event | {"at": at_text, **FLAGS, **extra}


def dumped(events: list[DossierEvent]) -> list[dict[str, Any]]:
    """The events as JSON values; each one must be a valid canonical event."""
    for event in events:
        assert parse_event(event.model_dump_json()) == event
    return [e.model_dump(mode="json", exclude_none=True) for e in events]


def brief(events: list[DossierEvent]) -> list[tuple[str, str, str]]:
    dumped(events)
    return [(e.type.value, e.at.isoformat(), e.event_id.removeprefix(DOSSIER)) for e in events]


def feed(*records: tuple[SyncRecord, datetime], store: LastRecords | None = None):
    """Events of each record, fed one at a time into one store."""
    store = LastRecords() if store is None else store
    return [convert([r], store, DIRECTORY, seen_at) for r, seen_at in records]


# --- lifecycles ------------------------------------------------------------------


def test_normal_lifecycle_with_listed_supplement_round() -> None:
    asked = {"NgayYeuCauBoSung": "20240527100000", "NgayHenTraTruoc": "20240531170000"}
    answered = asked | {"NgayTiepNhanBoSung": "20240529143000", "NgayHenTraMoi": "20240605170000"}
    steps = feed(
        (rec(), local("2024-05-24T08:20")),
        (rec(TrangThaiHoSo=4), local("2024-05-24T10:00")),
        (rec(TrangThaiHoSo=5, DanhSachHoSoBoSung=[asked]), local("2024-05-27T10:05")),
        (
            rec(TrangThaiHoSo=4, DanhSachHoSoBoSung=[answered], NgayHenTra="20240605170000"),
            local("2024-05-29T15:00"),
        ),
        (
            rec(TrangThaiHoSo=9, DanhSachHoSoBoSung=[answered], NgayKetThucXuLy="20240603160000"),
            local("2024-06-03T16:10"),
        ),
        (
            rec(
                TrangThaiHoSo=10,
                DanhSachHoSoBoSung=[answered],
                NgayKetThucXuLy="20240603160000",
                NgayTra="20240604090000",
            ),
            local("2024-06-04T09:05"),
        ),
    )
    assert [dumped(s) for s in steps] == [
        [RECEIVED],
        [],
        [ev("supplement_requested", "2024-05-27T10:00", 1)],
        [
            ev(
                "supplement_received",
                "2024-05-29T14:30",
                1,
                due_at="2024-06-05T17:00:00+07:00",
            )
        ],
        [ev("resolved", "2024-06-03T16:00")],
        [ev("returned", "2024-06-04T09:00")],
    ]
    # the stream judges it as the portal would: finished before the new due date
    state = dossier_state([e for s in steps for e in s], local("2024-07-01T00:00"), CAL)
    assert state is not None
    assert (state.standing, state.supplement_count) == (Standing.EARLY, 1)


def test_unlisted_supplement_round_takes_observation_times() -> None:
    steps = feed(
        (rec(TrangThaiHoSo=4), local("2024-05-24T10:00")),
        (rec(TrangThaiHoSo=5), local("2024-05-27T10:05")),
        (rec(TrangThaiHoSo=4), local("2024-05-29T15:00")),
    )
    assert [brief(s) for s in steps] == [
        [("received", "2024-05-24T08:15:00+07:00", ":received:0")],
        [("supplement_requested", "2024-05-27T10:05:00+07:00", ":supplement_requested:1")],
        [("supplement_received", "2024-05-29T15:00:00+07:00", ":supplement_received:1")],
    ]


def test_a_record_synced_earlier_than_seen_is_placed_at_its_sync_time() -> None:
    # the same three records, replayed from an archive long after (SEEN), each
    # carrying when it was synced: the steps keep those times; a sync time in
    # the future of the observation is capped at the observation
    steps = feed(
        (rec(TrangThaiHoSo=4, NgayDongBo="20240524100000"), SEEN),
        (rec(TrangThaiHoSo=5, NgayDongBo="20240527100500"), SEEN),
        (rec(TrangThaiHoSo=4, NgayDongBo="20250101000000"), local("2024-05-29T15:00")),
    )
    assert [brief(s) for s in steps] == [
        [("received", "2024-05-24T08:15:00+07:00", ":received:0")],
        [("supplement_requested", "2024-05-27T10:05:00+07:00", ":supplement_requested:1")],
        [("supplement_received", "2024-05-29T15:00:00+07:00", ":supplement_received:1")],
    ]


def test_a_naive_observation_time_is_local_beside_a_sync_time() -> None:
    # seen_at without an offset is Vietnam time (EVENTS.md); it used to fail
    # comparing with NgayDongBo (aware): same steps as the aware times give
    naive = [
        (rec(TrangThaiHoSo=4, NgayDongBo="20240524100000"), datetime(2024, 6, 10, 9, 0)),
        (rec(TrangThaiHoSo=4, NgayDongBo="20250101000000"), datetime(2024, 5, 29, 15, 0)),
    ]
    aware = [(r, seen.replace(tzinfo=LOCAL_TZ)) for r, seen in naive]
    steps = feed(*naive)
    assert [dumped(s) for s in steps] == [dumped(s) for s in feed(*aware)]
    assert [brief(s) for s in steps] == [
        [("received", "2024-05-24T08:15:00+07:00", ":received:0")],
        [],  # nothing new; its sync time, later than seen, capped at 15:00 local
    ]


def test_first_seen_resolved_yields_received_and_resolved() -> None:
    events = record_events(
        None, rec(TrangThaiHoSo="9", NgayKetThucXuLy="20240530110000"), DIRECTORY, seen_at=SEEN
    )
    assert dumped(events) == [RECEIVED, ev("resolved", "2024-05-30T11:00")]


@pytest.mark.parametrize(
    ("times", "resolved_at"),
    [
        ({"NgayKetThucXuLy": "20240530110000"}, "2024-05-30T11:00:00+07:00"),
        ({"NgayTra": "20240531080000"}, "2024-05-31T08:00:00+07:00"),  # no end: the return
        ({}, "2024-06-10T09:00:00+07:00"),  # nothing: when the record was seen
    ],
)
def test_resolved_time_fallbacks(times: dict[str, str], resolved_at: str) -> None:
    events = record_events(None, rec(TrangThaiHoSo=9, **times), DIRECTORY, seen_at=SEEN)
    assert brief(events)[1:] == [("resolved", resolved_at, ":resolved:0")]


def test_first_seen_returned_with_end_time() -> None:
    record = rec(TrangThaiHoSo=10, NgayKetThucXuLy="20240530110000", NgayTra="20240531080000")
    assert dumped(record_events(None, record, DIRECTORY, seen_at=SEEN)) == [
        RECEIVED,
        ev("resolved", "2024-05-30T11:00"),
        ev("returned", "2024-05-31T08:00"),
    ]


def test_first_seen_returned_without_end_time_is_not_resolved() -> None:
    record = rec(TrangThaiHoSo=10, NgayTra="20240531080000")
    assert brief(record_events(None, record, DIRECTORY, seen_at=SEEN)) == [
        ("received", "2024-05-24T08:15:00+07:00", ":received:0"),
        ("returned", "2024-05-31T08:00:00+07:00", ":returned:0"),
    ]


def test_returned_without_return_time_uses_observation_time() -> None:
    events = record_events(None, rec(TrangThaiHoSo=10), DIRECTORY, seen_at=SEEN)
    assert brief(events)[1:] == [("returned", "2024-06-10T09:00:00+07:00", ":returned:0")]


def test_jump_from_received_to_returned() -> None:
    done = rec(TrangThaiHoSo=10, NgayKetThucXuLy="20240530110000", NgayTra="20240531080000")
    steps = feed((rec(), local("2024-05-24T08:20")), (done, SEEN))
    assert [brief(s) for s in steps] == [
        [("received", "2024-05-24T08:15:00+07:00", ":received:0")],
        [
            ("resolved", "2024-05-30T11:00:00+07:00", ":resolved:0"),
            ("returned", "2024-05-31T08:00:00+07:00", ":returned:0"),
        ],
    ]


def test_two_supplement_rounds_get_distinct_ids_and_make_the_dossier_late() -> None:
    first = {"NgayYeuCauBoSung": "20240527100000", "NgayTiepNhanBoSung": "20240528090000"}
    second = {"NgayYeuCauBoSung": "20240529100000", "NgayTiepNhanBoSung": "20240530090000"}
    steps = feed(
        (rec(TrangThaiHoSo=5, DanhSachHoSoBoSung=[first | {"NgayTiepNhanBoSung": ""}]), SEEN),
        (rec(TrangThaiHoSo=4, DanhSachHoSoBoSung=[first, second]), SEEN),
        (
            rec(
                TrangThaiHoSo=9,
                DanhSachHoSoBoSung=[first, second],
                NgayKetThucXuLy="20240530160000",
            ),
            SEEN,
        ),
    )
    assert [brief(s) for s in steps] == [
        [
            ("received", "2024-05-24T08:15:00+07:00", ":received:0"),
            ("supplement_requested", "2024-05-27T10:00:00+07:00", ":supplement_requested:1"),
        ],
        [
            ("supplement_received", "2024-05-28T09:00:00+07:00", ":supplement_received:1"),
            ("supplement_requested", "2024-05-29T10:00:00+07:00", ":supplement_requested:2"),
            ("supplement_received", "2024-05-30T09:00:00+07:00", ":supplement_received:2"),
        ],
        [("resolved", "2024-05-30T16:00:00+07:00", ":resolved:0")],
    ]
    state = dossier_state([e for s in steps for e in s], local("2024-07-01T00:00"), CAL)
    assert state is not None
    assert (state.supplement_count, state.standing) == (2, Standing.LATE)


def test_listed_rounds_without_times_count_at_the_end() -> None:
    # first seen finished, two undated rounds: counted (2+ = late), no clock stop
    record = rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240530110000", DanhSachHoSoBoSung=[{}, {}])
    assert brief(record_events(None, record, DIRECTORY, seen_at=SEEN)) == [
        ("received", "2024-05-24T08:15:00+07:00", ":received:0"),
        ("supplement_requested", "2024-05-30T11:00:00+07:00", ":supplement_requested:1"),
        ("supplement_requested", "2024-05-30T11:00:00+07:00", ":supplement_requested:2"),
        ("supplement_received", "2024-05-30T11:00:00+07:00", ":supplement_received:1"),
        ("supplement_received", "2024-05-30T11:00:00+07:00", ":supplement_received:2"),
        ("resolved", "2024-05-30T11:00:00+07:00", ":resolved:0"),
    ]


def test_received_due_is_the_due_before_any_supplement_shift() -> None:
    shifted = {
        "NgayYeuCauBoSung": "20240527100000",
        "NgayHenTraTruoc": "20240531170000",
        "NgayTiepNhanBoSung": "20240529143000",
        "NgayHenTraMoi": "20240605170000",
    }
    record = rec(TrangThaiHoSo=4, NgayHenTra="20240605170000", DanhSachHoSoBoSung=[shifted])
    events = record_events(None, record, DIRECTORY, seen_at=SEEN)
    assert events[0].due_at == local("2024-05-31T17:00")
    assert events[-1].due_at == local("2024-06-05T17:00")


def test_payment_round() -> None:
    steps = feed(
        (rec(TrangThaiHoSo=4), local("2024-05-24T10:00")),
        (rec(TrangThaiHoSo=6), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=4), local("2024-05-28T14:00")),
    )
    assert [dumped(s) for s in steps] == [
        [RECEIVED],
        [ev("payment_requested", "2024-05-27T09:00", 1)],
        [ev("payment_received", "2024-05-28T14:00", 1)],
    ]


def test_payment_answered_by_resolution() -> None:
    steps = feed(
        (rec(TrangThaiHoSo=6), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240529100000"), SEEN),
    )
    assert brief(steps[1]) == [
        ("payment_received", "2024-05-29T10:00:00+07:00", ":payment_received:1"),
        ("resolved", "2024-05-29T10:00:00+07:00", ":resolved:0"),
    ]


def test_payment_answered_by_a_supplement_request() -> None:
    steps = feed(
        (rec(TrangThaiHoSo=6), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=5), local("2024-05-28T14:00")),
    )
    assert brief(steps[1]) == [
        ("supplement_requested", "2024-05-28T14:00:00+07:00", ":supplement_requested:1"),
        ("payment_received", "2024-05-28T14:00:00+07:00", ":payment_received:1"),
    ]


def test_withdrawn_and_stopped() -> None:
    withdrawn = rec(TrangThaiHoSo=7, NgayKetThucXuLy="20240527090000")
    stopped = rec(TrangThaiHoSo=8)  # no time carried: when it was seen
    assert dumped(record_events(None, withdrawn, DIRECTORY, seen_at=SEEN))[1:] == [
        ev("withdrawn", "2024-05-27T09:00")
    ]
    assert dumped(record_events(None, stopped, DIRECTORY, seen_at=SEEN))[1:] == [
        ev("rejected", "2024-06-10T09:00")
    ]


def test_stopped_while_waiting_for_supplement_is_not_an_answer() -> None:
    asked = [{"NgayYeuCauBoSung": "20240527100000"}]
    steps = feed(
        (rec(TrangThaiHoSo=5, DanhSachHoSoBoSung=asked), local("2024-05-27T10:05")),
        (rec(TrangThaiHoSo=8, DanhSachHoSoBoSung=asked, NgayKetThucXuLy="20240610080000"), SEEN),
    )
    assert brief(steps[1]) == [("rejected", "2024-06-10T08:00:00+07:00", ":rejected:0")]


def test_new_and_refused_records_yield_nothing() -> None:
    store = LastRecords()
    assert convert([rec(TrangThaiHoSo=1), rec(TrangThaiHoSo=3)], store, DIRECTORY, SEEN) == []
    # status 1 and 3 need no receipt data
    assert parse_record({"MaHoSo": DOSSIER, "TrangThaiHoSo": 1}).received_at is None
    # a new dossier received later becomes one
    assert brief(convert([rec()], store, DIRECTORY, SEEN)) == [
        ("received", "2024-05-24T08:15:00+07:00", ":received:0")
    ]


# --- repeats, sources, backwards --------------------------------------------------


def test_same_record_again_yields_nothing_new() -> None:
    record = rec(TrangThaiHoSo=5)
    store = LastRecords()
    first = convert([record], store, DIRECTORY, local("2024-05-27T10:05"))
    assert [e.type.value for e in first] == ["received", "supplement_requested"]
    assert convert([record], store, DIRECTORY, local("2024-05-27T10:05")) == []
    assert convert([record], store, DIRECTORY, local("2024-05-28T10:00")) == []  # second source
    # a fresh store would give the very same ids again
    again = convert([record], LastRecords(), DIRECTORY, SEEN)
    assert [e.event_id for e in again] == [e.event_id for e in first]


def test_stale_observation_is_ignored() -> None:
    store = LastRecords()
    feed((rec(TrangThaiHoSo=4), local("2024-05-24T10:00")), store=store)
    feed((rec(TrangThaiHoSo=5), local("2024-05-27T10:00")), store=store)
    kept = store.get(DOSSIER)
    # the status-4 record observed earlier, replayed: not "supplement received"
    assert feed((rec(TrangThaiHoSo=4), local("2024-05-24T10:00")), store=store) == [[]]
    assert store.get(DOSSIER) == kept


def test_backwards_status_does_not_reopen_a_finished_dossier() -> None:
    late_round = {"NgayYeuCauBoSung": "20240528090000", "NgayTiepNhanBoSung": "20240529080000"}
    steps = feed(
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240530110000"), local("2024-05-30T11:05")),
        (rec(TrangThaiHoSo=4), local("2024-05-31T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240530110000"), local("2024-05-31T10:00")),
        (rec(TrangThaiHoSo=4, DanhSachHoSoBoSung=[late_round]), local("2024-05-31T11:00")),
        (rec(TrangThaiHoSo=5, DanhSachHoSoBoSung=[late_round]), local("2024-05-31T12:00")),
        (rec(TrangThaiHoSo=6), local("2024-05-31T13:00")),
        (rec(TrangThaiHoSo=8), local("2024-05-31T14:00")),
        (rec(TrangThaiHoSo=10, NgayTra="20240531150000"), local("2024-05-31T15:05")),
    )
    assert [brief(s) for s in steps] == [
        [
            ("received", "2024-05-24T08:15:00+07:00", ":received:0"),
            ("resolved", "2024-05-30T11:00:00+07:00", ":resolved:0"),
        ],
        # 9 → 4: not reopened, but the rewrite is shown (METRICS.md §9)
        [("corrected", "2024-05-31T09:00:00+07:00", ":corrected:status:processing")],
        [],  # 4 → 9 again: resolved was already derived
        [  # a round the record now lists, with its own times, is still history
            ("supplement_requested", "2024-05-28T09:00:00+07:00", ":supplement_requested:1"),
            ("supplement_received", "2024-05-29T08:00:00+07:00", ":supplement_received:1"),
        ],
        [],  # a new supplement request after the end: not derived
        [],  # nor a payment request
        [],  # nor another outcome
        [("returned", "2024-05-31T15:00:00+07:00", ":returned:0")],  # returning is the next step
    ]


def test_raw_previous_record_is_taken_as_applied() -> None:
    events = record_events(rec(TrangThaiHoSo=5), rec(TrangThaiHoSo=4), DIRECTORY, seen_at=SEEN)
    assert brief(events) == [
        ("supplement_received", "2024-06-10T09:00:00+07:00", ":supplement_received:1")
    ]
    events = record_events(rec(TrangThaiHoSo=6), rec(TrangThaiHoSo=4), DIRECTORY, seen_at=SEEN)
    assert [e.type.value for e in events] == ["payment_received"]


def test_naive_observation_time_is_local() -> None:
    events = record_events(None, rec(TrangThaiHoSo=8), DIRECTORY, seen_at=datetime(2024, 6, 1, 9))
    assert events[-1].at.isoformat() == "2024-06-01T09:00:00+07:00"


def test_no_step_before_the_receipt() -> None:
    # an end time before the receipt (clock drift) is moved to the receipt
    record = rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240524080000")
    assert brief(record_events(None, record, DIRECTORY, seen_at=SEEN))[1] == (
        "resolved",
        "2024-05-24T08:15:00+07:00",
        ":resolved:0",
    )


# --- record fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "channel"),
    [
        (None, "direct"),
        ("", "direct"),
        (1, "direct"),
        (2, "online"),
        ("2", "online"),
        (3, "postal"),
    ],
)
def test_channel(value: Any, channel: str) -> None:
    events = record_events(None, rec(KenhThucHien=value), DIRECTORY, seen_at=SEEN)
    assert events[0].channel == channel


def test_missing_channel_is_direct() -> None:
    data = {k: v for k, v in BASE.items() if k != "KenhThucHien"}
    assert parse_record(data).channel == "direct"


def test_missing_due_date_gives_no_due() -> None:
    for missing in ({"NgayHenTra": ""}, {"NgayHenTra": None}):
        events = record_events(None, rec(**missing), DIRECTORY, seen_at=SEEN)
        assert events[0].due_at is None and events[0].time_limit is None


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("4", "full"),
        (4, "full"),
        ("Toàn trình", "full"),
        ("toan trinh", "full"),
        ("3", "partial"),
        ("Một phần", "partial"),
        ("2", "none"),
        (1, "none"),
        ("", None),
        (None, None),
    ],
)
def test_online_level(value: Any, level: str | None) -> None:
    assert rec(MucDoDVC=value).online_level == level


@pytest.mark.parametrize(
    ("fields", "fee_due"),
    [
        ({"CoPhi": 1}, True),
        ({"CoPhi": 0, "DuocThanhToanTrucTuyen": 0}, False),
        ({"CoPhi": None, "PhiLePhi": 50000}, True),
        ({"CoPhi": None, "PhiLePhi": "0"}, False),
        ({"CoPhi": None, "PhiLePhi": [{"SoTien": 15000}]}, True),
        ({"CoPhi": None, "DuocThanhToanTrucTuyen": 1}, True),  # paid online: there was a fee
        ({"CoPhi": None, "DuocThanhToanTrucTuyen": None}, None),
    ],
)
def test_fee(fields: dict[str, Any], fee_due: bool | None) -> None:
    assert rec(**fields).fee_due is fee_due


@pytest.mark.parametrize(
    ("paid", "digitized", "expected"),
    [
        (1, 1, (True, True)),
        (2, 0, (True, False)),
        (0, "1", (False, True)),
        (None, None, (None, None)),
    ],
)
def test_online_payment_and_digitized_flags(paid: Any, digitized: Any, expected: tuple) -> None:
    record = rec(DuocThanhToanTrucTuyen=paid, HoSoCoThanhPhanSoHoa=digitized)
    assert (record.paid_online, record.digitized) == expected


def test_times_are_local_vietnam_time() -> None:
    record = rec(NgayKetThucXuLy="20240530235959")
    assert record.received_at == datetime.fromisoformat("2024-05-24T08:15:00+07:00")
    assert record.processed_at is not None
    assert record.processed_at.utcoffset() == timedelta(hours=7)
    assert record.processed_at.isoformat() == "2024-05-30T23:59:59+07:00"


def test_personal_data_never_reaches_events_or_the_store() -> None:
    planted_round = {
        "NgayYeuCauBoSung": "20240527100000",
        "NgayTiepNhanBoSung": "20240528090000",
        "SoDienThoaiNguoiBoSung": "PII-0987654321",
        "ChuHoSo": {"HoTen": "PII-Trần Thị Bình"},
    }
    records = [
        rec(),
        rec(TrangThaiHoSo=4, DanhSachHoSoBoSung=[planted_round], CCCD="PII-001090000001"),
        rec(TrangThaiHoSo=10, NgayKetThucXuLy="20240530110000", NgayTra="20240531080000"),
    ]
    store = LastRecords()
    events = convert(records, store, DIRECTORY, SEEN)
    assert [e.type.value for e in events] == [
        "received",
        "supplement_requested",
        "supplement_received",
        "resolved",
        "returned",
    ]
    stored = store.get(DOSSIER)
    assert stored is not None
    for text in [e.model_dump_json() for e in events] + [stored.to_json().decode()]:
        assert "PII" not in text.upper()


# --- parsing payloads -------------------------------------------------------------


def test_malformed_records_are_reported_and_good_ones_parse() -> None:
    bad_date = BASE | {"MaHoSo": "H44.100-240524-0002", "NgayTiepNhan": "2024-05-24"}
    bad_status = BASE | {"MaHoSo": "H44.100-240524-0003", "TrangThaiHoSo": 11}
    no_code = {k: v for k, v in BASE.items() if k != "MaHoSo"}
    good = BASE | {"MaHoSo": "H44.100-240524-0004"}
    payload = orjson.dumps([BASE, bad_date, bad_status, no_code, good, "oops"])
    records, errors = parse_records(payload)
    assert [r.dossier_id for r in records] == [DOSSIER, "H44.100-240524-0004"]
    assert errors == [
        (1, "NgayTiepNhan: expected yyyyMMddHHmmss local time"),  # never the value
        (2, "TrangThaiHoSo: expected a status 1-10"),
        (3, "MaHoSo: Field required"),
        (5, "expected a JSON object, got str"),
    ]
    assert not any("PII" in reason.upper() for _, reason in errors)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"NgayHenTra": "20240231170000"}, "NgayHenTra: not a real date-time"),
        ({"NgayTra": 20240531080000}, "NgayTra: expected yyyyMMddHHmmss local time"),
        ({"TrangThaiHoSo": True}, "TrangThaiHoSo: expected a status 1-10"),
        ({"KenhThucHien": 4}, "KenhThucHien: expected 1 (direct), 2 (online) or 3 (postal)"),
        ({"MaHoSo": "H44100240524"}, "MaHoSo: no unit code before the first '-'"),
        ({"NgayTiepNhan": ""}, "NgayTiepNhan: required when TrangThaiHoSo is 2"),
        ({"MaTTHC": None, "MaLinhVuc": ""}, "MaTTHC, MaLinhVuc: required when TrangThaiHoSo"),
        (
            {"DanhSachHoSoBoSung": [{"NgayYeuCauBoSung": "27/05/2024"}]},
            "DanhSachHoSoBoSung.0.NgayYeuCauBoSung: expected yyyyMMddHHmmss",
        ),
    ],
)
def test_invalid_field_reasons(changes: dict[str, Any], reason: str) -> None:
    records, errors = parse_records([BASE | changes])
    assert records == []
    assert len(errors) == 1 and errors[0][0] == 0
    assert errors[0][1].startswith(reason)


def test_one_record_or_a_list_as_bytes_text_or_decoded() -> None:
    for payload in (orjson.dumps(BASE), orjson.dumps(BASE).decode(), BASE, [BASE]):
        records, errors = parse_records(payload)
        assert ([r.dossier_id for r in records], errors) == ([DOSSIER], [])


@pytest.mark.parametrize("payload", [b"{not json", b"42", '"text"', b"null"])
def test_whole_payload_that_is_not_records_raises(payload: bytes | str) -> None:
    with pytest.raises(ValueError):
        parse_records(payload)


def test_sender_cannot_inject_history() -> None:
    forged = BASE | {"_history": {"steps": ["received:0"], "seen_at": "2030-01-01T00:00:00Z"}}
    (record,), _ = parse_records([forged])
    assert [e.type.value for e in record_events(None, record, DIRECTORY, seen_at=SEEN)] == [
        "received"
    ]


# --- unit directory ---------------------------------------------------------------


def test_unknown_unit_still_converts_with_guessed_attributes() -> None:
    record = rec(MaHoSo="H44.110-240524-0007", DonViXuLy="UBND xã Sơn Vi, huyện Lâm Thao")
    (received,) = record_events(None, record, DIRECTORY, seen_at=SEEN)
    assert dumped([received]) == [
        RECEIVED
        | {
            "event_id": "H44.110-240524-0007:received:0",
            "dossier_id": "H44.110-240524-0007",
            "agency_code": "H44.110",
            "agency_name": "UBND xã Sơn Vi, huyện Lâm Thao",
            "level": "commune",
            "commune_code": "H44.110",
            "commune_name": "UBND xã Sơn Vi, huyện Lâm Thao",
            "district_code": UNMAPPED_DISTRICT_CODE,
            "district_name": UNMAPPED_DISTRICT_NAME,
        }
    ]


def test_unknown_unit_without_name_uses_its_code() -> None:
    record = rec(MaHoSo="H44.999-240524-0001", DonViXuLy=None)
    unit = attribute(DIRECTORY, record.agency_code, record.unit_name, SEEN)
    assert (unit.agency_name, unit.level, unit.mapped) == ("H44.999", Level.PROVINCE, False)
    assert "H44.999" not in DIRECTORY and "H44.100" in DIRECTORY and len(DIRECTORY) == 2


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("UBND Phường Việt Trì", "commune"),
        ("UBND Thị trấn Hùng Sơn", "commune"),
        ("UBND xã Thanh Minh, thị xã Phú Thọ", "commune"),
        ("UBND Thị xã Phú Thọ", "district"),
        ("UBND Huyện Lâm Thao", "district"),
        ("UBND Thành phố Việt Trì", "district"),
        ("Sở Tài nguyên và Môi trường", "province"),
        ("Ban Quản lý các khu công nghiệp tỉnh", "province"),
        ("Văn phòng Đăng ký đất đai", "province"),
        (None, "province"),
    ],
)
def test_level_inferred_from_unit_name(name: str | None, level: str) -> None:
    assert infer_level(name) == level


def test_directory_from_mapping_and_bad_entries() -> None:
    # the old shape as a mapping {code: {...}} still reads (one directory class:
    # schemas.units.UnitDirectory; such a unit is valid always, area = district)
    directory = UnitDirectory.from_rows(
        {
            "H44.12": {
                "agency_name": "Sở TN&MT",
                "level": "province",
                "district_code": "H44.D00",
                "district_name": "Cấp tỉnh",
            }
        }
    )
    assert attribute(directory, "H44.12", "ignored", SEEN).agency_name == "Sở TN&MT"
    with pytest.raises(ValueError):
        UnitDirectory.from_rows({"H44.1": {"agency_name": "X", "level": "village"}})
    with pytest.raises((ValueError, KeyError)):
        UnitDirectory.from_rows([{"agency_name": "X"}])


# --- the versioned directory across 1 July 2025 (METRICS.md §8) -------------------

TWO_TIER = UnitDirectory.from_rows(
    [
        {"code": "H44.12", "name": "Sở Tài nguyên và Môi trường", "kind": "department",
         "area_code": "H44.D00", "area_name": "Cấp tỉnh", "valid_to": "2025-07-01",
         "successor": "H44.40"},
        {"code": "H44.40", "name": "Sở Nông nghiệp và Môi trường", "kind": "department",
         "area_code": "H44.D00", "area_name": "Cấp tỉnh", "valid_from": "2025-07-01"},
        {"code": "H44.100", "name": "UBND Phường Việt Trì", "kind": "commune",
         "area_code": "H44.D01", "area_name": "Thành phố Việt Trì", "valid_to": "2025-07-01",
         "successor": "H44.500"},
        {"code": "H44.101", "name": "UBND Phường Nông Trang", "kind": "commune",
         "area_code": "H44.D01", "area_name": "Thành phố Việt Trì", "valid_to": "2025-07-01",
         "successor": "H44.500"},
        {"code": "H44.500", "name": "UBND phường Việt Trì (mới)", "kind": "commune",
         "area_code": "H44.K1", "area_name": "Khu vực Việt Trì", "valid_from": "2025-07-01"},
    ]
)  # fmt: skip


def received_of(directory: UnitDirectory, **changes: Any) -> DossierEvent:
    events = record_events(None, rec(**changes), directory, seen_at=local("2025-08-01T09:00"))
    return next(e for e in events if e.type == "received")


def test_before_the_reform_the_area_is_the_district() -> None:
    e = received_of(TWO_TIER, MaHoSo="H44.100-250624-0001", NgayTiepNhan="20250624081500")
    assert (e.agency_name, e.level, e.district_code, e.district_name) == (
        "UBND Phường Việt Trì", "commune", "H44.D01", "Thành phố Việt Trì",
    )  # fmt: skip
    assert (e.commune_code, e.commune_name) == ("H44.100", "UBND Phường Việt Trì")


def test_after_the_reform_the_area_is_the_directorys_area_of_the_commune() -> None:
    own = received_of(TWO_TIER, MaHoSo="H44.500-250702-0001", NgayTiepNhan="20250702081500")
    assert (own.commune_code, own.district_code, own.district_name) == (
        "H44.500", "H44.K1", "Khu vực Việt Trì",
    )  # fmt: skip
    # a department's dossier for a commune (MaXa): the commune's area, not the department's
    dept = received_of(
        TWO_TIER, MaHoSo="H44.40-250702-0001", NgayTiepNhan="20250702081500",
        MaXa="H44.500", TenXa="Phường Việt Trì",
    )  # fmt: skip
    assert (dept.agency_name, dept.level) == ("Sở Nông nghiệp và Môi trường", "province")
    assert (dept.commune_code, dept.commune_name, dept.district_code) == (
        "H44.500", "Phường Việt Trì", "H44.K1",
    )  # fmt: skip
    # MaXa of a commune merged by then: its successor's area; no TenXa: the directory's name
    old = received_of(
        TWO_TIER, MaHoSo="H44.40-250702-0002", NgayTiepNhan="20250702081500", MaXa="H44.101"
    )
    assert (old.commune_code, old.commune_name, old.district_code) == (
        "H44.101", "UBND Phường Nông Trang", "H44.K1",
    )  # fmt: skip
    # without a commune: the department's own area
    plain = received_of(TWO_TIER, MaHoSo="H44.40-250702-0003", NgayTiepNhan="20250702081500")
    assert (plain.commune_code, plain.district_code) == (None, "H44.D00")


def test_a_merged_units_late_record_still_resolves_to_its_own_version() -> None:
    # received before the reform, but H44.12's version ended on 1 July: as of receipt
    e = received_of(TWO_TIER, MaHoSo="H44.12-250630-0001", NgayTiepNhan="20250630160000")
    assert (e.agency_name, e.district_code) == ("Sở Tài nguyên và Môi trường", "H44.D00")
    # a record dated after its unit ended keeps the unit (its last version), not "unmapped"
    late = attribute(TWO_TIER, "H44.12", None, local("2025-07-03T08:00"))
    assert (late.mapped, late.agency_name) == (True, "Sở Tài nguyên và Môi trường")


def test_the_versioned_csv_shape_reads(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,kind,parent,area_code,area_name,valid_from,valid_to,successor\n"
        "H44.500,UBND phường Việt Trì,commune,,H44.K1,Khu vực Việt Trì,2025-07-01,,\n",
        encoding="utf-8",
    )
    directory = read_unit_directory(path)
    assert attribute(directory, "H44.500", None, local("2025-07-02T08:00")).district_code == (
        "H44.K1"
    )


# --- the stored record ------------------------------------------------------------


def test_stored_record_round_trips_through_json() -> None:
    rounds = [{"NgayYeuCauBoSung": "20240527100000", "NgayHenTraMoi": "20240605170000"}]
    record = rec(TrangThaiHoSo=5, DanhSachHoSoBoSung=rounds, PhiLePhi=20000, MucDoDVC="3")
    _, stored = advance(None, record, DIRECTORY, seen_at=SEEN)
    assert SyncRecord.from_json(stored.to_json()) == stored
    assert stored.history.steps == {"received:0", "supplement_requested:1"}


class JsonStore:
    """What a durable store does: keep bytes, read a record back."""

    def __init__(self) -> None:
        self.rows: dict[str, bytes] = {}

    def get(self, dossier_id: str) -> SyncRecord | None:
        row = self.rows.get(dossier_id)
        return None if row is None else SyncRecord.from_json(row)

    def put(self, record: SyncRecord) -> None:
        self.rows[record.dossier_id] = record.to_json()


def test_a_serialising_store_gives_the_same_events() -> None:
    sequence = [
        (rec(TrangThaiHoSo=s), SEEN + timedelta(hours=i))
        for i, s in enumerate([2, 5, 4, 6, 4, 9, 4, 10])
    ]
    memory, durable = LastRecords(), JsonStore()
    for record, seen_at in sequence:
        assert convert([record], memory, DIRECTORY, seen_at) == convert(
            [record], durable, DIRECTORY, seen_at
        )


# --- properties -------------------------------------------------------------------

T0 = local("2024-05-24T09:00")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def simulate(
    steps: list[tuple[int, bool]], lists_rounds: bool
) -> list[tuple[SyncRecord, datetime]]:
    """Records a provincial system would push for a status sequence, one hour apart."""
    rounds: list[dict[str, str]] = []
    previous = None
    out = []
    for i, (status, dated) in enumerate(steps):
        at = T0 + timedelta(hours=i + 1)
        if lists_rounds and status == 5 and previous != 5:
            rounds.append({"NgayYeuCauBoSung": _stamp(at)})
        elif lists_rounds and previous == 5 and status in (4, 6, 9, 10):
            rounds[-1] = rounds[-1] | {"NgayTiepNhanBoSung": _stamp(at)}
        times = {}
        if dated and status >= 7:
            times["NgayKetThucXuLy"] = _stamp(at)
        if dated and status == 10:
            times["NgayTra"] = _stamp(at)
        record = rec(TrangThaiHoSo=status, DanhSachHoSoBoSung=list(rounds), **times)
        out.append((record, at + timedelta(minutes=5)))
        previous = status
    return out


SEQUENCES = st.lists(st.tuples(st.integers(1, 10), st.booleans()), min_size=1, max_size=12)


def _all(store: LastRecords, records: list[tuple[SyncRecord, datetime]]) -> list[DossierEvent]:
    return [e for step in feed(*records, store=store) for e in step]


@settings(max_examples=300, deadline=None)
@given(SEQUENCES, st.booleans())
def test_replaying_a_sequence_adds_nothing(steps, lists_rounds) -> None:
    records = simulate(steps, lists_rounds)
    store = LastRecords()
    _all(store, records)
    assert _all(store, records) == []


@settings(max_examples=300, deadline=None)
@given(SEQUENCES, st.booleans())
def test_each_record_sent_twice_changes_nothing(steps, lists_rounds) -> None:
    records = simulate(steps, lists_rounds)
    doubled = [copy for r, t in records for copy in ((r, t), (r, t + timedelta(minutes=1)))]
    assert _all(LastRecords(), doubled) == _all(LastRecords(), records)


@settings(max_examples=300, deadline=None)
@given(SEQUENCES, st.booleans())
def test_events_are_valid_unique_and_never_reopen(steps, lists_rounds) -> None:
    events = _all(LastRecords(), simulate(steps, lists_rounds))
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids))
    dumped(events)
    received = [e for e in events if e.type == "received"]
    assert len(received) == (1 if any(s not in (1, 3) for s, _ in steps) else 0)
    if received:
        assert events[0] == received[0]
        assert all(e.at >= received[0].at for e in events)
    types = [e.type.value for e in events]
    assert not {"rejected", "withdrawn"} <= set(types)
    finish = next((i for i, t in enumerate(types) if t in FINISHING_TYPES), None)
    if finish is not None:
        assert set(types[finish + 1 :]) <= AFTER_FINISH
    state = dossier_state(events, local("2030-01-01T00:00"), CAL)
    assert (state is None) == (not received)


FINISHING_TYPES = {"resolved", "returned", "rejected", "withdrawn"}
AFTER_FINISH = {"resolved", "returned", "supplement_requested", "supplement_received", "corrected"}


PORTAL_KEYS = [*BASE, "PhiLePhi", "_history", "NgayYeuCauBoSung", "NgayTiepNhanBoSung"]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["20240524081500", "9", "2", "", "H44.100-240524-0001"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(PORTAL_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)

HOSTILE = st.dictionaries(st.sampled_from(PORTAL_KEYS), JSON, max_size=6)


@settings(max_examples=500, deadline=None)
@given(st.lists(HOSTILE | HOSTILE.map(lambda changes: BASE | changes), max_size=4))
def test_hostile_records_are_reported_never_raised(payload: list[dict[str, Any]]) -> None:
    records, errors = parse_records(orjson.dumps(payload))
    assert len(records) + len(errors) == len(payload)
    dumped(convert(records, LastRecords(), DIRECTORY, SEEN))


@settings(max_examples=500)
@given(st.from_regex(r"[0-9]{14}|[0-9]{8}[0-2][0-9][0-5][0-9]6[0-9]|\d{14}", fullmatch=True))
def test_a_portal_time_reads_as_strptime_reads_it(text: str) -> None:
    from ingest.sync.values import TIME_FORMAT, _portal_time

    try:
        expected = datetime.strptime(text, TIME_FORMAT).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        with pytest.raises(ValueError, match="not a real date-time"):
            _portal_time(text)
        return
    assert _portal_time(text) == expected and _portal_time(text).tzinfo is LOCAL_TZ
