"""Integrity findings (METRICS.md §9) from sequences of portal sync records,
worked by hand: each rewrite kind, and honest changes that raise nothing.

The dossier of tests/unit/ingest/test_sync.py: received Fri 24 May 2024 08:15,
due Fri 31 May 17:00 (working hours 07:00-11:30, 13:30-17:00).
"""

from __future__ import annotations

from datetime import datetime

from ingest.sync import LastRecords, SyncRecord, convert
from schemas.events import DossierEvent, EventType
from streams.rules.integrity import FindingKind, integrity_findings
from streams.rules.lifecycle import Standing, dossier_state
from tests.unit.ingest.test_sync import CAL, DIRECTORY, DOSSIER, local, rec

DUE = "2024-05-31T17:00:00+07:00"


def events_of(*records: tuple[SyncRecord, datetime]) -> list[DossierEvent]:
    store = LastRecords()
    return [e for r, seen_at in records for e in convert([r], store, DIRECTORY, seen_at)]


def found(events: list[DossierEvent]) -> list[tuple[str, str, str, str]]:
    return [
        (f.kind.value, f.observed_at.isoformat(), f.old, f.new)
        for f in integrity_findings(events, CAL)
    ]


def corrected(events: list[DossierEvent]) -> list[tuple[str, str, str]]:
    return [(str(e.field), e.old or "", e.new or "") for e in events if e.type == "corrected"]


def test_reset_overdue_end_set_to_the_due() -> None:
    events = events_of(
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240603100000"), local("2024-06-03T10:05")),
        # the admin "resets overdue": the end becomes the due, and the record is re-sent
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240531170000"), local("2024-06-05T09:00")),
    )
    assert corrected(events) == [("end_at", "2024-06-03T10:00:00+07:00", DUE)]
    observed = "2024-06-05T09:00:00+07:00"
    assert found(events) == [
        # it stood overdue from its due on, with no apology before it
        ("late_without_apology", DUE, DUE, "overdue"),
        ("end_moved_earlier", observed, "2024-06-03T10:00:00+07:00", DUE),
        ("end_set_to_due", observed, "2024-06-03T10:00:00+07:00", DUE),
    ]
    [f] = [f for f in integrity_findings(events, CAL) if f.kind is FindingKind.END_SET_TO_DUE]
    assert f.evidence == (f"{DOSSIER}:corrected:end_at:20240531170000",)
    assert (f.agency_code, f.district_code, f.field_code) == ("H44.100", "H44.D01", "DD")


def test_due_moved_later_once_it_had_passed() -> None:
    events = events_of(
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=4, NgayHenTra="20240607170000"), local("2024-06-03T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240605100000"), local("2024-06-05T10:05")),
    )
    new = "2024-06-07T17:00:00+07:00"
    assert corrected(events) == [("due_at", DUE, new)]
    assert found(events) == [
        ("late_without_apology", DUE, DUE, "overdue"),
        ("due_moved_after_due", "2024-06-03T09:00:00+07:00", DUE, new),
    ]


def test_the_moved_due_is_in_force_from_the_rewrite_on() -> None:
    """As the portal reads the record now: finished 5 Jun before the new due 7 Jun."""
    events = events_of(
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=4, NgayHenTra="20240607170000"), local("2024-06-03T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240605100000"), local("2024-06-05T10:05")),
    )
    overdue = dossier_state(events, local("2024-06-03T08:00"), CAL)
    assert overdue is not None and overdue.standing is Standing.OVERDUE
    final = dossier_state(events, local("2024-06-10T00:00"), CAL)
    assert final is not None and final.standing is Standing.EARLY


def test_a_correction_before_the_due_raises_nothing() -> None:
    events = events_of(
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=4, NgayHenTra="20240607170000"), local("2024-05-30T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240605100000"), local("2024-06-05T10:05")),
    )
    assert corrected(events) == [("due_at", DUE, "2024-06-07T17:00:00+07:00")]
    assert found(events) == []  # moved while in force, finished before the new due


def test_a_supplement_round_that_moves_the_due_raises_nothing() -> None:
    asked = {"NgayYeuCauBoSung": "20240528090000", "NgayHenTraTruoc": "20240531170000"}
    answered = asked | {"NgayTiepNhanBoSung": "20240604080000", "NgayHenTraMoi": "20240606170000"}
    events = events_of(
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=5, DanhSachHoSoBoSung=[asked]), local("2024-05-28T09:05")),
        (
            rec(TrangThaiHoSo=4, NgayHenTra="20240606170000", DanhSachHoSoBoSung=[answered]),
            local("2024-06-04T08:05"),
        ),
        (
            rec(
                TrangThaiHoSo=9,
                NgayHenTra="20240606170000",
                NgayKetThucXuLy="20240605100000",
                DanhSachHoSoBoSung=[answered],
            ),
            local("2024-06-05T10:05"),
        ),
    )
    assert corrected(events) == []
    assert found(events) == []  # the clock stopped before the due; finished early


