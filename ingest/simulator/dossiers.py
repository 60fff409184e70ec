"""One dossier's life, planned whole at its receipt.

Every instant of the plan is `add_working_time(received_at, offset)` for an
offset in working time, built from two parts: the time the agency's clock
ran (its *consumption*) and the time it stood still waiting for the citizen
(supplement, payment). The effective due sits at offset `limit + waits so
far` and the finish at `consumption + waits`, so a dossier finishes late
exactly when its consumption exceeds the limit (or it had 2+ supplement
rounds): the truth is known by construction, not by re-deriving it. Chosen
consumptions stay at least `MARGIN` away from the limit, so no outcome
hangs on a second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ingest.simulator.catalogue import Procedure
from ingest.simulator.knobs import Knobs
from ingest.simulator.province import Profile, Unit
from schemas.events import Channel
from streams.rules.calendar import WorkingCalendar

MARGIN = 120  # seconds of working time between a chosen finish and the due
GAP = 60  # seconds between two steps of a dossier
MIN_CONSUMPTION = 900  # enough room for every step a minute apart
TWO_ROUNDS = 0.15  # of late dossiers: late by the 766 rule (2+ supplement requests)
ABANDON = 0.5  # of withdrawn dossiers with a round: withdrawn while it waits


class Finish(StrEnum):
    RESOLVED = "resolved"
    REJECTED = "rejected"  # dừng xử lý / từ chối
    WITHDRAWN = "withdrawn"


class StopKind(StrEnum):
    SUPPLEMENT = "supplement"
    PAYMENT = "payment"


@dataclass(frozen=True, slots=True)
class Stop:
    """A clock stop: requested at `start`, answered at `end` (None: never)."""

    kind: StopKind
    number: int  # supplement round 1, 2, ...; payment 1
    start: datetime
    end: datetime | None
    due_before: datetime  # effective due while it waits
    due_after: datetime | None  # effective due once answered


@dataclass(frozen=True, slots=True)
class Arrival:
    """Who, what and when: decided by the arrivals, before the plan."""

    dossier_id: str
    unit: Unit
    procedure: Procedure
    channel: Channel
    received_at: datetime
    submitted_at: datetime | None  # online submission (status 1), same day, before receipt


@dataclass(frozen=True, slots=True)
class Dossier:
    arrival: Arrival
    due: datetime  # at receipt: received_at + the limit in working time
    fee_due: bool
    digitized: bool
    paid_online_at: datetime | None  # when "paid online" was first reported
    transfers: tuple[datetime, ...]
    stops: tuple[Stop, ...]  # in time order, never overlapping
    extended: tuple[datetime, datetime] | None  # (apology, promised date)
    finish: Finish | None
    end_at: datetime | None
    returned_at: datetime | None
    processing: timedelta | None  # working time received → end, by construction
    late: bool  # the final outcome counts as late (decided before building)
    # the 766 scorecard (METRICS.md §7); drawn from their own generator (`_scorecard`)
    electronic_result: bool = False  # an electronic result issued at the finish
    components_digitized: bool = False  # a component with a file, at receipt
    reused: bool = False  # a component taken from digitized data (DuocSoHoa)
    personal_store: bool = False  # a component from the personal store (DuocLayTuKhoDMQG)
    vneid_verified: bool = False
    complaint_at: datetime | None = None

    @property
    def dossier_id(self) -> str:
        return self.arrival.dossier_id

    @property
    def received_at(self) -> datetime:
        return self.arrival.received_at


@dataclass(frozen=True, slots=True)
class Refused:
    """Submitted online, refused at the counter: a sync record, never a dossier."""

    arrival: Arrival
    refused_at: datetime


def _supplement_wait(rnd: random.Random, day: int) -> int:
    """Seconds of working time a citizen takes to supply: mostly days, a long tail."""
    u = rnd.random()
    if u < 0.55:
        return rnd.randrange(3600, 2 * day)
    if u < 0.9:
        return rnd.randrange(2 * day, 8 * day)
    return rnd.randrange(8 * day, 30 * day)


def _payment_wait(rnd: random.Random, day: int) -> int:
    return rnd.randrange(1800, 3 * day) if rnd.random() < 0.8 else rnd.randrange(3 * day, 10 * day)


@dataclass(slots=True)
class _Choices:
    late: bool
    finish: Finish
    rounds: int
    consumption: int  # seconds of running working time until the finish
    steps: list[tuple[int, str, int]]  # (running position, kind, number)
    abandoned: int = 0  # the supplement round the citizen withdraws in (0: none)


def _choose(
    rnd: random.Random, knobs: Knobs, profile: Profile, proc: Procedure, limit: int
) -> _Choices:
    late = rnd.random() < profile.late[proc.field_code]
    u = rnd.random()
    finish = Finish.WITHDRAWN if u < knobs.withdraw_share else Finish.RESOLVED
    if knobs.withdraw_share <= u < knobs.withdraw_share + knobs.reject_share:
        finish = Finish.REJECTED
    two_rounds = late and rnd.random() < TWO_ROUNDS
    supplement = knobs.supplement_share * (1.6 if proc.land else 1.0)
    rounds = 2 if two_rounds else int(rnd.random() < supplement)
    if late and not two_rounds:
        worst = 2.5 if proc.land else 1.8
        consumption = max(int(limit * rnd.uniform(1.03, worst)), limit + MARGIN)
    else:
        consumption = min(int(limit * rnd.uniform(0.15, 0.97)), limit - MARGIN)
    consumption = max(consumption, MIN_CONSUMPTION)
    transfers = 1 + (rnd.random() < 0.4)
    steps = [(rnd.uniform(0.02, 0.2), "transfer", n + 1) for n in range(transfers)]
    steps += [(rnd.uniform(0.1, 0.6), "supplement", 0) for _ in range(rounds)]
    if proc.fee and rnd.random() < proc.obligation:
        steps.append((rnd.uniform(0.6, 0.9), "payment", 1))
    if late and finish is Finish.RESOLVED and rnd.random() < knobs.apology_share:
        steps.append((rnd.uniform(0.91, 0.99), "extended", 1))
    c = _Choices(late, finish, rounds, consumption, _spread(sorted(steps), consumption))
    # withdrawn while waiting: judged at that request, so only where that keeps the
    # decided outcome (not late, or late anyway by 2+ rounds)
    if finish is Finish.WITHDRAWN and rounds and (not late or rounds >= 2):
        c.abandoned = rounds if rnd.random() < ABANDON else 0
    return c


def _spread(steps: list[tuple[float, str, int]], consumption: int) -> list[tuple[int, str, int]]:
    """Running positions (s) in order, at least a minute apart and before the finish;
    supplement rounds numbered in order.

    Two steps at one instant would leave their order to the tie rule (a new
    request before the answer to the previous one); a minute apart, never.
    """
    room = consumption - GAP * (len(steps) + 1)
    out, rounds = [], 0
    for i, (f, kind, n) in enumerate(steps):
        if kind == "supplement":
            rounds += 1
            n = rounds
        out.append((int(f * room) + GAP * (i + 1), kind, n))
    return out


class _Life:
    """Walks the chosen steps: running positions plus the waits so far → instants."""

    def __init__(
        self, rnd: random.Random, cal: WorkingCalendar, arrival: Arrival, limit: int
    ) -> None:
        self.rnd, self.cal, self.arrival = rnd, cal, arrival
        self.day = int(cal.day_length.total_seconds())
        self.waited, self.due_off = 0, limit  # the effective due's offset
        self.transfers: list[datetime] = []
        self.stops: list[Stop] = []
        self.extended_at: datetime | None = None
        self.paid_at: datetime | None = None

    def at(self, offset: int) -> datetime:
        return self.cal.add_working_time(self.arrival.received_at, timedelta(seconds=offset))

    def walk(self, c: _Choices) -> int:
        """Every step in order; the end's offset."""
        for position, kind, number in c.steps:
            off = position + self.waited
            if kind == "transfer":
                self.transfers.append(self.at(off))
            elif kind == "extended":
                self.extended_at = self.at(off)
            elif kind == "supplement" and number == c.abandoned:
                return self._abandon(number, off)
            else:
                self._stop(StopKind(kind), number, off)
        return c.consumption + self.waited

    def _wait(self, kind: StopKind) -> int:
        return (_supplement_wait if kind is StopKind.SUPPLEMENT else _payment_wait)(
            self.rnd, self.day
        )

    def _stop(self, kind: StopKind, number: int, off: int) -> None:
        wait = self._wait(kind)
        start, end = self.at(off), self.at(off + wait)
        self.stops.append(
            Stop(kind, number, start, end, self.at(self.due_off), self.at(self.due_off + wait))
        )
        self.waited += wait
        self.due_off += wait  # the due moves by the working time the clock stood still
        if kind is StopKind.PAYMENT and self.rnd.random() < _paid_online_share(self.arrival):
            self.paid_at = end

    def _abandon(self, number: int, off: int) -> int:
        """The round is never answered: the citizen withdraws while it waits."""
        wait = self._wait(StopKind.SUPPLEMENT)
        due = self.at(self.due_off)
        self.stops.append(Stop(StopKind.SUPPLEMENT, number, self.at(off), None, due, None))
        return off + max(GAP, int(wait * self.rnd.uniform(0.3, 0.9)))


