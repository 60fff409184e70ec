"""Values a source changed after sending them (EVENTS.md §2, METRICS.md §9)."""

from __future__ import annotations

from datetime import datetime

from ingest.sync.record import SyncRecord
from ingest.sync.steps import Step, received_at_of
from ingest.sync.values import DEFAULT_SOURCE, FINISHED, Status, local_time
from schemas.events import (
    CorrectedField,
    DossierEvent,
    EventType,
)

# TrangThaiHoSo as the lifecycle names a `corrected` status (streams.rules.integrity)
STATUS_NAMES = {
    Status.RECEIVED: "received",
    Status.PROCESSING: "processing",
    Status.SUPPLEMENT: "supplement_requested",
    Status.PAYMENT: "payment_requested",
    Status.WITHDRAWN: "withdrawn",
    Status.STOPPED: "rejected",
    Status.RESOLVED: "resolved",
    Status.RETURNED: "returned",
}
_RESTARTS = frozenset({EventType.SUPPLEMENT_RECEIVED, EventType.PAYMENT_RECEIVED})


def corrections(
    previous: SyncRecord,
    current: SyncRecord,
    steps: list[Step],
    source: str = DEFAULT_SOURCE,
    *,
    seen_at: datetime,
) -> list[DossierEvent]:
    """`corrected` events for the values `current` reports differently from
    `previous` (old = the previous record's value), observed at `seen_at`.

    A later NgayHenTra counts only when no supplement round or clock restart
    of this record explains it (a round naming it as its new due, a new round,
    or a restart among `steps`, this record's new steps).
    """
    if not (previous.is_received and current.is_received):
        return []
    rewrites: list[tuple[CorrectedField, str, str]] = []
    if _due_rewritten(previous, current, steps):
        rewrites.append((CorrectedField.DUE_AT, _iso(previous.due_at), _iso(current.due_at)))
    for name, before, now in (
        (CorrectedField.RECEIVED_AT, previous.received_at, current.received_at),
        (CorrectedField.END_AT, previous.processed_at, current.processed_at),
    ):
        if before is not None and now is not None and before != now:
            rewrites.append((name, _iso(before), _iso(now)))
    if previous.status in FINISHED and current.status not in FINISHED:
        rewrites.append(
            (CorrectedField.STATUS, STATUS_NAMES[previous.status], STATUS_NAMES[current.status])
        )
    at = max(seen_at, received_at_of(current))
    return [
        DossierEvent(
            event_id=f"{current.dossier_id}:corrected:{name}:{_compact(new)}",
            dossier_id=current.dossier_id,
            type=EventType.CORRECTED,
            at=at,
            field=name,
            old=old,
            new=new,
            source=source,
        )
        for name, old, new in rewrites
    ]


def step_key(event: DossierEvent) -> str:
    return event.event_id.removeprefix(f"{event.dossier_id}:")


def _due_rewritten(previous: SyncRecord, current: SyncRecord, steps: list[Step]) -> bool:
    before, now = previous.due_at, current.due_at
    if before is None or now is None or now <= before:
        return False
    explained = (
        any(r.new_due == now for r in current.supplements)
        or len(current.supplements) > len(previous.supplements)
        or any(s.type in _RESTARTS for s in steps)
    )
    return not explained


def _iso(moment: datetime | None) -> str:
    assert moment is not None
    return local_time(moment).isoformat()


def _compact(value: str) -> str:
    """A corrected value as an id part: digits of a time, else the name."""
    digits = "".join(c for c in value[:19] if c.isdigit())
    return digits if len(digits) == 14 else value
