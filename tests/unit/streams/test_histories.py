"""The worker's history cache in front of raw_events (no ClickHouse)."""

from __future__ import annotations

from schemas.events import DossierEvent
from streams.histories import DossierHistories
from streams.rules.processor import decode_history, encode_history

RECEIVED = DossierEvent.model_validate(
    {
        "event_id": "A-r", "dossier_id": "A", "type": "received", "at": "2026-05-04T09:00:00",
        "agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì", "level": "commune",
        "district_code": "D01", "district_name": "Thành phố Việt Trì",
        "procedure_code": "1.004227", "field_code": "DD", "field_name": "Đất đai",
        "channel": "online",
    }
)  # fmt: skip
RESOLVED = DossierEvent.model_validate(
    {"event_id": "A-x", "dossier_id": "A", "type": "resolved", "at": "2026-05-05T09:00:00"}
)


def test_only_known_dossiers_not_cached_are_read() -> None:
    h = DossierHistories()
    h.load_known(["A", "B"])
    h.put("B", encode_history([RECEIVED]))
    assert h.to_read(["A", "B", "C"]) == ["A"]  # B cached, C has nothing stored


def test_a_dossier_stored_by_this_worker_becomes_known() -> None:
    h = DossierHistories()
    h.load_known([])
    h.put("C", encode_history([RECEIVED]))
    h.drop(["C"])  # finished: out of memory, still known
    assert h.get("C") is None and h.to_read(["C"]) == ["C"]


def test_read_payloads_fill_the_cache() -> None:
    h = DossierHistories()
    rows = [("A", RECEIVED.model_dump_json()), ("A", RESOLVED.model_dump_json())]
    h.fill(["A", "Z"], rows)
    assert decode_history(h.get("A")) == [RECEIVED, RESOLVED]
    assert h.get("Z") is None  # nothing stored: stays new


def test_the_cache_keeps_the_most_recent_dossiers_within_its_bound() -> None:
    h = DossierHistories(max_cached=2)
    for dossier_id in "ABC":
        h.put(dossier_id, b"x")
    h.put("A", b"y")  # judged again: most recent
    h.drop([])
    assert len(h) == 2 and h.get("B") is None and h.get("A") == b"y"


def test_clear_forgets_what_other_workers_may_change() -> None:
    h = DossierHistories()
    h.load_known(["A"])
    h.put("A", b"x")
    h.clear()
    assert not h.known_loaded and h.get("A") is None and h.to_read(["A"]) == []


def test_decoded_histories_are_kept_up_to_their_bound_then_packed() -> None:
    h = DossierHistories(max_cached=10, max_decoded=2)
    other = RECEIVED.model_copy(update={"dossier_id": "B", "event_id": "B-r"})
    h.keep("A", [RECEIVED, RESOLVED])
    h.keep("B", [other])
    assert h.events("A") == [RECEIVED, RESOLVED] and isinstance(h._cached["A"], list)
    h.keep("C", [other.model_copy(update={"dossier_id": "C", "event_id": "C-r"})])
    assert isinstance(h._cached["A"], bytes)  # the oldest decoded one is packed
    assert h.events("A") == [RECEIVED, RESOLVED] and decode_history(h.get("B")) == [other]
    assert list(h._cached) == ["A", "B", "C"]  # packing keeps the recency order
    h.drop(["B"])
    assert h.get("B") is None and "B" not in h._decoded and h.to_read(["B"]) == ["B"]
    h.clear()
    assert len(h) == 0 and not h._decoded


def test_the_processor_keeps_decoded_histories_in_the_cache() -> None:
    import orjson

    from streams.rules.calendar import WorkingCalendar
    from streams.rules.processor import BatchProcessor, Message

    def msg(offset: int, event: DossierEvent) -> Message:
        return Message("t", 0, offset, b"A", orjson.dumps(event.model_dump(mode="json")))

    h = DossierHistories(max_decoded=1)
    p = BatchProcessor(WorkingCalendar())
    p.process([msg(0, RECEIVED)], h)
    assert h.events("A") == [RECEIVED]
    out = p.process([msg(1, RESOLVED), msg(2, RESOLVED)], h)
    assert out.new_events == 1 and out.duplicates == 1
    assert h.events("A") == [RECEIVED, RESOLVED] == decode_history(h.get("A"))
    assert out.facts[0].end_at == RESOLVED.at