def plan_dossier(
    rnd: random.Random,
    cal: WorkingCalendar,
    knobs: Knobs,
    profile: Profile,
    arrival: Arrival,
) -> Dossier:
    """The whole life of a dossier received as `arrival` says."""
    proc = arrival.procedure
    limit = int(proc.limit_time(cal.day_length).total_seconds())
    c = _choose(rnd, knobs, profile, proc, limit)
    life = _Life(rnd, cal, arrival, limit)
    end_off = life.walk(c)
    paid_at = life.paid_at
    if proc.fee and not any(s.kind is StopKind.PAYMENT for s in life.stops):
        paid_at = arrival.received_at if rnd.random() < _paid_at_submission(arrival) else None
    returned = None
    if c.finish is Finish.RESOLVED:
        returned = life.at(end_off + rnd.randrange(600, 2 * life.day))
    promised = None
    if life.extended_at is not None:
        promised = (life.extended_at, life.at(end_off + rnd.randrange(life.day // 2, 3 * life.day)))
    planned = Dossier(
        arrival=arrival,
        due=life.at(limit),
        fee_due=proc.fee,
        digitized=rnd.random() < knobs.digitized_share,
        paid_online_at=paid_at,
        transfers=tuple(life.transfers),
        stops=tuple(life.stops),
        extended=promised,
        finish=c.finish,
        end_at=life.at(end_off),
        returned_at=returned,
        processing=timedelta(seconds=end_off),
        late=c.late,
    )
    return replace(planned, **_scorecard(knobs, cal, planned))  # type: ignore[arg-type]


def _scorecard(knobs: Knobs, cal: WorkingCalendar, d: Dossier) -> dict[str, object]:
    """The 766 flags and a complaint, from a generator of their own (seed and dossier
    id), so adding them left every other draw of a run as it was."""
    rnd = random.Random(f"{knobs.seed}/{d.dossier_id}/766")
    online = d.arrival.channel is Channel.ONLINE
    reused = rnd.random() < knobs.reused_share
    complaint = None
    if d.returned_at is not None and rnd.random() < knobs.complaint_share:
        complaint = cal.add_working_time(d.returned_at, timedelta(hours=rnd.uniform(1, 80)))
    return {
        "electronic_result": d.finish is Finish.RESOLVED
        and rnd.random() < knobs.electronic_result_share,
        "components_digitized": reused or rnd.random() < knobs.components_digitized_share,
        "reused": reused,
        "personal_store": online and rnd.random() < knobs.personal_store_share,
        "vneid_verified": online and rnd.random() < knobs.vneid_share,
        "complaint_at": complaint,
    }


def _paid_online_share(arrival: Arrival) -> float:
    return 0.6 if arrival.channel is Channel.ONLINE else 0.15


def _paid_at_submission(arrival: Arrival) -> float:
    return 0.75 if arrival.channel is Channel.ONLINE else 0.05
