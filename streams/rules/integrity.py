"""Integrity findings for inspectors (METRICS.md §9): which dossiers a source
rewrote after the fact, from their `corrected` events and their lifecycle.

Pure: a dossier's events in, its findings out, each once per dossier and
kind (the first observed), with the old and new values, when it was
observed, and the ids of the events that show it. Like the deadline alerts,
the findings are a function of the events alone; `late_without_apology` is
observed at the instant the dossier became overdue, which may lie after the
latest event (readers keep the findings observed before their "now").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING

from schemas.events import CorrectedField, DossierEvent, EventType, parse_local_datetime
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import Fold, Standing

if TYPE_CHECKING:  # streams.rules.facts calls findings_of: no import cycle at run time
    from streams.rules.facts import DossierFacts


class FindingKind(StrEnum):
    DUE_MOVED_AFTER_DUE = "due_moved_after_due"
    END_MOVED_EARLIER = "end_moved_earlier"
    END_SET_TO_DUE = "end_set_to_due"
    REOPENED = "reopened"
    RECEIVED_MOVED = "received_moved"
    LATE_WITHOUT_APOLOGY = "late_without_apology"


FINDING_NAMES_VI = {  # as inspectors read them
    "due_moved_after_due": "Lùi hạn trả sau khi đã quá hạn",
    "end_moved_earlier": "Sửa ngày kết thúc sớm hơn",
    "end_set_to_due": "Sửa ngày kết thúc bằng ngày hẹn trả",
    "reopened": "Hồ sơ đã kết thúc bị đưa về đang xử lý",
    "received_moved": "Sửa ngày tiếp nhận",
    "late_without_apology": "Quá hạn không có văn bản xin lỗi",
}


# `corrected` status values that mean finished (the lifecycle's finishing events)
FINISHED_STATUSES = frozenset({"resolved", "returned", "rejected", "withdrawn"})
_RESTARTS = (EventType.SUPPLEMENT_RECEIVED, EventType.PAYMENT_RECEIVED)
_type = attrgetter("type")


@dataclass(frozen=True, slots=True)
class Finding:
    dossier_id: str
    kind: FindingKind
    observed_at: datetime
    old: str
    new: str
    evidence: tuple[str, ...]  # event ids
    agency_code: str
    district_code: str
    field_code: str
    procedure_code: str

    @property
    def key(self) -> str:
        """Stable identity: once per dossier and kind."""
        return f"{self.dossier_id}:{self.kind}"


def integrity_findings(
    events: Iterable[DossierEvent], calendar: WorkingCalendar
) -> tuple[Finding, ...]:
    """The dossier's findings (none before its receipt), ordered by observed_at."""
    from streams.rules.facts import dossier_facts

    facts = dossier_facts(events, calendar)
    return () if facts is None else facts.findings


def findings_of(
    ordered: list[DossierEvent], calendar: WorkingCalendar, facts: DossierFacts
) -> tuple[Finding, ...]:
    """The findings of a dossier's `ordered_events` whose facts are `facts`
    (streams.rules.facts calls it; without a `corrected` event only the lifecycle
    is looked at, so the common dossier costs a scan of its changes)."""
    found: dict[FindingKind, Finding] = {}
    if EventType.CORRECTED in map(_type, ordered):  # no Python frame per event
        fold = Fold(calendar)
        for i, event in enumerate(ordered):
            if event.type is EventType.CORRECTED and fold.received is not None:
                for kind, old, new in _rewrites(event, fold, ordered[:i]):
                    found.setdefault(kind, _finding(fold.received, kind, event, old, new))
            fold.apply(event)
    late = _late_without_apology(facts)
    if late is not None:
        found.setdefault(late.kind, late)
    return tuple(sorted(found.values(), key=lambda f: (f.observed_at, f.kind)))


def _rewrites(
    e: DossierEvent, fold: Fold, before: list[DossierEvent]
) -> list[tuple[FindingKind, str, str]]:
    """What one `corrected` event shows, judged with the state just before it."""
    assert e.old is not None and e.new is not None  # DossierEvent guarantees both
    if e.field is CorrectedField.DUE_AT:
        return _due_moved(e, fold, before)
    if e.field is CorrectedField.END_AT:
        return _end_rewritten(e, fold)
    if e.field is CorrectedField.RECEIVED_AT and _moment(e.old) != _moment(e.new):
        return [(FindingKind.RECEIVED_MOVED, e.old, e.new)]
    reopened = e.old in FINISHED_STATUSES and e.new not in FINISHED_STATUSES
    if e.field is CorrectedField.STATUS and reopened:
        return [(FindingKind.REOPENED, e.old, e.new)]
    return []


def _due_moved(
    e: DossierEvent, fold: Fold, before: list[DossierEvent]
) -> list[tuple[FindingKind, str, str]]:
    assert e.old is not None and e.new is not None
    due, new = fold.due, fold.cal.normalize_due(parse_local_datetime(e.new))
    if due is None or new <= due:
        return []  # moved earlier, or not moved against the due in force
    # passed: as in §3, a stopped clock freezes the moment the due is judged at
    if not due < (fold.stopped_at or e.at):
        return []  # corrected before the due passed: an honest change
    explained = any(
        x.type is EventType.EXTENDED or (x.type in _RESTARTS and x.at > due) for x in before
    )
    return [] if explained else [(FindingKind.DUE_MOVED_AFTER_DUE, e.old, e.new)]


def _end_rewritten(e: DossierEvent, fold: Fold) -> list[tuple[FindingKind, str, str]]:
    assert e.old is not None and e.new is not None
    old, new = _moment(e.old), _moment(e.new)
    if old is None or new is None or old == new:
        return []
    found = []
    if new < old:
        found.append((FindingKind.END_MOVED_EARLIER, e.old, e.new))
    if fold.due is not None and new == fold.due:
        found.append((FindingKind.END_SET_TO_DUE, e.old, e.new))
    return found


def _late_without_apology(facts: DossierFacts) -> Finding | None:
    """The first instant the dossier stood overdue (§3), if no apology came before it."""
    received = facts.received
    for crossing in facts.changes:  # a loop, not next(genexpr): it runs for every dossier
        if crossing.standing is Standing.OVERDUE:
            break
    else:
        return None
    if facts.apology_at is not None and facts.apology_at <= crossing.at:
        return None
    due = facts.due
    for entry in reversed(facts.dues):
        if entry.since <= crossing.at:
            due = entry.due
            break
    old = due.isoformat() if due else ""
    return Finding(
        received.dossier_id,
        FindingKind.LATE_WITHOUT_APOLOGY,
        crossing.at,
        old,
        Standing.OVERDUE.value,
        (received.event_id,),
        *_attribution(received),
    )


def _finding(
    received: DossierEvent, kind: FindingKind, e: DossierEvent, old: str, new: str
) -> Finding:
    return Finding(e.dossier_id, kind, e.at, old, new, (e.event_id,), *_attribution(received))


def _attribution(received: DossierEvent) -> tuple[str, str, str, str]:
    return (
        received.agency_code or "",
        received.district_code or "",
        received.field_code or "",
        received.procedure_code or "",
    )


def _moment(text: str) -> datetime | None:
    try:
        return parse_local_datetime(text)
    except ValueError:
        return None
