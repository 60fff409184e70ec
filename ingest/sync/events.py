"""Steps → canonical events, attributed through the unit directory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingest.sync.record import SyncHistory, SyncRecord
from ingest.sync.rewrites import corrections, step_key
from ingest.sync.steps import Step, steps_of
from ingest.sync.units import UnitDirectory, attribute
from ingest.sync.values import DEFAULT_SOURCE, local_time
from schemas.events import (
    DossierEvent,
    EventType,
)


def _event(r: SyncRecord, step: Step, directory: UnitDirectory, source: str) -> DossierEvent:
    fields: dict[str, Any] = {
        "event_id": f"{r.dossier_id}:{step.key}",
        "dossier_id": r.dossier_id,
        "type": step.type,
        "at": step.at,
        "due_at": step.due_at,
        "fee_due": r.fee_due,
        "paid_online": r.paid_online,
        "digitized": r.digitized,
        "electronic_result": r.electronic_result,
        "components_digitized": r.components_digitized,
        "reused_digitized_data": r.reused_digitized_data,
        "from_personal_store": r.from_personal_store,
        "vneid_verified": r.vneid_verified,
        "source": source,
    }
    if step.type is EventType.RECEIVED:
        fields |= _attribution(r, directory, step.at)
    return DossierEvent(**fields)


def _attribution(r: SyncRecord, directory: UnitDirectory, received_at: datetime) -> dict[str, Any]:
    """As of the receipt (ingest/sync/units.py says how)."""
    unit = attribute(
        directory, r.agency_code, r.unit_name, received_at, (r.commune_code, r.commune_name)
    )
    return {
        "agency_code": r.agency_code,
        "agency_name": unit.agency_name,
        "level": unit.level,
        "district_code": unit.district_code,
        "district_name": unit.district_name,
        "procedure_code": r.procedure_code,
        "procedure_name": r.procedure_name,
        "field_code": r.field_code,
        "field_name": r.field_name or r.field_code,
        "channel": r.channel,
        "online_level": r.online_level,
        "commune_code": unit.commune_code,
        "commune_name": unit.commune_name,
    }


def history_of(record: SyncRecord | None, seen_at: datetime) -> SyncHistory:
    """The record's history; a record never stored is taken as fully applied."""
    if record is None:
        return SyncHistory()
    if record.history.steps or record.history.seen_at:
        return record.history
    return SyncHistory(steps=frozenset(s.key for s in steps_of(record, SyncHistory(), seen_at)))


def advance(
    previous: SyncRecord | None,
    current: SyncRecord,
    directory: UnitDirectory,
    source: str = DEFAULT_SOURCE,
    *,
    seen_at: datetime,
) -> tuple[list[DossierEvent], SyncRecord]:
    """New events of `current`, and the record to store in place of `previous`."""
    seen_at = local_time(seen_at)
    history = history_of(previous, seen_at)
    if previous is not None and history.seen_at is not None and seen_at < history.seen_at:
        return [], previous.model_copy(update={"history": history})  # stale observation
    new: dict[str, Step] = {}
    for step in steps_of(current, history, seen_at):
        if step.key not in history.steps:
            new.setdefault(step.key, step)
    ordered = sorted(new.values(), key=Step.sort_key)
    events = [_event(current, step, directory, source) for step in ordered]
    derived = frozenset(new)
    if previous is not None:  # each rewrite once, however often a record repeats it
        fixes = corrections(previous, current, ordered, source, seen_at=seen_at)
        fixes = [e for e in fixes if step_key(e) not in history.steps]
        events += fixes
        derived |= {step_key(e) for e in fixes}
    remembered = SyncHistory(steps=history.steps | derived, seen_at=seen_at)
    return events, current.model_copy(update={"history": remembered})


def record_events(
    previous: SyncRecord | None,
    current: SyncRecord,
    directory: UnitDirectory,
    source: str = DEFAULT_SOURCE,
    *,
    seen_at: datetime,
) -> list[DossierEvent]:
    """The canonical events that happened between `previous` and `current` (same dossier)."""
    return advance(previous, current, directory, source, seen_at=seen_at)[0]
