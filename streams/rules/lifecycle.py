"""Dossier lifecycle and classification (METRICS.md §2-3).

`dossier_state` folds a dossier's events into its state just before an
instant T. It is a pure function of the *set* of events: they are ordered by
`at`, and events at the same instant by lifecycle order (received first,
then clock stops and restarts, then finishing events in the 766 priority
resolved > returned > rejected > withdrawn), then by event_id. That is the
order a one-stop system writes them in, and it makes the state independent
of arrival order. Duplicates (same event_id) count once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from schemas.events import CorrectedField, DossierEvent, EventType, parse_local_datetime
from streams.rules.calendar import WorkingCalendar

_RANK = {t: i for i, t in enumerate(EventType)}  # declaration order = lifecycle order
# Flags that hold once any event before T says so (METRICS.md §7 population rule).
FLAGS = (
    "fee_due",
    "paid_online",
    "digitized",
    "electronic_result",
    "components_digitized",
    "reused_digitized_data",
    "from_personal_store",
    "vneid_verified",
)


class Outcome(StrEnum):
    RESOLVED = "resolved"
    RETURNED = "returned"
    STOPPED = "stopped"
    WITHDRAWN = "withdrawn"


_FINISHING = {
    EventType.RESOLVED: Outcome.RESOLVED,
    EventType.RETURNED: Outcome.RETURNED,
    EventType.REJECTED: Outcome.STOPPED,
    EventType.WITHDRAWN: Outcome.WITHDRAWN,
}


class Standing(StrEnum):
    """Where a dossier stands at T (METRICS.md §3)."""

    EARLY = "early"  # trước hạn
    ON_TIME = "on_time"  # đúng hạn
    LATE = "late"  # quá hạn
    WAITING_SUPPLEMENT = "waiting_supplement"  # chờ bổ sung
    WITHIN_DUE = "within_due"  # đang giải quyết, trong hạn
    OVERDUE = "overdue"  # đang giải quyết, quá hạn

    @property
    def finished(self) -> bool:
        return self in (Standing.EARLY, Standing.ON_TIME, Standing.LATE)


@dataclass(frozen=True, slots=True)
class DossierState:
    """A dossier as it stands just before `as_of`."""

    dossier_id: str
    as_of: datetime
    received: DossierEvent  # attribution: agency, district, field, procedure
    due: datetime | None  # effective due after clock-stop shifts
    promised_due: datetime | None  # latest apology date (does not cure lateness)
    supplement_count: int
    last_supplement_request: datetime | None
    waiting_supplement: bool
    paused_for_payment: bool
    clock_stopped_at: datetime | None
    end_at: datetime | None
    outcome: Outcome | None
    returned_at: datetime | None
    judged_at: datetime | None  # end, or the clock stop it finished in
    apology: bool
    fee_due: bool
    paid_online: bool
    digitized: bool
    electronic_result: bool
    components_digitized: bool
    reused_digitized_data: bool
    from_personal_store: bool
    vneid_verified: bool
    complaint: bool  # a citizen complained about it before `as_of` (766 indicator 5.4)
    standing: Standing
    late: bool  # counts as late in rates (finished late, or waiting judged late)

    @property
    def received_at(self) -> datetime:
        return self.received.at


def event_order(event: DossierEvent) -> tuple[datetime, int, str]:
    return (event.at, _RANK[event.type], event.event_id)


def dossier_state(
    events: Iterable[DossierEvent], as_of: datetime, calendar: WorkingCalendar
) -> DossierState | None:
    """The state just before `as_of`, or None if not received by then."""
    fold = Fold(calendar)
    for event in ordered_events(events):
        if event.at >= as_of:
            break
        fold.apply(event)
    return fold.state(as_of)


def ordered_events(events: Iterable[DossierEvent]) -> list[DossierEvent]:
    """Distinct events (by event_id) in application order."""
    events = list(events)
    if len({e.event_id for e in events}) == len(events):
        return sorted(events, key=event_order)  # no repeats (the usual): one sort
    unique = {e.event_id: e for e in sorted(events, key=event_order, reverse=True)}
    return sorted(unique.values(), key=event_order)


class Fold:
    """Mutable accumulator behind `dossier_state`; events must come in `ordered_events` order."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.cal = calendar
        self.received: DossierEvent | None = None
        self.due: datetime | None = None
        self.promised_due: datetime | None = None
        self.supplements = 0
        self.last_request: datetime | None = None
        self.supplement_pending = False
        self.payment_pending = False
        self.stopped_at: datetime | None = None
        self.end_at: datetime | None = None
        self.outcome: Outcome | None = None
        self.judged_at: datetime | None = None
        self.returned_at: datetime | None = None
        self.apology_at: datetime | None = None
        self.complaint_at: datetime | None = None  # informs 5.4 only: no clock effect
        # first moment each flag was reported true
        self.flags_at: dict[str, datetime | None] = dict.fromkeys(FLAGS)

    def apply(self, e: DossierEvent) -> None:
        if self.received is None:
            if e.type is EventType.RECEIVED:
                self._receive(e)
            return  # nothing exists before the receipt
        self._note_flags(e)
        if e.type is EventType.COMPLAINT:
            # complaints mostly come after the result: noted even when finished
            self.complaint_at = self.complaint_at or e.at
        if e.type is EventType.EXTENDED:
            self.apology_at = self.apology_at or e.at
            if e.due_at is not None:
                self.promised_due = self.cal.normalize_due(e.due_at)
        if e.type is EventType.RETURNED and self.returned_at is None:
            self.returned_at = e.at
        if self.end_at is not None:
            return  # a finished dossier is not reopened
        if e.type is EventType.CORRECTED and e.field is CorrectedField.DUE_AT:
            # the rewritten due is in force from now on (what the source reports
            # is judged, as the portal does); streams.rules.integrity shows the rewrite
            assert e.new is not None  # DossierEvent guarantees it
            self.due = self.cal.normalize_due(parse_local_datetime(e.new))
        if e.type in _FINISHING:
            self.end_at = e.at
            self.outcome = _FINISHING[e.type]
            self.judged_at = self.stopped_at or e.at
        elif e.type is EventType.SUPPLEMENT_REQUESTED:
            self.supplements += 1
            self.last_request = e.at
            self.supplement_pending = True
            self.stopped_at = self.stopped_at or e.at
        elif e.type is EventType.PAYMENT_REQUESTED:
            self.payment_pending = True
            self.stopped_at = self.stopped_at or e.at
        elif e.type in (EventType.SUPPLEMENT_RECEIVED, EventType.PAYMENT_RECEIVED):
            self._restart(e)

    def _receive(self, e: DossierEvent) -> None:
        self.received = e
        if e.due_at is not None:
            self.due = self.cal.normalize_due(e.due_at)
        elif e.time_limit is not None:
            self.due = self.cal.due_from_limit(e.at, e.time_limit)
        self._note_flags(e)

    def _note_flags(self, e: DossierEvent) -> None:
        flags_at, fields = self.flags_at, e.__dict__  # for every event: no getattr
        for flag in FLAGS:
            if flags_at[flag] is None and fields[flag]:
                flags_at[flag] = e.at

    def _restart(self, e: DossierEvent) -> None:
        if e.type is EventType.SUPPLEMENT_RECEIVED:
            self.supplement_pending = False
        else:
            self.payment_pending = False
        if self.stopped_at is not None and not (self.supplement_pending or self.payment_pending):
            stopped = self.cal.working_time_between(self.stopped_at, e.at)
            if self.due is not None and stopped > timedelta(0):
                self.due = self.cal.add_working_time(self.due, stopped)
            self.stopped_at = None
        if e.due_at is not None:
            self.due = self.cal.normalize_due(e.due_at)

    def _judge(self, moment: datetime) -> bool:
        """Late at a judged moment: 2+ supplement requests or past the due."""
        return self.supplements >= 2 or (self.due is not None and moment > self.due)

    def standing(self, as_of: datetime) -> tuple[Standing, bool]:
        if self.judged_at is not None:
            if self._judge(self.judged_at):
                return Standing.LATE, True
            if self.due is not None and (
                self.cal.local(self.judged_at).date() < self.cal.local(self.due).date()
            ):
                return Standing.EARLY, False
            return Standing.ON_TIME, False
        if self.supplement_pending:
            assert self.last_request is not None
            return Standing.WAITING_SUPPLEMENT, self._judge(self.last_request)
        # a payment stop freezes the clock: overdue only if due passed before it
        moment = self.stopped_at or as_of
        if self.due is not None and self.due < moment:
            return Standing.OVERDUE, True
        return Standing.WITHIN_DUE, False

    def state(self, as_of: datetime) -> DossierState | None:
        if self.received is None:
            return None
        standing, late = self.standing(as_of)
        return DossierState(
            dossier_id=self.received.dossier_id,
            as_of=as_of,
            received=self.received,
            due=self.due,
            promised_due=self.promised_due,
            supplement_count=self.supplements,
            last_supplement_request=self.last_request,
            waiting_supplement=self.end_at is None and self.supplement_pending,
            paused_for_payment=self.end_at is None and self.payment_pending,
            clock_stopped_at=self.stopped_at if self.end_at is None else None,
            end_at=self.end_at,
            outcome=self.outcome,
            returned_at=self.returned_at,
            judged_at=self.judged_at,
            apology=self.apology_at is not None,
            complaint=self.complaint_at is not None,
            standing=standing,
            late=late,
            **{flag: at is not None for flag, at in self.flags_at.items()},
        )
