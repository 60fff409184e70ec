"""A planned dossier as canonical events (EVENTS.md §1) or as the sync records
a provincial system would push to the national portal (EVENTS.md §2).

Canonical events carry no personal data. Sync records carry, unless turned
off, planted personal fields with obviously fake values (so tests can check
ingest drops them) and `NgayDongBo`: when the record was observed, which a
consumer passes to `ingest.sync.convert` as `seen_at` (unknown keys are
ignored by the record parser, so the line stays a valid DongBoHoSoMC record).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from ingest.simulator.dossiers import Dossier, Finish, Refused, Stop, StopKind
from schemas.events import Channel, DossierEvent, EventType

SOURCE = "simulator"
SEEN_AT_KEY = "NgayDongBo"
TIME_FORMAT = "%Y%m%d%H%M%S"
_CHANNEL_CODE = {Channel.DIRECT: 1, Channel.ONLINE: 2, Channel.POSTAL: 3}
_SERVICE_LEVEL = {"full": 4, "partial": 3, "none": 2}  # MucDoDVC
_FINISH_STATUS = {Finish.RESOLVED: 9, Finish.WITHDRAWN: 7, Finish.REJECTED: 8}
_FINISH_EVENT = {
    Finish.RESOLVED: EventType.RESOLVED,
    Finish.WITHDRAWN: EventType.WITHDRAWN,
    Finish.REJECTED: EventType.REJECTED,
}


# --- canonical events ------------------------------------------------------------


def _event(d: Dossier, kind: EventType, n: int, at: datetime, **fields: Any) -> DossierEvent:
    return DossierEvent(
        event_id=f"{d.dossier_id}/{kind.value}/{n}",
        dossier_id=d.dossier_id,
        type=kind,
        at=at,
        source=SOURCE,
        **fields,
    )


def _received(d: Dossier) -> DossierEvent:
    a, unit, proc = d.arrival, d.arrival.unit, d.arrival.procedure
    commune_code, commune_name = unit.commune or (None, None)
    return _event(
        d,
        EventType.RECEIVED,
        0,
        a.received_at,
        agency_code=unit.code,
        agency_name=unit.name,
        level=unit.level,
        district_code=unit.district_code,
        district_name=unit.district_name,  # from 1 July 2025: the commune's area
        commune_code=commune_code,
        commune_name=commune_name,
        procedure_code=proc.code,
        procedure_name=proc.name,
        field_code=proc.field_code,
        field_name=proc.field_name,
        channel=a.channel,
        online_level=proc.online_level,
        due_at=d.due,
        time_limit=proc.limit,
        fee_due=d.fee_due,
        paid_online=d.paid_online_at == a.received_at,
        digitized=d.digitized,
        components_digitized=d.components_digitized,
        # as ingest reads a record: HoSoCoThanhPhanSoHoa = 1 or a DuocSoHoa component
        reused_digitized_data=d.digitized or d.reused,
        from_personal_store=d.personal_store,
        vneid_verified=d.vneid_verified,
    )


def _stop_events(d: Dossier, stop: Stop) -> list[DossierEvent]:
    asked, answered = (
        (EventType.SUPPLEMENT_REQUESTED, EventType.SUPPLEMENT_RECEIVED)
        if stop.kind is StopKind.SUPPLEMENT
        else (EventType.PAYMENT_REQUESTED, EventType.PAYMENT_RECEIVED)
    )
    events = [_event(d, asked, stop.number, stop.start)]
    if stop.end is not None:
        paid = stop.kind is StopKind.PAYMENT and d.paid_online_at == stop.end
        extra = {"paid_online": True} if paid else {}
        events.append(_event(d, answered, stop.number, stop.end, **extra))
    return events


def events_of(d: Dossier) -> list[DossierEvent]:
    """Every event of the dossier's whole life, in time order."""
    events = [_received(d)]
    events += [_event(d, EventType.TRANSFERRED, n, at) for n, at in enumerate(d.transfers, 1)]
    for stop in d.stops:
        events += _stop_events(d, stop)
    if d.extended is not None:
        at, promised = d.extended
        events.append(_event(d, EventType.EXTENDED, 1, at, due_at=promised))
    if d.finish is not None and d.end_at is not None:
        result = {"electronic_result": True} if d.electronic_result else {}
        events.append(_event(d, _FINISH_EVENT[d.finish], 0, d.end_at, **result))
    if d.returned_at is not None:
        events.append(_event(d, EventType.RETURNED, 0, d.returned_at))
    if d.complaint_at is not None:
        events.append(_event(d, EventType.COMPLAINT, 1, d.complaint_at))
    return sorted(events, key=lambda e: e.at)


# --- sync records ----------------------------------------------------------------


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime(TIME_FORMAT)


def personal_fields(dossier_id: str) -> dict[str, str]:
    """Obviously fake applicant data, stable per dossier."""
    n = zlib.crc32(dossier_id.encode()) % 10**6
    return {
        "ChuHoSo": f"[GIẢ LẬP] Nguyễn Văn Thử {n:06d}",
        "SoCMND": f"000000{n:06d}",
        "SoGiayTo": f"GL-{n:06d}",
        "SoDienThoai": f"0900{n:06d}",
        "Email": f"gia-lap-{n:06d}@example.invalid",
        "DiaChi": f"Số 0 đường Giả Lập, tổ {n % 50}",
    }


