"""Dead letters by allow-list (schemas/contract.py, schemas/redact.py,
schemas/deadletter.py): a rejected input keeps its length, its SHA-256 and,
for a JSON object, only the contract's fields, bounded; reasons never carry
the input's values. Expected values are worked out by hand."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson
import pytest

from ingest.sync import HISTORY_KEY, SupplementRound, SyncRecord, parse_records
from schemas.contract import KEPT_FIELDS
from schemas.deadletter import MAX_ID, DeadLetter
from schemas.events import DossierEvent, InvalidEvent, parse_event
from schemas.personal import is_personal_key
from schemas.redact import MAX_TEXT, described, resummarised, summary, summary_text

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SHA_OF_X = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"  # sha256(b"x")
UNLISTED = {
    "SoCanCuoc": "001099000111",
    "NguoiDaiDien": "PLANTED Representative",
    "MaSoThue": "0109999999",
    "TenNguoiYeuCau": "PLANTED Requester",
    "SoBHXH": "0199999999",
}


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def test_size_and_hash_name_the_input() -> None:
    assert summary(b"x") == {"bytes": 1, "sha256": SHA_OF_X, "kind": "not JSON"}
    assert described(b"x") == f"1 bytes, sha256 {SHA_OF_X}"


def test_an_object_keeps_only_contract_fields_and_counts_the_rest() -> None:
    raw = orjson.dumps(
        {
            "MaHoSo": "H44.100-260504-0001",
            "TrangThaiHoSo": 11,
            "ChuHoSo": {"HoTen": "PLANTED Name", "NgaySinh": "1990-01-01"},  # nested name
            "SoDienThoai": ["0900000001", "0900000002"],  # the second item a phone too
            "DiaChi": {"SoNha": "PLANTED 12", "Xa": "Phường X"},
            **UNLISTED,
        }
    )
    assert summary(raw) == {
        "bytes": len(raw),
        "sha256": _sha(raw),
        "kind": "object",
        "fields": {"MaHoSo": "H44.100-260504-0001", "TrangThaiHoSo": 11},
        "omitted": 3 + 5,
    }


def test_a_nested_value_under_a_kept_key_is_described_never_shown() -> None:
    raw = orjson.dumps(
        {
            "DanhSachHoSoBoSung": [{"SoDienThoai": "0900000003"}, {"NgayHenTraMoi": "x"}],
            "time_limit": {"value": 3, "unit": "PLANTED"},
            "TenTTHC": "Đ" * 300,
            "KenhThucHien": None,
            "fee_due": True,
            "CoPhi": 1.5,
        }
    )
    fields = summary(raw)["fields"]
    assert fields == {
        "CoPhi": 1.5,
        "DanhSachHoSoBoSung": "list of 2 items",
        "KenhThucHien": None,
        "TenTTHC": "Đ" * MAX_TEXT + "…",
        "fee_due": True,
        "time_limit": "object of 2 keys",
    }


def test_keys_are_decoded_by_the_json_parser() -> None:
    # "\u0043huHoSo" is ChuHoSo: not a contract field, dropped like any other key
    valid = b'{"MaHoSo": "H44.1-1", "\\u0043huHoSo": "PLANTED Escaped"}'
    assert summary(valid)["fields"] == {"MaHoSo": "H44.1-1"}
    assert summary(valid)["omitted"] == 1
    # a key that spells a kept field with an escape is that field
    assert summary(b'{"\\u004daHoSo": "H44.1-2"}')["fields"] == {"MaHoSo": "H44.1-2"}
    # broken JSON keeps nothing of its text, whatever it looks like
    broken = b'{"MaHoSo": "H44.1-3", "\\u0043huHoSo": "PLANTED Escaped", '
    assert summary(broken) == {"bytes": len(broken), "sha256": _sha(broken), "kind": "not JSON"}


@pytest.mark.parametrize(
    ("raw", "kind", "extra"),
    [
        (b'["PLANTED", {"ChuHoSo": "PLANTED"}, 3]', "array", {"items": 3}),
        (b'"PLANTED 0900000004"', "string", {}),
        (b"900000005", "number", {}),  # (a leading 0 is not JSON)
        (b"true", "boolean", {}),
        (b"null", "null", {}),
        (b"\xffPLANTED", "not UTF-8", {}),
        (b"  \n", "empty", {}),
    ],
)
def test_anything_but_an_object_keeps_size_hash_and_kind(raw: bytes, kind: str, extra) -> None:
    assert summary(raw) == {"bytes": len(raw), "sha256": _sha(raw), "kind": kind, **extra}


def test_no_input_is_empty() -> None:
    assert summary(None) == {"bytes": 0, "sha256": _sha(b""), "kind": "empty"}


def test_a_summary_summarised_again_is_the_same_and_anything_else_is_raw_input() -> None:
    raw = orjson.dumps({"MaHoSo": "H44.1-1", "Email": "planted@example.vn", "TenTTHC": "T" * 500})
    once = summary_text(raw)
    assert resummarised(once) == once
    # text a foreign producer put in `original` is summarised as an input
    foreign = '{"MaHoSo": "H44.1-1", "Email": "planted@example.vn"}'
    assert orjson.loads(resummarised(foreign)) == {
        "bytes": len(foreign),
        "sha256": _sha(foreign.encode()),
        "kind": "object",
        "fields": {"MaHoSo": "H44.1-1"},
        "omitted": 1,
    }
    # a summary-shaped text with personal fields inside loses them too
    forged = orjson.dumps(
        {"bytes": 3, "sha256": SHA_OF_X, "kind": "object", "fields": {"ChuHoSo": "PLANTED"}}
    ).decode()
    assert orjson.loads(resummarised(forged))["fields"] == {}
    assert orjson.loads(resummarised(forged))["omitted"] == 1
    assert "PLANTED" not in resummarised("PLANTED free text")


def test_the_allow_list_covers_what_ingest_reads_and_nothing_personal() -> None:
    portal = {f.alias for f in SyncRecord.model_fields.values()} - {HISTORY_KEY}
    rounds = {f.alias for f in SupplementRound.model_fields.values()}
    assert set(DossierEvent.model_fields) | portal | rounds <= KEPT_FIELDS
    assert [k for k in KEPT_FIELDS if is_personal_key(k)] == []
    assert "DuongDanTepTinKetQua" not in KEPT_FIELDS  # links the applicant's result document
    for key in UNLISTED:  # the second line, for accepted input and table mappings
        assert is_personal_key(key), key


def test_reasons_name_fields_and_errors_never_values() -> None:
    event = {
        "event_id": "e",
        "dossier_id": "PLANTED-0900000006",
        "type": "PLANTED 0900000007",
        "at": "PLANTED 0900000008",
        "agency_name": 900000009,  # not text
        "time_limit": {"value": 1, "unit": "days", "0900000010": "x"},  # a value as key
    }
    with pytest.raises(InvalidEvent) as caught:
        parse_event(orjson.dumps(event))
    reason = caught.value.reason
    assert "type: Input should be 'received'" in reason
    assert "at: not an ISO 8601 date-time" in reason
    assert "agency_name: Input should be a valid string" in reason
    assert "time_limit.(unlisted key): Extra inputs are not permitted" in reason
    assert "PLANTED" not in reason and "09000000" not in reason
    _, bad = parse_records(
        orjson.dumps({"MaHoSo": "PLANTED0900000011", "TrangThaiHoSo": "PLANTED", "NgayTra": "x"})
    )
    assert bad == [
        (
            0,
            "MaHoSo: no unit code before the first '-'; NgayTra: expected yyyyMMddHHmmss "
            "local time; TrangThaiHoSo: expected a status 1-10",
        )
    ]
    with pytest.raises(InvalidEvent) as caught:
        parse_event(b'{"event_id": "PLANTED 0900000012"')
    assert (
        caught.value.reason == "not valid JSON: unexpected end of data at line 1 column 34"
    )  # 33 characters, then the end


def test_a_dead_letter_bounds_its_id_source_and_reason() -> None:
    long_a, long_b = (
        "ingest file:/" + "a" * 400 + "/1.json:1",
        "ingest file:/" + "a" * 400 + "/2.json:1",
    )
    a = DeadLetter.of(long_a, NOW, "s" * 500, "r" * 5000, b"x")
    b = DeadLetter.of(long_b, NOW, "s", "r", b"x")
    assert len(a.dead_letter_id) == len(b.dead_letter_id) == MAX_ID
    assert a.dead_letter_id != b.dead_letter_id  # still distinct: a hash of the whole
    assert a.dead_letter_id.startswith("ingest file:/aaa")
    assert (len(a.source), len(a.reason)) == (100, 1000)
    assert orjson.loads(a.original) == {"bytes": 1, "sha256": SHA_OF_X, "kind": "not JSON"}
    short = DeadLetter.of("replay:f.jsonl:2", NOW, "replay", "why", None)
    assert short.dead_letter_id == "replay:f.jsonl:2"
