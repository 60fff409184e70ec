"""The 766 scorecard's fields of a sync record (EVENTS.md §2 → §1, METRICS.md §7):
MaKetQua with DuongDanTepTinKetQua, TaiLieuNop, TaiKhoanDuocXacThucVoiVNeID,
MaXa/TenXa. Expected values written by hand; the components' personal data
and the result's code and link are never kept."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.sync import SyncRecord, advance, parse_record, parse_records, record_events
from schemas.events import DossierEvent
from streams.rules.lifecycle import dossier_state
from tests.unit.ingest.test_sync import BASE, CAL, DIRECTORY, SEEN, local

SCORECARD = (
    "electronic_result",
    "components_digitized",
    "reused_digitized_data",
    "from_personal_store",
    "vneid_verified",
)
PLANTED = ("PLANTED-Nguyễn Thị Bình", "PLANTED-cccd.pdf", "PLANTED-KQ-0042", "https://planted")
# the base record without the digitized flag, so reuse comes from the components alone
PLAIN = {k: v for k, v in BASE.items() if k != "HoSoCoThanhPhanSoHoa"}
COMPONENTS = [
    # a scanned form: a file, not from the data store
    {"MaThanhPhanHoSo": "TP1", "TepDinhKem": "PLANTED-cccd.pdf", "DuocSoHoa": 0,
     "ChuHoSo": "PLANTED-Nguyễn Thị Bình"},
    # a component taken from the citizen's store on the national portal
    {"MaThanhPhanHoSo": "TP2", "DuocLayTuKhoDMQG": 1, "HoTen": "PLANTED-Nguyễn Thị Bình"},
]  # fmt: skip
FULL = PLAIN | {
    "MaKetQua": "PLANTED-KQ-0042",
    "DuongDanTepTinKetQua": "https://planted/ketqua.pdf",
    "TaiLieuNop": COMPONENTS,
    "TaiKhoanDuocXacThucVoiVNeID": 1,
    "MaXa": "25789",
    "TenXa": "Phường Thanh Miếu",
}


def events_of(record: dict[str, Any]) -> list[DossierEvent]:
    return record_events(None, parse_record(record), DIRECTORY, seen_at=SEEN)


def flags(event: DossierEvent) -> dict[str, bool | None]:
    return {name: getattr(event, name) for name in SCORECARD}


def test_every_field_read_and_carried_by_the_received_event() -> None:
    [received] = events_of(FULL)
    assert flags(received) == {
        "electronic_result": True,  # code and link both there
        "components_digitized": True,  # TP1 has a file
        "reused_digitized_data": False,  # no DuocSoHoa = 1, no HoSoCoThanhPhanSoHoa
        "from_personal_store": True,  # TP2
        "vneid_verified": True,
    }
    assert (received.commune_code, received.commune_name) == ("25789", "Phường Thanh Miếu")


def test_the_flags_ride_on_every_event_and_the_commune_on_the_receipt() -> None:
    finished = FULL | {"TrangThaiHoSo": 10, "NgayKetThucXuLy": "20240530100000",
                       "NgayTra": "20240530150000"}  # fmt: skip
    events = events_of(finished)
    assert [e.type.value for e in events] == ["received", "resolved", "returned"]
    assert all(flags(e) == flags(events[0]) for e in events)
    assert [e.commune_code for e in events] == ["25789", None, None]


def test_flags_first_reported_later_reach_the_dossier() -> None:
    """Received with nothing stated; the result and the VNeID check come with the
    resolution record: the resolved event says so, and the state holds them."""
    first = parse_record(PLAIN)
    events, stored = advance(None, first, DIRECTORY, seen_at=local("2024-05-24T09:00"))
    assert flags(events[0]) == dict.fromkeys(SCORECARD)
    later = FULL | {"TrangThaiHoSo": 9, "NgayKetThucXuLy": "20240530100000"}
    more, _ = advance(stored, parse_record(later), DIRECTORY, seen_at=SEEN)
    assert [e.type.value for e in more] == ["resolved"]
    assert more[0].electronic_result is True and more[0].vneid_verified is True
    state = dossier_state([*events, *more], local("2024-06-01T00:00"), CAL)
    assert state is not None
    assert (state.electronic_result, state.from_personal_store, state.vneid_verified) == (
        True, True, True,
    )  # fmt: skip
    assert state.reused_digitized_data is False


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"MaKetQua": "KQ1", "DuongDanTepTinKetQua": "https://x/kq.pdf"}, True),
        ({"MaKetQua": "KQ1"}, False),  # a result code without a file
        ({"MaKetQua": "KQ1", "DuongDanTepTinKetQua": ""}, False),
        ({"MaKetQua": "", "DuongDanTepTinKetQua": "https://x/kq.pdf"}, False),
        ({"DuongDanTepTinKetQua": "https://x/kq.pdf"}, False),
        ({"MaKetQua": None, "DuongDanTepTinKetQua": None}, None),  # not stated
        ({}, None),
    ],
)
def test_electronic_result(fields: dict[str, Any], expected: bool | None) -> None:
    [received] = events_of(PLAIN | fields)
    assert received.electronic_result is expected


@pytest.mark.parametrize(
    ("components", "digitized", "expected"),
    [
        # (components_digitized, reused_digitized_data, from_personal_store)
        (None, None, (None, None, None)),  # nothing stated
        (None, 1, (None, True, None)),  # HoSoCoThanhPhanSoHoa alone
        (None, 0, (None, False, None)),
        ([], None, (False, False, False)),  # stated: no component
        ([{"DuocSoHoa": 1}], None, (True, True, False)),  # DuocSoHoa: digitized and reused
        ([{"DuocSoHoa": "1"}, {"DuocLayTuKhoDMQG": "1"}], 0, (True, True, True)),
        ([{"TepDinhKemId": "f-1"}], 1, (True, True, False)),  # a file; reuse from the record
        ([{"TenTepDinhKem": ""}, {"DuocSoHoa": 0}], None, (False, False, False)),  # empty file
        # a deleted component does not count
        ([{"DuocSoHoa": 1, "IsDeleted": True}, {"TepDinhKem": "a.pdf"}], None,
         (True, False, False)),
        ({"DuocLayTuKhoDMQG": 1}, None, (False, False, True)),  # one object: one component
    ],
)  # fmt: skip
def test_components(components: Any, digitized: Any, expected: tuple) -> None:
    record = dict(PLAIN)
    if components is not None:
        record["TaiLieuNop"] = components
    if digitized is not None:
        record["HoSoCoThanhPhanSoHoa"] = digitized
    [received] = events_of(record)
    got = (
        received.components_digitized,
        received.reused_digitized_data,
        received.from_personal_store,
    )
    assert got == expected
    assert received.digitized == (None if digitized is None else bool(digitized))


@pytest.mark.parametrize(("value", "expected"), [(1, True), ("1", True), (0, False), (2, False)])
def test_vneid(value: Any, expected: bool) -> None:
    [received] = events_of(PLAIN | {"TaiKhoanDuocXacThucVoiVNeID": value})
    assert received.vneid_verified is expected


def test_without_a_commune_the_receipt_names_none() -> None:
    # no MaXa: a department's receipt names no commune; a commune unit's own
    # dossier names that commune (METRICS.md §8, the rule of issue #17)
    department = PLAIN | {"MaHoSo": "H44.12-240524-0001"}
    [received] = events_of(department)
    assert (received.commune_code, received.commune_name) == (None, None)
    [own] = events_of(PLAIN)
    assert (own.agency_code, own.level) == (own.commune_code, "commune")


def test_a_malformed_component_list_rejects_the_record_naming_the_field() -> None:
    records, errors = parse_records([PLAIN | {"TaiLieuNop": "TP1, TP2"}, PLAIN])
    assert len(records) == 1
    [(index, reason)] = errors
    assert index == 0 and "TaiLieuNop" in reason
    _, errors = parse_records([PLAIN | {"TaiLieuNop": ["TP1"]}])
    assert "TaiLieuNop" in errors[0][1]


def test_nothing_but_the_flags_is_kept() -> None:
    """Neither the components (names, files, personal data inside them) nor the
    result's code and link survive into the events or the stored record."""
    record = parse_record(FULL)
    events, stored = advance(None, record, DIRECTORY, seen_at=SEEN)
    texts = [e.model_dump_json() for e in events] + [stored.to_json().decode()]
    for text in texts:
        for planted in PLANTED:
            assert planted not in text
        assert "TP1" not in text and "MaThanhPhanHoSo" not in text


def test_the_stored_record_reads_back_with_the_same_flags() -> None:
    for fields in (FULL, PLAIN, PLAIN | {"MaKetQua": "KQ1"}, PLAIN | {"TaiLieuNop": []}):
        _, stored = advance(None, parse_record(fields), DIRECTORY, seen_at=SEEN)
        back = SyncRecord.from_json(stored.to_json())
        assert back == stored
        # and an unchanged record after it yields nothing new
        assert advance(back, parse_record(fields), DIRECTORY, seen_at=SEEN)[0] == []
