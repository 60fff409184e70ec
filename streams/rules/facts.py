"""Per-dossier facts: everything needed to judge a dossier at *any* instant.

A period report needs each dossier's state at the period's end, and boards
need it at "now". Rather than store a state per instant, a dossier's facts
carry its fixed parts (receipt, end, final classification, when each flag,
the apology and the first complaint appeared), a short timeline of how an unfinished dossier
stood (within due, overdue, waiting for supplement on time/late), and the
dues it had over time (`dues`: each effective due from the instant the
events that set it were applied; a clock restart may move it, METRICS.md §6
"The due in force"). A change at `at` applies to every T > at, mirroring
"the state just before T"; so does a due in force from `since`.

`standing_at(facts, T)` reads them back; the ClickHouse queries do the same
in SQL, and a property test holds it equal to `dossier_state(events, T)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import attrgetter

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.integrity import Finding, findings_of
from streams.rules.lifecycle import Fold, Outcome, Standing, ordered_events

_JUST_AFTER = timedelta(microseconds=1)
_at = attrgetter("at")


@dataclass(frozen=True, slots=True)
class Change:
    at: datetime  # applies to T > at
    standing: Standing
    late: bool


@dataclass(frozen=True, slots=True)
class DueInForce:
    """The effective due from the events at `since` on (for T > since), until the next one."""

    since: datetime
    due: datetime


@dataclass(frozen=True, slots=True)
class DossierFacts:
    dossier_id: str
    received: DossierEvent
    event_count: int  # distinct events known; grows with every new event
    due: datetime | None  # effective due as of the latest event
    end_at: datetime | None
    outcome: Outcome | None
    judged_at: datetime | None
    final_standing: Standing | None  # EARLY / ON_TIME / LATE once finished
    supplement_count: int
    apology_at: datetime | None
    fee_due_at: datetime | None
    paid_online_at: datetime | None
    digitized_at: datetime | None
    processing_time: timedelta | None  # working time from receipt to end
    changes: tuple[Change, ...]  # how it stood while unfinished
    last_event_at: datetime  # latest `at` of any known event: only grows with new events
    dues: tuple[DueInForce, ...]  # every due it had, in time order; the last is `due`
    findings: tuple[Finding, ...] = ()  # integrity findings (METRICS.md §9)
    # the 766 scorecard's flags and complaints (METRICS.md §7); defaults, since a
    # reader of stored facts that does not need them (the watch) leaves them out
    electronic_result_at: datetime | None = None
    components_digitized_at: datetime | None = None
    reused_digitized_data_at: datetime | None = None
    from_personal_store_at: datetime | None = None
    vneid_verified_at: datetime | None = None
    complaint_at: datetime | None = None

    @property
    def received_at(self) -> datetime:
        return self.received.at


def dossier_facts(events: Iterable[DossierEvent], calendar: WorkingCalendar) -> DossierFacts | None:
    """The facts of one dossier from all its known events (None before receipt)."""
    ordered = ordered_events(events)
    fold = Fold(calendar)
    changes: list[Change] = []
    dues: list[DueInForce] = []
    groups = [(at, list(group)) for at, group in groupby(ordered, key=_at)]
    for i, (at, group) in enumerate(groups):
        for event in group:
            fold.apply(event)
        if fold.due is not None and (not dues or dues[-1].due != fold.due):
            dues.append(DueInForce(at, fold.due))
        if fold.received is None or fold.end_at is not None:
            continue
        following = groups[i + 1][0] if i + 1 < len(groups) else None
        _note(changes, at, *fold.standing(at + _JUST_AFTER))
        # the due may pass before the next event: overdue from then on
        due = fold.due
        running = fold.stopped_at is None and due is not None
        if running and at < due and (following is None or due < following):
            _note(changes, due, *fold.standing(due + _JUST_AFTER))
    if fold.received is None:
        return None
    final = fold.standing(fold.end_at) if fold.end_at is not None else None
    facts = DossierFacts(
        dossier_id=fold.received.dossier_id,
        received=fold.received,
        event_count=len(ordered),
        due=fold.due,
        end_at=fold.end_at,
        outcome=fold.outcome,
        judged_at=fold.judged_at,
        final_standing=final[0] if final else None,
        supplement_count=fold.supplements,
        apology_at=fold.apology_at,
        fee_due_at=fold.flags_at["fee_due"],
        paid_online_at=fold.flags_at["paid_online"],
        digitized_at=fold.flags_at["digitized"],
        electronic_result_at=fold.flags_at["electronic_result"],
        components_digitized_at=fold.flags_at["components_digitized"],
        reused_digitized_data_at=fold.flags_at["reused_digitized_data"],
        from_personal_store_at=fold.flags_at["from_personal_store"],
        vneid_verified_at=fold.flags_at["vneid_verified"],
        complaint_at=fold.complaint_at,
        processing_time=(
            calendar.working_time_between(fold.received.at, fold.end_at) if fold.end_at else None
        ),
        changes=tuple(changes),
        last_event_at=ordered[-1].at,
        dues=tuple(dues),
    )
    findings = findings_of(ordered, calendar, facts)
    if findings:
        # set on the new instance before anyone else holds it: `replace` would
        # build the whole object again (~5 µs), for a field most dossiers leave empty
        object.__setattr__(facts, "findings", findings)
    return facts


def _note(changes: list[Change], at: datetime, standing: Standing, late: bool) -> None:
    if not changes or (changes[-1].standing, changes[-1].late) != (standing, late):
        changes.append(Change(at, standing, late))


def standing_at(facts: DossierFacts, as_of: datetime) -> tuple[Standing, bool] | None:
    """(standing, late) just before `as_of`; None if not yet received."""
    if facts.received_at >= as_of:
        return None
    if facts.end_at is not None and facts.end_at < as_of:
        assert facts.final_standing is not None
        return facts.final_standing, facts.final_standing is Standing.LATE
    current = None
    for change in facts.changes:
        if change.at >= as_of:
            break
        current = change
    assert current is not None  # the receipt itself is the first change
    return current.standing, current.late


def due_in_force(facts: DossierFacts, as_of: datetime) -> datetime | None:
    """The effective due just before `as_of` (§2: the events with `at < as_of`)."""
    current = None
    for entry in facts.dues:
        if entry.since >= as_of:
            break
        current = entry.due
    return current
