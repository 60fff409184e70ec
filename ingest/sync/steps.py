"""What a record shows happened since the last one: the steps that become events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ingest.sync.record import SyncHistory, SyncRecord
from ingest.sync.values import ANSWERS_PAYMENT, ANSWERS_SUPPLEMENT, FINISHED, Status
from schemas.events import (
    EventType,
)

_RANK = {t: i for i, t in enumerate(EventType)}  # lifecycle order for ties
# (type, n) → "type:n": formatting the enum cost more than the rest of a step
_KEYS: dict[tuple[EventType, int], str] = {}


@dataclass(frozen=True, slots=True)
class Step:
    type: EventType
    n: int  # round number; 0 for once-only events
    at: datetime
    due_at: datetime | None = None

    @property
    def key(self) -> str:
        known = _KEYS.get((self.type, self.n))
        if known is None:
            known = f"{self.type}:{self.n}"
            if len(_KEYS) < 10_000:  # bounded: n counts a record's rounds
                _KEYS[self.type, self.n] = known
        return known

    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.at, _RANK[self.type], self.n)


def steps_of(r: SyncRecord, history: SyncHistory, seen_at: datetime) -> list[Step]:
    """Every step record `r` shows, given what earlier records yielded."""
    if not r.is_received:
        return []
    steps = [Step(EventType.RECEIVED, 0, received_at_of(r), r.original_due)]
    if history.finished:  # backwards or late detail: a finished dossier is not reopened
        steps += _round_steps(r, anchor=None) + _finish_steps(r, seen_at, refinish=False)
    else:
        anchor = r.end_time(seen_at) if r.status in FINISHED else seen_at
        steps += _round_steps(r, anchor)
        steps += _unlisted_supplement(r, history, anchor)
        steps += _payment_steps(r, history, anchor)
        steps += _finish_steps(r, seen_at, refinish=True)
    start = received_at_of(r)
    return [s if s.at >= start else replace(s, at=start) for s in steps]


def received_at_of(r: SyncRecord) -> datetime:
    assert r.received_at is not None  # SyncRecord guarantees it for received statuses
    return r.received_at


def _round_steps(r: SyncRecord, anchor: datetime | None) -> list[Step]:
    """The listed rounds; with no anchor (after a finish) only dated requests count."""
    steps = []
    last = len(r.supplements)
    for n, rnd in enumerate(r.supplements, start=1):
        requested = rnd.requested_at or rnd.supplied_at or anchor
        if requested is None:
            continue
        steps.append(Step(EventType.SUPPLEMENT_REQUESTED, n, requested))
        if rnd.supplied_at or n < last or r.status in ANSWERS_SUPPLEMENT:
            supplied = max(rnd.supplied_at or anchor or requested, requested)
            steps.append(Step(EventType.SUPPLEMENT_RECEIVED, n, supplied, rnd.new_due))
    return steps


def _unlisted_supplement(r: SyncRecord, history: SyncHistory, anchor: datetime) -> list[Step]:
    """Rounds shown by status only: a request at 5, its answer at a later status."""
    listed = len(r.supplements)
    if r.status is Status.SUPPLEMENT:
        if not listed or r.supplements[-1].supplied_at:
            return [Step(EventType.SUPPLEMENT_REQUESTED, listed + 1, anchor)]
        return []
    if r.status not in ANSWERS_SUPPLEMENT:
        return []
    pending = history.pending(EventType.SUPPLEMENT_REQUESTED, EventType.SUPPLEMENT_RECEIVED)
    return [Step(EventType.SUPPLEMENT_RECEIVED, n, anchor) for n in pending if n > listed]


def _payment_steps(r: SyncRecord, history: SyncHistory, anchor: datetime) -> list[Step]:
    if r.status is Status.PAYMENT:
        return [Step(EventType.PAYMENT_REQUESTED, 1, anchor)]
    pending = history.pending(EventType.PAYMENT_REQUESTED, EventType.PAYMENT_RECEIVED)
    if r.status in ANSWERS_PAYMENT and pending:
        return [Step(EventType.PAYMENT_RECEIVED, 1, anchor)]
    return []


def _finish_steps(r: SyncRecord, seen_at: datetime, *, refinish: bool) -> list[Step]:
    """Finishing steps; without `refinish` (already finished) 7 and 8 add nothing."""
    end = r.end_time(seen_at)
    if r.status is Status.RESOLVED:
        return [Step(EventType.RESOLVED, 0, end)]
    if r.status is Status.RETURNED:
        resolved = [Step(EventType.RESOLVED, 0, r.processed_at)] if r.processed_at else []
        return [*resolved, Step(EventType.RETURNED, 0, r.returned_at or seen_at)]
    if refinish and r.status is Status.WITHDRAWN:
        return [Step(EventType.WITHDRAWN, 0, end)]
    if refinish and r.status is Status.STOPPED:
        return [Step(EventType.REJECTED, 0, end)]
    return []
