"""Hand-worked examples of the input contract (EVENTS.md §1).

Covers `parse_event` and `scrub_personal_data`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from schemas.events import Channel, EventType, InvalidEvent, TimeUnit, parse_event
from schemas.personal import scrub_personal_data
from tests.unit.helpers import RECEIVED_DEFAULTS, TZ, t

NOW = t(2026, 5, 6, 10, 0)


def received_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "event_id": "e-1",
        "dossier_id": "H44.100-260506-0001",
        "type": "received",
        "at": "2026-05-06T09:15:00+07:00",
        **RECEIVED_DEFAULTS,
        "channel": "online",
    }
    raw.update(overrides)
    return raw


def reason_of(raw: Any, now: datetime | None = None) -> str:
    with pytest.raises(InvalidEvent) as info:
        parse_event(raw, now=now)
    assert isinstance(info.value, ValueError)
    return info.value.reason


# -- accepted ----------------------------------------------------------------------------


def test_a_complete_received_event_parses_from_bytes_str_and_dict() -> None:
    raw = received_raw(time_limit={"value": 3, "unit": "working_days"}, fee_due=True)
    for form in (orjson.dumps(raw), orjson.dumps(raw).decode(), raw):
        e = parse_event(form, now=NOW)
        assert e.type is EventType.RECEIVED
        assert e.channel is Channel.ONLINE
        assert e.at == t(2026, 5, 6, 9, 15)
        assert e.time_limit is not None
        assert e.time_limit.unit is TimeUnit.WORKING_DAYS
        assert e.time_limit.value == 3
        assert e.fee_due is True


def test_at_without_offset_is_ho_chi_minh_time() -> None:
    e = parse_event(received_raw(at="2026-05-06T09:15:00"))
    assert e.at.utcoffset() == timedelta(hours=7)
    assert e.at == t(2026, 5, 6, 9, 15)
    assert e.at == datetime(2026, 5, 6, 2, 15, tzinfo=UTC)  # 09:15 +07:00 = 02:15 UTC


def test_at_with_another_offset_keeps_the_instant() -> None:
    # 02:15Z is 09:15 in Hà Nội
    e = parse_event(received_raw(at="2026-05-06T02:15:00Z"))
    assert e.at == t(2026, 5, 6, 9, 15)


def test_due_at_without_offset_is_ho_chi_minh_time() -> None:
    e = parse_event(received_raw(due_at="2026-05-08T00:00:00"))
    assert e.due_at == datetime(2026, 5, 8, tzinfo=TZ)


def test_follow_up_event_needs_no_received_fields() -> None:
    raw = {"event_id": "e-2", "dossier_id": "D", "type": "resolved", "at": "2026-05-06T10:00"}
    e = parse_event(raw, now=NOW)
    assert e.type is EventType.RESOLVED
    assert e.agency_code is None


def test_unknown_extra_fields_are_ignored() -> None:
    e = parse_event(received_raw(MaHoSo="X", whatever={"a": 1}))
    assert not hasattr(e, "whatever")


# -- rejected, with the field named ------------------------------------------------------


def test_missing_event_id() -> None:
    raw = received_raw()
    del raw["event_id"]
    assert "event_id" in reason_of(raw)


def test_missing_dossier_id() -> None:
    raw = received_raw()
    del raw["dossier_id"]
    assert "dossier_id" in reason_of(raw)


def test_empty_event_id() -> None:
    assert "event_id" in reason_of(received_raw(event_id=""))


def test_unknown_type() -> None:
    assert "type" in reason_of(received_raw(type="approved"))


def test_received_lacking_agency_code() -> None:
    raw = received_raw()
    del raw["agency_code"]
    assert "agency_code" in reason_of(raw)


def test_received_lacking_channel() -> None:
    raw = received_raw()
    del raw["channel"]
    assert "channel" in reason_of(raw)


def test_bad_channel_value() -> None:
    assert "channel" in reason_of(received_raw(channel="fax"))


def test_bad_at_text() -> None:
    assert "at" in reason_of(received_raw(at="hôm qua 9 giờ"))


def test_missing_at() -> None:
    raw = received_raw()
    del raw["at"]
    assert "at" in reason_of(raw)


def test_not_json() -> None:
    reason = reason_of(b'{"event_id": "e-1", ')
    assert "JSON" in reason


def test_json_array_instead_of_object() -> None:
    reason = reason_of(orjson.dumps([received_raw()]))
    assert "object" in reason


def test_json_scalar_instead_of_object() -> None:
    assert "object" in reason_of(b"42")


def test_at_more_than_a_day_after_now_is_rejected() -> None:
    # now Wed 10:00 +07:00; at Thu 10:00:01 is one second more than a day ahead
    reason = reason_of(received_raw(at="2026-05-07T10:00:01+07:00"), now=NOW)
    assert "at" in reason


def test_at_exactly_a_day_after_now_is_accepted() -> None:
    # "more than a day" → exactly one day ahead is still possible (clock skew)
    e = parse_event(received_raw(at="2026-05-07T10:00:00+07:00"), now=NOW)
    assert e.at == t(2026, 5, 7, 10)


def test_future_check_is_off_without_now() -> None:
    e = parse_event(received_raw(at="2030-01-01T08:00:00+07:00"))
    assert e.at == t(2030, 1, 1, 8)


def test_fee_due_string_yes_is_rejected() -> None:
    assert "fee_due" in reason_of(received_raw(fee_due="yes"))


def test_paid_online_string_true_is_rejected() -> None:
    assert "paid_online" in reason_of(received_raw(paid_online="true"))


def test_scorecard_flags_and_commune_are_read() -> None:
    # EVENTS.md §1: the 766 scorecard's flags (strict booleans) and the commune
    flags = {
        "electronic_result": True,
        "components_digitized": False,
        "reused_digitized_data": True,
        "from_personal_store": True,
        "vneid_verified": False,
    }
    e = parse_event(received_raw(commune_code="25234", commune_name="Phường Việt Trì", **flags))
    assert {name: getattr(e, name) for name in flags} == flags
    assert (e.commune_code, e.commune_name) == ("25234", "Phường Việt Trì")
    assert "vneid_verified" in reason_of(received_raw(vneid_verified="1"))


def test_complaint_needs_no_unit_fields() -> None:
    # like the other non-received types: only the identity and the instant
    raw = {"event_id": "c-1", "dossier_id": "H44.100-260506-0001", "type": "complaint"}
    e = parse_event({**raw, "at": "2026-05-20T08:00:00+07:00"})
    assert e.type is EventType.COMPLAINT
    assert e.agency_code is None


def test_bad_time_limit_unit() -> None:
    assert "time_limit" in reason_of(received_raw(time_limit={"value": 3, "unit": "weeks"}))


def test_time_limit_zero_is_rejected() -> None:
    assert "time_limit" in reason_of(received_raw(time_limit={"value": 0, "unit": "days"}))


# -- personal data -------------------------------------------------------------------


PERSONAL = {
    "ChuHoSo": "Nguyễn Văn A",
    "SoDienThoai": "0912345678",
    "Email": "a@example.vn",
    "DiaChiThuongTru": "Số 1, Phường Gia Cẩm",
    "NgaySinh": "1990-01-01",
    "MaDoiTuong": "025090000001",
}


def test_scrub_drops_personal_keys_and_keeps_agency_and_procedure_names() -> None:
    data = {
        "agency_name": "UBND Phường Việt Trì",
        "procedure_name": "Đăng ký khai sinh",
        "field_name": "Hộ tịch",
        **PERSONAL,
        "ThongTinKhac": {"ChuHoSo": "Nguyễn Văn A", "Email": "x@y.vn", "SoHoSo": "7"},
        "DanhSachHoSoBoSung": [
            {"SoDienThoai": "0912", "NgayHenTraMoi": "20260512170000"},
        ],
    }
    assert scrub_personal_data(data) == {
        "agency_name": "UBND Phường Việt Trì",
        "procedure_name": "Đăng ký khai sinh",
        "field_name": "Hộ tịch",
        "ThongTinKhac": {"SoHoSo": "7"},
        "DanhSachHoSoBoSung": [{"NgayHenTraMoi": "20260512170000"}],
    }


def test_scrub_keys_in_other_spellings() -> None:
    data = {"chu_ho_so": "A", "CHU-HO-SO": "A", "so_dien_thoai": "1", "email_lien_he": "e"}
    assert scrub_personal_data(data) == {}


def test_scrub_does_not_change_its_input() -> None:
    data = {"agency_name": "X", "ChuHoSo": "A", "nested": {"Email": "e"}}
    scrub_personal_data(data)
    assert data == {"agency_name": "X", "ChuHoSo": "A", "nested": {"Email": "e"}}


def test_parse_event_with_personal_data_keeps_none_of_it() -> None:
    raw = received_raw(**PERSONAL, extra={"NgaySinh": "1990-01-01"})
    e = parse_event(orjson.dumps(raw), now=NOW)
    dumped = orjson.dumps(e.model_dump(mode="json")).decode()
    for value in PERSONAL.values():
        assert value not in dumped
    assert e.agency_name == "UBND Phường Việt Trì"
    assert e.procedure_name == "Đăng ký khai sinh"


@pytest.mark.parametrize(
    "name",
    [
        "agency_code",
        "agency_name",
        "level",
        "district_code",
        "district_name",
        "procedure_code",
        "field_code",
        "field_name",
        "channel",
    ],
)
def test_every_required_received_field_is_named_when_missing(name: str) -> None:
    # EVENTS.md §1: these are required "on received"
    raw = received_raw()
    del raw[name]
    assert name in reason_of(raw)


def test_procedure_name_is_optional_on_received() -> None:
    raw = received_raw()
    del raw["procedure_name"]
    assert parse_event(raw).procedure_name is None


def test_missing_type() -> None:
    raw = received_raw()
    del raw["type"]
    assert "type" in reason_of(raw)


def test_scrub_drops_name_and_phone_key_variants() -> None:
    # EVENTS.md §1: the applicant's name and phone must never get past ingest. One-stop
    # systems spell these keys in many ways; each of these carries a name or a phone.
    data = {
        "HoTenChuHoSo": "Nguyễn Văn A",  # applicant (ChuHoSo) full name
        "TenChuHoSo": "Nguyễn Văn A",  # applicant (ChuHoSo) name
        "HoVaTenNguoiNop": "Nguyễn Văn A",  # name of the person filing
        "DienThoaiDiDong": "0912345678",  # mobile phone
        "MobilePhone": "0912345678",
        "agency_name": "UBND Phường Việt Trì",
    }
    assert scrub_personal_data(data) == {"agency_name": "UBND Phường Việt Trì"}


def test_no_field_the_project_reads_looks_personal() -> None:
    from schemas.events import DossierEvent
    from schemas.personal import is_personal_key

    ours = list(DossierEvent.model_fields)
    portal = [
        "MaHoSo",
        "MaTTHC",
        "TenTTHC",
        "MaLinhVuc",
        "TenLinhVuc",
        "DonViXuLy",
        "KenhThucHien",
        "NgayTiepNhan",
        "NgayHenTra",
        "NgayKetThucXuLy",
        "NgayTra",
        "TrangThaiHoSo",
        "DanhSachHoSoBoSung",
        "DuocThanhToanTrucTuyen",
        "HoSoCoThanhPhanSoHoa",
        "MucDoDVC",
        "PhiLePhi",
        "CoPhi",
        "NgayYeuCauBoSung",
        "NgayHenTraTruoc",
        "NgayHenTraMoi",
        "NgayTiepNhanBoSung",
    ]
    assert [k for k in ours + portal if is_personal_key(k)] == []


def test_scrub_drops_identity_paper_keys() -> None:
    # SoGiayTo (number of the identity paper) and its kin; SDT is the usual
    # abbreviation of số điện thoại
    data = {
        "SoGiayTo": "001099012345",
        "LoaiGiayToTuyThan": "CCCD",
        "SDT": "0912345678",
        "MaHoSo": "H44.100-260504-0001",
    }
    assert scrub_personal_data(data) == {"MaHoSo": "H44.100-260504-0001"}
