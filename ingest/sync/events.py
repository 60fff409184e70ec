"""Steps → canonical events, attributed through the unit directory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingest.sync.record import (
    NO_HISTORY,
    SyncHistory,
    SyncRecord,
    history_of_steps,
    with_history,
)
from ingest.sync.rewrites import corrections, step_key
from ingest.sync.steps import Step, steps_of
from ingest.sync.units import UnitDirectory, attribute
from ingest.sync.values import DEFAULT_SOURCE, local_time
from schemas.events import (
    RECEIVED_REQUIRED,
    DossierEvent,
    EventType,
    shared_fields_set,
)
from schemas.unvalidated import unvalidated

_NO_VALUES = dict.fromkeys(DossierEvent.model_fields)  # every field, in the model's order
_SHORTEST_LIMIT = 200  # Identifier's; Text allows 500


def built_event(fields: dict[str, Any]) -> DossierEvent:
    """`DossierEvent(**fields)` for the values this module derives, without
    validating them again (~10 µs an event): the same field values (times
    cut to whole seconds as validation cuts them) and the same fields set.
    Whatever validation could refuse or change otherwise (text empty or
    longer than the shortest limit, a received event lacking a field, a time
    without an offset, a `corrected` event) goes through validation, so it
    raises as it did.
    A test holds it equal to validation (tests/unit/ingest/test_fast_paths.py)."""
    at, due = fields["at"], fields.get("due_at")
    if (
        at.tzinfo is None
        or (due is not None and due.tzinfo is None)
        or not all([0 < len(v) <= _SHORTEST_LIMIT for v in fields.values() if type(v) is str])
        or (fields["type"] is EventType.RECEIVED and _lacks_received(fields))
        or fields["type"] is EventType.CORRECTED  # its checks are its own; rewrites.py's
    ):
        return DossierEvent(**fields)
    values = _NO_VALUES | fields
    if at.microsecond:
        values["at"] = at.replace(microsecond=0)
    if due is not None and due.microsecond:
        values["due_at"] = due.replace(microsecond=0)
    return unvalidated(DossierEvent, values, shared_fields_set(tuple(fields)))


def _lacks_received(fields: dict[str, Any]) -> bool:
    return any(fields.get(name) is None for name in RECEIVED_REQUIRED)


def _record_fields(r: SyncRecord, source: str) -> dict[str, Any]:
    """What every event of the record carries (worked out once for its events)."""
    return {
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


def _event(
    r: SyncRecord, step: Step, common: dict[str, Any], directory: UnitDirectory
) -> DossierEvent:
    fields: dict[str, Any] = {
        "event_id": f"{r.dossier_id}:{step.key}",
        "dossier_id": r.dossier_id,
        "type": step.type,
        "at": step.at,
        "due_at": step.due_at,
    }
    fields.update(common)
    if step.type is EventType.RECEIVED:
        fields |= _attribution(r, directory, step.at)
    return built_event(fields)


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
        return NO_HISTORY
    if record.history.steps or record.history.seen_at:
        return record.history
    return SyncHistory(steps=frozenset(s.key for s in steps_of(record, NO_HISTORY, seen_at)))


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
        return [], with_history(previous, history)  # stale observation
    new: dict[str, Step] = {}
    for step in steps_of(current, history, seen_at):
        if step.key not in history.steps:
            new.setdefault(step.key, step)
    ordered = sorted(new.values(), key=Step.sort_key)
    common = _record_fields(current, source) if ordered else {}
    events = [_event(current, step, common, directory) for step in ordered]
    derived = frozenset(new)
    if previous is not None:  # each rewrite once, however often a record repeats it
        fixes = corrections(previous, current, ordered, source, seen_at=seen_at)
        fixes = [e for e in fixes if step_key(e) not in history.steps]
        events += fixes
        derived |= {step_key(e) for e in fixes}
    remembered = history_of_steps(history.steps | derived, seen_at)
    return events, with_history(current, remembered)


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
