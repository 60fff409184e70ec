"""One batch of dossier-event messages → what to store and the dead letters.

No broker and no ClickHouse here: the faust agent hands in messages and a
per-dossier store, and takes back a ProcessedBatch (the accepted events,
the dossiers' facts, the partitions' progress), which the ClickHouse
package encodes into rows (`streams.clickhouse.rows.stored_batch`). A dossier's whole known
history is kept (deduplicated by event_id) so that out-of-order events are
applied in `at` order and a late event re-judges the dossier correctly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from sys import intern
from typing import Protocol

import orjson
from pydantic import ValidationError

from schemas.deadletter import DeadLetter
from schemas.events import (
    Channel,
    CorrectedField,
    DossierEvent,
    EventType,
    InvalidEvent,
    Level,
    OnlineLevel,
    TimeLimit,
    describe_errors,
    parse_event,
    shared_time_limit,
)
from schemas.redact import resummarised
from streams.rules.calendar import WorkingCalendar
from streams.rules.facts import DossierFacts, dossier_facts
from streams.rules.positions import ContiguousProgress


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class DossierStore(Protocol):
    """Per-dossier history (encoded), partitioned like the events topic.

    A store may also offer `events(dossier_id) -> list[DossierEvent]` and
    `keep(dossier_id, events, message)`, the same with decoded histories:
    then the processor uses those (streams.histories.DossierHistories)."""

    def get(self, dossier_id: str) -> bytes | None: ...

    def put(self, dossier_id: str, history: bytes, message: Message) -> None: ...


# Stored history format 2: [2, dossier_id, event, ...], each event a list of
# its values in this order (trailing nulls dropped) and its event_id as
# [suffix] when it starts with the dossier_id. Field names and the dossier_id
# are then stored once, not per event: 626 → ~330 B for a receipt. The order
# is part of the stored format: new fields go at the end.
HISTORY_FORMAT = 2
HISTORY_FIELDS = (
    "event_id", "type", "at", "agency_code", "agency_name", "level", "district_code",
    "district_name", "procedure_code", "procedure_name", "field_code", "field_name",
    "channel", "online_level", "due_at", "time_limit", "fee_due", "paid_online",
    "digitized", "source", "field", "old", "new",
    # METRICS.md §7-8 (issue #16): appended, so histories stored before still decode
    "commune_code", "commune_name", "electronic_result", "components_digitized",
    "reused_digitized_data", "from_personal_store", "vneid_verified",
)  # fmt: skip


_EVENT_ID = HISTORY_FIELDS.index("event_id")
_TIME_LIMIT = HISTORY_FIELDS.index("time_limit")


def _packed(event: DossierEvent) -> list:
    # the attributes as they are: orjson writes datetimes (RFC 3339, with
    # their offset) and the enums (their values) itself, as model_dump(mode="json")
    # did at 5× the cost; only the TimeLimit and the event_id need a hand
    fields = event.__dict__
    values = [fields[name] for name in HISTORY_FIELDS]
    dossier_id = fields["dossier_id"]
    if values[_EVENT_ID].startswith(dossier_id):
        values[_EVENT_ID] = [values[_EVENT_ID][len(dossier_id) :]]
    limit = values[_TIME_LIMIT]
    if limit is not None:
        values[_TIME_LIMIT] = {"value": limit.value, "unit": limit.unit}
    while values[-1] is None:
        values.pop()
    return values


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _time_limit(value: dict) -> TimeLimit:
    return shared_time_limit(value["value"], value["unit"])


# stored value → the field's type, for the fields that are not plain str/bool
_DECODE = {
    "type": EventType,
    "at": _time,
    "level": Level,
    "channel": Channel,
    "online_level": OnlineLevel,
    "due_at": _time,
    "time_limit": _time_limit,
    "field": CorrectedField,
}
_SHARED_TEXT = (
    "agency_code", "agency_name", "district_code", "district_name", "procedure_code",
    "procedure_name", "field_code", "field_name", "source", "commune_code", "commune_name",
)  # fmt: skip
_FIELD_ORDER = tuple(DossierEvent.model_fields)
_NONE_FIELDS = dict.fromkeys(_FIELD_ORDER)


def _unpacked(dossier_id: str, values: list) -> DossierEvent:
    """A stored event back, without validating it again: it was validated at
    the edge, and these are the values `_packed` wrote (a property test holds
    the result equal to model_validate's, tests/unit/rules/test_properties.py)."""
    fields = _NONE_FIELDS.copy()
    for name, value in zip(HISTORY_FIELDS, values, strict=False):
        if value is not None:
            decode = _DECODE.get(name)
            fields[name] = value if decode is None else decode(value)
    # the few names of units, procedures, fields repeat in every dossier:
    # one copy of each while some event holds it (decoded histories' memory)
    for name in _SHARED_TEXT:
        value = fields[name]
        if value is not None:
            fields[name] = intern(value)
    event_id = fields["event_id"]
    if isinstance(event_id, list):
        fields["event_id"] = dossier_id + event_id[0]
    fields["dossier_id"] = dossier_id
    return DossierEvent.trusted(fields)


def encode_history(events: Sequence[DossierEvent]) -> bytes:
    if not events:
        return orjson.dumps([HISTORY_FORMAT, ""])
    encoded = orjson.dumps([HISTORY_FORMAT, events[0].dossier_id, *map(_packed, events)])
    # orjson's bytes keep its whole output buffer (~8 KB) whatever their length;
    # a history is kept for the dossier's life, so keep an exact-size copy
    return bytes(memoryview(encoded))


def decode_history(data: bytes | None) -> list[DossierEvent]:
    if not data:
        return []
    items = orjson.loads(data)
    if items and items[0] == HISTORY_FORMAT:
        dossier_id = items[1]
        return [_unpacked(dossier_id, values) for values in items[2:]]
    # format 1 (state written before format 2): a list of event objects
    return [DossierEvent.model_validate(item) for item in items]


@dataclass
class ProcessedBatch:
    computed_at: datetime
    events: list[DossierEvent] = field(default_factory=list)  # to store (repeats too)
    progress: list[tuple] = field(default_factory=list)  # partition_progress rows
    letters: list[DeadLetter] = field(default_factory=list)  # of the dead-letter topic, to store
    dead_letters: list[DeadLetter] = field(default_factory=list)  # to send to that topic
    facts: list[DossierFacts] = field(default_factory=list)
    new_events: int = 0
    duplicates: int = 0
    gaps: dict[tuple[str, int], int] = field(default_factory=dict)  # partition → offset to re-read


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
        self.progress = ContiguousProgress()

    def _parse(self, m: Message, now: datetime) -> DossierEvent:
        if m.value is None:
            raise InvalidEvent("empty message (no value)")
        event = parse_event(m.value, now=now)
        key = m.key.decode("utf-8", "replace") if m.key is not None else None
        if key != event.dossier_id:
            # a wrong key puts the dossier's events on another partition,
            # splitting its state: refuse rather than judge half a history
            # (the key is not repeated: it is not a contract field)
            raise InvalidEvent(f"the message key is not the dossier_id {event.dossier_id!r}")
        return event

    def process(self, messages: Sequence[Message], store: DossierStore) -> ProcessedBatch:
        now = self.clock()
        out = ProcessedBatch(now)
        histories: dict[str, list[DossierEvent]] = {}
        # (dossier_id, event_id) of every history: a repeat is found in O(1); one
        # set, not one per dossier (each kept container costs the collector)
        seen: set[tuple[str, str]] = set()
        last_message: dict[str, Message] = {}
        # a store that keeps decoded histories (streams.histories) is spared the codec
        load, keep = getattr(store, "events", None), getattr(store, "keep", None)
        for m in messages:
            try:
                event = self._parse(m, now)
            except InvalidEvent as exc:
                letter_id = f"{m.topic}:{m.partition}:{m.offset}"
                out.dead_letters.append(DeadLetter.of(letter_id, now, m.topic, exc.reason, m.value))
                continue
            dossier_id = event.dossier_id
            history = histories.get(dossier_id)
            if history is None:
                history = histories[dossier_id] = (
                    load(dossier_id) if load else decode_history(store.get(dossier_id))
                )
                seen.update((dossier_id, e.event_id) for e in history)
            last_message[dossier_id] = m
            key = (dossier_id, event.event_id)
            if key in seen:
                out.duplicates += 1  # stored again below: harmless, and closes crash gaps
            else:
                history.append(event)
                seen.add(key)
                out.new_events += 1
            out.events.append(event)
        for dossier_id, history in histories.items():
            if keep:
                keep(dossier_id, history, last_message[dossier_id])
            else:
                store.put(dossier_id, encode_history(history), last_message[dossier_id])
            facts = dossier_facts(history, self.calendar)
            if facts is not None:
                out.facts.append(facts)
        out.gaps = self.progress.advance(messages)
        keys = {(m.topic, m.partition) for m in messages}
        out.progress = self.progress.rows(sorted(keys), int(now.timestamp()))
        return out


def dead_letter_batch(
    messages: Sequence[Message], progress: ContiguousProgress, now: datetime
) -> ProcessedBatch:
    """Messages of the dead-letter topic → the letters to store and gap-checked
    progress (the same rule as events: progress never passes a message not stored)."""
    fresh = progress.unstored(messages)
    out = ProcessedBatch(now, letters=[read_dead_letter(m, now) for m in fresh])
    out.gaps = progress.advance(fresh)
    keys = sorted({(m.topic, m.partition) for m in fresh})
    out.progress = progress.rows(keys, int(now.timestamp()))
    return out


def read_dead_letter(m: Message, now: datetime) -> DeadLetter:
    """A message of the dead-letter topic; anything unreadable becomes a letter itself."""
    try:
        letter = DeadLetter.model_validate_json(m.value or b"")
    except ValidationError as exc:
        reason = f"unreadable dead letter: {describe_errors(exc, keys=_LETTER_FIELDS)}"
        return DeadLetter.of(f"{m.topic}:{m.partition}:{m.offset}", now, m.topic, reason, m.value)
    # whoever sent it, the original is summarised again before it is stored:
    # a summary stays as it is, any other text is treated as a raw input
    return letter.model_copy(update={"original": resummarised(letter.original)})


_LETTER_FIELDS = frozenset(DeadLetter.model_fields)