def test_received_moved() -> None:
    events = events_of(
        (rec(TrangThaiHoSo=4), local("2024-05-27T09:00")),
        (rec(TrangThaiHoSo=4, NgayTiepNhan="20240524101500"), local("2024-05-28T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240529100000"), local("2024-05-29T10:05")),
    )
    received = [e for e in events if e.type is EventType.RECEIVED]
    assert [e.at for e in received] == [local("2024-05-24T08:15")]  # first observed stands
    assert found(events) == [
        (
            "received_moved",
            "2024-05-28T09:00:00+07:00",
            "2024-05-24T08:15:00+07:00",
            "2024-05-24T10:15:00+07:00",
        )
    ]


def test_reopened_once_however_often_the_record_repeats_it() -> None:
    events = events_of(
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240529100000"), local("2024-05-29T10:05")),
        (rec(TrangThaiHoSo=4), local("2024-05-30T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240529100000"), local("2024-05-30T10:00")),
        (rec(TrangThaiHoSo=4), local("2024-05-30T11:00")),
    )
    assert corrected(events) == [("status", "resolved", "processing")]
    assert found(events) == [("reopened", "2024-05-30T09:00:00+07:00", "resolved", "processing")]


def test_each_kind_once_per_dossier_the_first_observed() -> None:
    events = events_of(
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240531100000"), local("2024-05-31T10:05")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240530100000"), local("2024-06-01T09:00")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240529100000"), local("2024-06-02T09:00")),
    )
    assert len(corrected(events)) == 2
    assert found(events) == [
        (
            "end_moved_earlier",
            "2024-06-01T09:00:00+07:00",
            "2024-05-31T10:00:00+07:00",
            "2024-05-30T10:00:00+07:00",
        )
    ]


def _received(**extra: object) -> DossierEvent:
    return DossierEvent.model_validate(
        {
            "event_id": "D-1/0",
            "dossier_id": "D-1",
            "type": "received",
            "at": "2026-03-02T08:00:00+07:00",  # Monday
            "agency_code": "H44.100",
            "agency_name": "UBND Phường Việt Trì",
            "level": "commune",
            "district_code": "H44.D01",
            "district_name": "Thành phố Việt Trì",
            "procedure_code": "1.003003",
            "field_code": "DD",
            "field_name": "Đất đai",
            "channel": "direct",
            "due_at": "2026-03-04T17:00:00+07:00",  # Wednesday
        }
        | extra
    )


def _event(n: int, type_: str, at: str, **extra: object) -> DossierEvent:
    return DossierEvent.model_validate(
        {"event_id": f"D-1/{n}", "dossier_id": "D-1", "type": type_, "at": at} | extra
    )


def test_late_with_an_apology_before_the_due_raises_nothing() -> None:
    apology = _event(1, "extended", "2026-03-04T09:00", due_at="2026-03-06T17:00")
    resolved = _event(2, "resolved", "2026-03-06T10:00")
    assert integrity_findings([_received(), apology, resolved], CAL) == ()
    late_apology = apology.model_copy(update={"at": local("2026-03-05T09:00")})
    [f] = integrity_findings([_received(), late_apology, resolved], CAL)
    assert (f.kind, f.observed_at) == (FindingKind.LATE_WITHOUT_APOLOGY, local("2026-03-04T17:00"))
    assert f.evidence == ("D-1/0",)


def test_late_only_by_two_supplement_rounds_never_became_overdue() -> None:
    rounds = [
        _event(1, "supplement_requested", "2026-03-02T09:00"),
        _event(2, "supplement_received", "2026-03-02T10:00"),
        _event(3, "supplement_requested", "2026-03-02T14:00"),
        _event(4, "supplement_received", "2026-03-02T15:00"),
        _event(5, "resolved", "2026-03-03T10:00"),
    ]
    assert integrity_findings([_received(), *rounds], CAL) == ()


def test_an_open_dossier_is_found_late_at_its_due_and_not_before() -> None:
    [f] = integrity_findings([_received()], CAL)
    assert (f.kind, f.observed_at) == (FindingKind.LATE_WITHOUT_APOLOGY, local("2026-03-04T17:00"))


def test_the_alert_reads_in_vietnamese_with_local_times() -> None:
    from streams.alertmanager import to_alertmanager
    from streams.rules.alerts import description, summary
    from streams.rules.watch import integrity_alert

    events = events_of(
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240603100000"), local("2024-06-03T10:05")),
        (rec(TrangThaiHoSo=9, NgayKetThucXuLy="20240531170000"), local("2024-06-05T09:00")),
    )
    [rewrite] = [f for f in integrity_findings(events, CAL) if f.kind == "end_set_to_due"]
    alert = integrity_alert(rewrite, CAL.tz)
    assert summary(alert, CAL.tz) == f"Hồ sơ {DOSSIER}: Sửa ngày kết thúc bằng ngày hẹn trả"
    assert description(alert, CAL.tz).startswith(
        "Sửa ngày kết thúc bằng ngày hẹn trả: 10:00 03/06/2024 → 17:00 31/05/2024."
    )
    labels = to_alertmanager(alert, CAL.tz)["labels"]
    assert (labels["kind"], labels["dossier_id"], labels["agency"]) == (
        "integrity",
        DOSSIER,
        "H44.100",
    )
    assert alert.key == f"integrity|{DOSSIER}:end_set_to_due"