def _base(a: Any, personal: bool) -> dict[str, Any]:
    proc, unit = a.procedure, a.unit
    record = {
        "MaHoSo": a.dossier_id,
        "MaTTHC": proc.code,
        "TenTTHC": proc.name,
        "MaLinhVuc": proc.field_code,
        "TenLinhVuc": proc.field_name,
        "DonViXuLy": unit.name,
        "KenhThucHien": _CHANNEL_CODE[a.channel],
        "MucDoDVC": _SERVICE_LEVEL[proc.online_level.value],
        "CoPhi": int(proc.fee),
    }
    return record | personal_fields(a.dossier_id) if personal else record


def _round(stop: Stop, t: datetime) -> dict[str, str]:
    answered = stop.end is not None and stop.end <= t
    return {
        "NgayYeuCauBoSung": _time(stop.start),
        "NgayHenTraTruoc": _time(stop.due_before),
        "NgayTiepNhanBoSung": _time(stop.end if answered else None),
        "NgayHenTraMoi": _time(stop.due_after if answered else None),
    }


def _status(d: Dossier, t: datetime) -> int:
    """TrangThaiHoSo of the dossier just after `t`."""
    if d.returned_at is not None and d.returned_at <= t:
        return 10
    if d.finish is not None and d.end_at is not None and d.end_at <= t:
        return _FINISH_STATUS[d.finish]
    for stop in d.stops:
        if stop.start <= t and (stop.end is None or t < stop.end):
            return 5 if stop.kind is StopKind.SUPPLEMENT else 6
    if any(at <= t for at in d.transfers) or any(s.start <= t for s in d.stops):
        return 4
    return 2


def _due_in_force(d: Dossier, t: datetime) -> datetime:
    due = d.due
    for stop in d.stops:
        if stop.start <= t:
            answered = stop.end is not None and stop.end <= t
            due = stop.due_after if answered and stop.due_after else stop.due_before
    return due


def record_at(d: Dossier, t: datetime, personal: bool) -> dict[str, Any]:
    """The dossier's DongBoHoSoMC record as it stands just after `t` (t >= receipt)."""
    ended = d.end_at is not None and d.end_at <= t
    returned = d.returned_at is not None and d.returned_at <= t
    paid = d.paid_online_at is not None and d.paid_online_at <= t
    return (
        _base(d.arrival, personal)
        | {
            "NgayTiepNhan": _time(d.received_at),
            "NgayHenTra": _time(_due_in_force(d, t)),
            "NgayKetThucXuLy": _time(d.end_at if ended else None),
            "NgayTra": _time(d.returned_at if returned else None),
            "TrangThaiHoSo": _status(d, t),
            "DanhSachHoSoBoSung": [
                _round(s, t) for s in d.stops if s.kind is StopKind.SUPPLEMENT and s.start <= t
            ],
            "DuocThanhToanTrucTuyen": 2 if paid else 0,
            "HoSoCoThanhPhanSoHoa": int(d.digitized),
            "TaiLieuNop": _components(d),
            "TaiKhoanDuocXacThucVoiVNeID": int(d.vneid_verified),
        }
        | (_result(d) if ended else {})
    )


def _components(d: Dossier) -> list[dict[str, Any]]:
    """The submitted components as TaiLieuNop lists them (names of documents, no
    personal data; a made-up file link where one was digitized)."""
    form = {"TenGiayTo": "Tờ khai theo mẫu", "DuocSoHoa": int(d.reused),
            "DuocLayTuKhoDMQG": int(d.personal_store)}  # fmt: skip
    if d.components_digitized:
        form["TepDinhKem"] = f"simulator://{d.dossier_id}/to-khai.pdf"
    return [form, {"TenGiayTo": "Giấy tờ kèm theo", "DuocSoHoa": 0, "DuocLayTuKhoDMQG": 0}]


def _result(d: Dossier) -> dict[str, str]:
    """MaKetQua and DuongDanTepTinKetQua once an electronic result is issued."""
    if not d.electronic_result:
        return {}
    return {
        "MaKetQua": f"KQ-{d.dossier_id}",
        "DuongDanTepTinKetQua": f"simulator://{d.dossier_id}/ket-qua.pdf",
    }


def _changes(d: Dossier) -> list[datetime]:
    moments = [d.received_at, *d.transfers]
    for stop in d.stops:
        moments += [stop.start] + ([stop.end] if stop.end is not None else [])
    moments += [m for m in (d.end_at, d.returned_at) if m is not None]
    return sorted(set(moments))


def _unreceived(a: Any, status: int, t: datetime, personal: bool) -> dict[str, Any]:
    return _base(a, personal) | {
        "NgayTiepNhan": "",
        "NgayHenTra": "",
        "TrangThaiHoSo": status,
        SEEN_AT_KEY: _time(t),
    }


def records_of(item: Dossier | Refused, personal: bool) -> list[tuple[datetime, dict[str, Any]]]:
    """(observed at, record) for each change of the dossier's whole life, in order."""
    a = item.arrival
    out = []
    if a.submitted_at is not None:
        out.append((a.submitted_at, _unreceived(a, 1, a.submitted_at, personal)))
    if isinstance(item, Refused):
        return [*out, (item.refused_at, _unreceived(a, 3, item.refused_at, personal))]
    previous = None
    for t in _changes(item):
        record = record_at(item, t, personal)
        if record != previous:  # one snapshot per observed change
            out.append((t, record | {SEEN_AT_KEY: _time(t)}))
        previous = record
    return out
