"""One batch of dossier-event messages → the rows to store and the dead letters.

No broker and no ClickHouse here: the faust agent hands in messages and a
per-dossier store, and takes back a SinkBatch. A dossier's whole known
history is kept (deduplicated by event_id) so that out-of-order events are
applied in `at` order and a late event re-judges the dossier correctly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import orjson

from schemas.events import DossierEvent, InvalidEvent, parse_event
from schemas.personal import is_personal_key, scrub_personal_data
from streams.calendar import WorkingCalendar
from streams.facts import DossierFacts, dossier_facts
from streams.sink import SinkBatch
from streams.store import dead_letter_row, fact_row, raw_event_row, stored_time

MAX_ORIGINAL = 64_000  # bytes of a rejected message kept for the record


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class DossierStore(Protocol):
    """Per-dossier history (encoded), partitioned like the events topic."""

    def get(self, dossier_id: str) -> bytes | None: ...

    def put(self, dossier_id: str, history: bytes, message: Message) -> None: ...


def encode_history(events: Sequence[DossierEvent]) -> bytes:
    return orjson.dumps([e.model_dump(mode="json", exclude_none=True) for e in events])


def decode_history(data: bytes | None) -> list[DossierEvent]:
    if not data:
        return []
    return [DossierEvent.model_validate(item) for item in orjson.loads(data)]


# "key": value pairs in text that is not valid JSON, for scrubbing by key name
_PAIR = re.compile(rb'"([^"\\]{1,80})"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')


def scrubbed_original(value: bytes | None) -> str:
    """The rejected message as text, without personal data, bounded in size."""
    if value is None:
        return ""
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        data = None

    def redact(match: re.Match[bytes]) -> bytes:
        key = match[1].decode("utf-8", "replace")
        return match[0] if not is_personal_key(key) else b'"' + match[1] + b'": "[removed]"'

    if isinstance(data, dict):
        text = orjson.dumps(scrub_personal_data(data))
    else:
        text = _PAIR.sub(redact, value)
    return text[:MAX_ORIGINAL].decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    dead_letter_id: str  # topic:partition:offset, so a redelivery is the same letter
    message: Message
    reason: str
    original: str

    def as_json(self, source: str) -> bytes:
        m = self.message
        return orjson.dumps(
            {
                "dead_letter_id": self.dead_letter_id,
                "source": source,
                "topic": m.topic,
                "partition": m.partition,
                "offset": m.offset,
                "reason": self.reason,
                "original": self.original,
            }
        )


@dataclass
class ProcessedBatch:
    sink: SinkBatch
    dead_letters: list[DeadLetter] = field(default_factory=list)
    facts: list[DossierFacts] = field(default_factory=list)
    new_events: int = 0
    duplicates: int = 0


class BatchProcessor:
    def __init__(
        self,
        calendar: WorkingCalendar,
        source: str = "dossier-events",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.calendar = calendar
        self.source = source
        self.clock = clock

    def _parse(self, m: Message, now: datetime) -> DossierEvent:
        if m.value is None:
            raise InvalidEvent("empty message (no value)")
        event = parse_event(m.value, now=now)
        key = m.key.decode("utf-8", "replace") if m.key is not None else None
        if key != event.dossier_id:
            # a wrong key puts the dossier's events on another partition,
            # splitting its state: refuse rather than judge half a history
            raise InvalidEvent(f"message key {key!r} is not the dossier_id {event.dossier_id!r}")
        return event

    def process(self, messages: Sequence[Message], store: DossierStore) -> ProcessedBatch:
        now = self.clock()
        out = ProcessedBatch(SinkBatch())
        histories: dict[str, list[DossierEvent]] = {}
        last_message: dict[str, Message] = {}
        progress: dict[tuple[str, int], int] = {}
        for m in messages:
            progress[(m.topic, m.partition)] = max(
                progress.get((m.topic, m.partition), -1), m.offset
            )
            try:
                event = self._parse(m, now)
            except InvalidEvent as exc:
                letter = DeadLetter(
                    f"{m.topic}:{m.partition}:{m.offset}", m, exc.reason, scrubbed_original(m.value)
                )
                out.dead_letters.append(letter)
                out.sink.dead_letters.append(
                    dead_letter_row(
                        letter.dead_letter_id, now, self.source, letter.reason, letter.original
                    )
                )
                continue
            history = histories.get(event.dossier_id)
            if history is None:
                history = histories[event.dossier_id] = decode_history(store.get(event.dossier_id))
            last_message[event.dossier_id] = m
            if any(e.event_id == event.event_id for e in history):
                out.duplicates += 1  # stored again below: harmless, and closes crash gaps
            else:
                history.append(event)
                out.new_events += 1
            out.sink.raw_events.append(raw_event_row(event, now))
        for dossier_id, history in histories.items():
            store.put(dossier_id, encode_history(history), last_message[dossier_id])
            facts = dossier_facts(history, self.calendar)
            if facts is not None:
                out.facts.append(facts)
                out.sink.facts.append(fact_row(facts, now))
        out.sink.progress = [(t, p, o, stored_time(now)) for (t, p), o in progress.items()]
        return out
