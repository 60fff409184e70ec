"""The batch processor without a broker: dedup, reordering, dead letters, scrubbing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson

from schemas.deadletter import DeadLetter
from streams.clickhouse.rows import FACT_COLUMNS, stored_batch
from streams.rules.calendar import WorkingCalendar
from streams.rules.processor import BatchProcessor, Message, decode_history, read_dead_letter

CAL = WorkingCalendar()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DOSSIER = "H44.100-260504-0001"
RECEIVED = {
    "event_id": "r",
    "dossier_id": DOSSIER,
    "type": "received",
    "at": "2026-05-04T09:00:00",
    "agency_code": "H44.100",
    "agency_name": "UBND Phường Việt Trì",
    "level": "commune",
    "district_code": "D01",
    "district_name": "Thành phố Việt Trì",
    "procedure_code": "1.004227",
    "field_code": "DD",
    "field_name": "Đất đai",
    "channel": "online",
    "time_limit": {"value": 3, "unit": "working_days"},
    "SoDienThoai": "0912345678",
}
RESOLVED = {"event_id": "x", "dossier_id": DOSSIER, "type": "resolved", "at": "2026-05-08T10:00:00"}


class DictStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.partitions: dict[str, int] = {}

    def get(self, dossier_id: str) -> bytes | None:
        return self.data.get(dossier_id)

    def put(self, dossier_id: str, history: bytes, message: Message) -> None:
        self.data[dossier_id] = history
        self.partitions[dossier_id] = message.partition


def msg(offset: int, value: object, key: str | None = DOSSIER) -> Message:
    raw = value if value is None or isinstance(value, bytes) else orjson.dumps(value)
    return Message("dossier-events", 0, offset, None if key is None else key.encode(), raw)


def fact(batch, name: str):
    assert len(stored_batch(batch).facts) == 1
    return dict(zip(FACT_COLUMNS, stored_batch(batch).facts[0], strict=True))[name]


def test_out_of_order_events_are_judged_in_time_order() -> None:
    store = DictStore()
    processor = BatchProcessor(CAL, clock=lambda: NOW)
    first = processor.process([msg(0, RESOLVED)], store)
    assert stored_batch(first).facts == []  # nothing received yet: no dossier
    assert first.new_events == 1
    second = processor.process([msg(1, RECEIVED)], store)
    # Mon 05-04 09:00 + 3 working days = Thu 05-07 09:00; resolved Fri 05-08 → late
    assert fact(second, "final_standing") == "late"
    # 09:00 +07:00 on 2026-05-07 in unix seconds
    assert fact(second, "due") == int(datetime(2026, 5, 7, 2, 0, tzinfo=UTC).timestamp())
    assert [e.event_id for e in decode_history(store.data[DOSSIER])] == ["x", "r"]


def test_a_repeated_event_changes_nothing_but_is_stored_again() -> None:
    store = DictStore()
    processor = BatchProcessor(CAL, clock=lambda: NOW)
    once = processor.process([msg(0, RECEIVED), msg(1, RESOLVED)], store)
    again = processor.process([msg(2, RESOLVED), msg(3, RECEIVED)], store)
    assert (again.new_events, again.duplicates) == (0, 2)
    assert (
        stored_batch(once).facts == stored_batch(again).facts
    )  # same row: same version, same content
    assert len(decode_history(store.data[DOSSIER])) == 2


def test_bad_messages_become_dead_letters_and_the_rest_flows() -> None:
    store = DictStore()
    processor = BatchProcessor(CAL, clock=lambda: NOW)
    future = {**RESOLVED, "event_id": "f", "at": "2026-06-03T10:00:00+07:00"}
    batch = processor.process(
        [
            msg(0, b'{"ChuHoSo": "Tr\xe1\xba\xa7n PLANTED", "type": '),  # broken JSON
            msg(1, RECEIVED),
            msg(2, {**RESOLVED, "type": "approved"}),
            msg(3, RESOLVED, key="another-dossier"),
            msg(4, future),
            msg(5, None),
        ],
        store,
    )
    reasons = {
        int(letter.dead_letter_id.split(":")[-1]): letter.reason for letter in batch.dead_letters
    }
    assert set(reasons) == {0, 2, 3, 4, 5}
    assert reasons[0].startswith("not valid JSON")
    assert reasons[2].startswith("type: Input should be")
    assert "is not the dossier_id" in reasons[3]
    assert "more than a day in the future" in reasons[4]
    assert reasons[5] == "empty message (no value)"
    assert batch.dead_letters[0].dead_letter_id == "dossier-events:0:0"
    assert batch.dead_letters[0].source == "dossier-events"
    assert all("PLANTED" not in letter.original for letter in batch.dead_letters)
    # broken JSON keeps its size and hash only: 38 bytes ("Trần" is 6 in UTF-8)
    broken = orjson.loads(batch.dead_letters[0].original)
    assert broken == {
        "bytes": 38,
        "sha256": hashlib.sha256(b'{"ChuHoSo": "Tr\xe1\xba\xa7n PLANTED", "type": ').hexdigest(),
        "kind": "not JSON",
    }
    # an object keeps the contract's fields: the type the reason names is there
    approved = orjson.loads(batch.dead_letters[1].original)
    assert approved["fields"]["type"] == "approved" and approved["omitted"] == 0
    assert fact(batch, "final_standing") == ""  # received, not finished: still flows
    assert stored_batch(batch).progress[0][:4] == ("dossier-events", 0, 0, 5)  # epoch 0, offset 5


def test_dead_letter_topic_messages_are_read_or_become_letters() -> None:
    good = DeadLetter.of("replay:a.jsonl:3", NOW, "replay", "not valid JSON", b"x")
    hostile = good.model_copy(update={"original": '{"Email": "planted@example.com"}'})
    read = read_dead_letter(Message("dlq", 1, 7, None, hostile.to_bytes()), NOW)
    assert (read.dead_letter_id, read.reason) == ("replay:a.jsonl:3", "not valid JSON")
    assert "planted" not in read.original  # summarised again on the way in
    assert orjson.loads(read.original)["fields"] == {}  # Email is no contract field
    assert orjson.loads(read.original)["omitted"] == 1
    again = read_dead_letter(Message("dlq", 1, 9, None, read.to_bytes()), NOW)
    assert again.original == read.original  # a summary read again stays as it is
    junk = read_dead_letter(Message("dlq", 1, 8, None, b"\xff junk"), NOW)
    assert junk.dead_letter_id == "dlq:1:8"
    assert junk.reason.startswith("unreadable dead letter")


def test_personal_data_is_in_no_row() -> None:
    store = DictStore()
    batch = BatchProcessor(CAL, clock=lambda: NOW).process([msg(0, RECEIVED)], store)
    rows = repr(stored_batch(batch).facts) + repr(stored_batch(batch).raw_events) + repr(store.data)
    assert "0912345678" not in rows
    assert "SoDienThoai" not in rows


def test_a_stored_history_takes_about_its_length_in_memory() -> None:
    # the state target is 1.5 KB per open dossier (DESIGN.md); orjson's output
    # alone used to keep an ~8 KB buffer per history
    import tracemalloc

    from streams.rules.processor import encode_history
    from tests.unit.helpers import ev, t

    history = [ev("received", t(2026, 5, 4, 8))]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = [encode_history(history) for _ in range(200)]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown / len(kept) < 2 * len(kept[0])


def test_stored_history_roundtrips_and_names_each_field_once() -> None:
    from schemas.events import DossierEvent
    from streams.rules.processor import HISTORY_FIELDS, encode_history

    assert set(HISTORY_FIELDS) == set(DossierEvent.model_fields) - {"dossier_id"}
    received = DossierEvent.model_validate(RECEIVED)
    resolved = DossierEvent.model_validate(RESOLVED)
    own_id = resolved.model_copy(update={"event_id": DOSSIER + "/resolved/1"})
    history = [received, resolved, own_id]
    stored = encode_history(history)
    assert decode_history(stored) == history
    assert stored.count(DOSSIER.encode()) == 1  # once, not per event nor in event_ids
    assert b'"agency_name"' not in stored
    # smaller than the events' own JSON objects, which it replaced
    plain = orjson.dumps([e.model_dump(mode="json", exclude_none=True) for e in history])
    assert len(stored) < 0.7 * len(plain)


def test_state_stored_as_json_objects_still_reads() -> None:
    # format 1: state written by workers before the compact format
    old = orjson.dumps([{k: v for k, v in RECEIVED.items() if k != "SoDienThoai"}, RESOLVED])
    assert [e.event_id for e in decode_history(old)] == ["r", "x"]
    assert decode_history(old)[0].agency_name == "UBND Phường Việt Trì"
