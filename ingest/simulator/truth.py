"""Ground truth: how each planned dossier stands at an instant T, and the
period totals in the II.06a columns, straight from the plan's construction.

This is the independent route the pipeline is checked against: it never
calls the lifecycle fold or the report code. It reads the plan's structure
(stops with the dues before and after them, the finish, the apology) and
applies METRICS.md §3-4 to it:

- finished before T: judged at the end, or at the request it finished
  waiting for; late with 2+ supplement rounds or judged after the due in
  force; else early when its date is before the due's date, else on time;
- waiting for a supplement at T: judged at that request;
- waiting for a payment at T: in progress, overdue only if the due had
  passed when the clock stopped; otherwise overdue when the due < T.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import IO, Any

from ingest.simulator.dossiers import Dossier, Stop, StopKind
from schemas.cells import csv_cell  # the CSV cell format only (no report rule)

# The period report's columns (METRICS.md §4); a test holds them to streams.rules.period's.
COUNT_COLUMNS = (
    "carried_over",
    "received_total",
    "received_online",
    "received_direct_postal",
    "finished_total",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "in_progress_total",
    "in_progress_within_due",
    "in_progress_overdue",
    "waiting_supplement",
    "stopped_or_withdrawn",
    "apologies",
)
RATE_COLUMNS = (
    "on_time_rate",
    "late_rate",
    "progress_ratio_766",
    "progress_score_766",
    "online_rate",
    "full_online_rate",
    "online_payment_rate",
    "digitized_rate",
    "avg_processing_days",
)
CSV_COLUMNS = ("unit_code", "unit_name", *COUNT_COLUMNS, *RATE_COLUMNS)

EARLY, ON_TIME, LATE = "early", "on_time", "late"
WAITING, WITHIN_DUE, OVERDUE = "waiting_supplement", "within_due", "overdue"


@dataclass(frozen=True, slots=True)
class Truth:
    """A dossier as it stands just before `as_of` (standing names as METRICS.md §3)."""

    dossier_id: str
    as_of: datetime
    agency_code: str
    agency_name: str
    level: str
    district_code: str
    district_name: str
    field_code: str
    field_name: str
    procedure_code: str
    procedure_name: str
    channel: str
    online_level: str
    received_at: datetime
    due_at: datetime  # at receipt
    effective_due: datetime  # in force at the judged moment (finished, waiting) or at as_of
    standing: str
    late: bool  # counts as late in rates
    outcome: str | None  # resolved / rejected / withdrawn once finished
    end_at: datetime | None
    judged_at: datetime | None
    supplement_count: int
    apology: bool
    fee_due: bool
    paid_online: bool
    digitized: bool
    processing: timedelta | None  # working time received → end

    @property
    def finished(self) -> bool:
        return self.end_at is not None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
            elif isinstance(value, timedelta):
                out[key] = int(value.total_seconds())
        out["processing_seconds"] = out.pop("processing")
        return out


def _answered_before(stops: Iterable[Stop], moment: datetime) -> datetime | None:
    """The due after the last stop answered before `moment` (None: no shift yet)."""
    due = None
    for stop in stops:
        if stop.end is not None and stop.end < moment:
            due = stop.due_after
    return due


def _standing(d: Dossier, as_of: datetime) -> tuple[str, bool, datetime, datetime | None]:
    """(standing, late in rates, due in force, judged moment)."""
    stops = [s for s in d.stops if s.start < as_of]
    rounds = sum(s.kind is StopKind.SUPPLEMENT for s in stops)
    if d.end_at is not None and d.end_at < as_of:
        waiting = [s for s in stops if s.start < d.end_at and (s.end is None or s.end > d.end_at)]
        judged = waiting[0].start if waiting else d.end_at
        due = waiting[0].due_before if waiting else _answered_before(stops, d.end_at) or d.due
        if rounds >= 2 or judged > due:
            return LATE, True, due, judged
        return (EARLY if judged.date() < due.date() else ON_TIME), False, due, judged
    pending = [s for s in stops if s.end is None or s.end >= as_of]
    if pending:
        stop = pending[0]
        if stop.kind is StopKind.SUPPLEMENT:
            late = rounds >= 2 or stop.start > stop.due_before
            return WAITING, late, stop.due_before, None
        overdue = stop.due_before < stop.start
        return (OVERDUE if overdue else WITHIN_DUE), overdue, stop.due_before, None
    due = _answered_before(stops, as_of) or d.due
    return (OVERDUE, True, due, None) if due < as_of else (WITHIN_DUE, False, due, None)


def judge(d: Dossier, as_of: datetime) -> Truth | None:
    """The dossier's truth just before `as_of`; None if not received by then."""
    if d.received_at >= as_of:
        return None
    a, unit, proc = d.arrival, d.arrival.unit, d.arrival.procedure
    standing, late, due, judged = _standing(d, as_of)
    finished = d.end_at is not None and d.end_at < as_of
    return Truth(
        dossier_id=d.dossier_id,
        as_of=as_of,
        agency_code=unit.code,
        agency_name=unit.name,
        level=unit.level.value,
        district_code=unit.district_code,
        district_name=unit.district_name,
        field_code=proc.field_code,
        field_name=proc.field_name,
        procedure_code=proc.code,
        procedure_name=proc.name,
        channel=a.channel.value,
        online_level=proc.online_level.value,
        received_at=d.received_at,
        due_at=d.due,
        effective_due=due,
        standing=standing,
        late=late,
        outcome=d.finish.value if finished and d.finish else None,
        end_at=d.end_at if finished else None,
        judged_at=judged,
        supplement_count=sum(s.kind is StopKind.SUPPLEMENT and s.start < as_of for s in d.stops),
        apology=d.extended is not None and d.extended[0] < as_of,
        fee_due=d.fee_due,
        paid_online=d.paid_online_at is not None and d.paid_online_at < as_of,
        digitized=d.digitized,
        processing=d.processing if finished else None,
    )


# --- period totals ---------------------------------------------------------------

_CENT = Decimal("0.01")


def _two_decimals(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(_CENT, rounding=ROUND_HALF_UP)


def _rate(num: int | Fraction, den: int, times: int = 100) -> Decimal | None:
    return _two_decimals(Fraction(num) * times / den) if den else None


@dataclass
class TotalsRow:
    unit_code: str
    unit_name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLUMNS, 0))
    waiting_on_time: int = 0
    full_service: int = 0
    full_service_online: int = 0
    with_fee: int = 0
    paid_online: int = 0
    digitized: int = 0
    processing_days: Fraction = field(default_factory=Fraction)

    def rates(self) -> dict[str, Decimal | None]:
        c = self.counts
        good = c["finished_early"] + c["finished_on_time"]
        judged = c["finished_total"] + c["in_progress_total"] + c["waiting_supplement"]
        progress = good + c["in_progress_within_due"] + self.waiting_on_time
        return {
            "on_time_rate": _rate(good, c["finished_total"]),
            "late_rate": _rate(c["finished_late"], c["finished_total"]),
            "progress_ratio_766": _rate(progress, judged),
            "progress_score_766": _rate(progress, judged, times=20),
            "online_rate": _rate(c["received_online"], c["received_total"]),
            "full_online_rate": _rate(self.full_service_online, self.full_service),
            "online_payment_rate": _rate(self.paid_online, self.with_fee),
            "digitized_rate": _rate(self.digitized, c["received_total"]),
            "avg_processing_days": _rate(self.processing_days, c["finished_total"], times=1),
        }

    def record(self) -> dict[str, object]:
        """The row in CSV column order."""
        return (
            {"unit_code": self.unit_code, "unit_name": self.unit_name}
            | self.counts
            | (self.rates())
        )


_UNIT_OF = {
    "agency": lambda t: (t.agency_code, t.agency_name),
    "district": lambda t: (t.district_code, t.district_name),
    "field": lambda t: (t.field_code, t.field_name),
    "procedure": lambda t: (t.procedure_code, t.procedure_name),
}


class Totals:
    """II.06a counts for [start, end) judged at T = end, fed one truth at a time."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        day_length: timedelta,
        by: str = "agency",
        province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
    ) -> None:
        self.start, self.end, self.day_length = start, end, day_length
        self._unit = _UNIT_OF.get(by, lambda t: province)
        self._rows: dict[str, TotalsRow] = {}

    def add(self, t: Truth | None) -> None:
        if t is None:
            return
        if t.as_of != self.end:
            raise ValueError(f"{t.dossier_id} judged at {t.as_of}, not at {self.end}")
        if t.end_at is not None and t.end_at < self.start:
            return  # finished before the period: not part of it
        code, name = self._unit(t)
        row = self._rows.setdefault(code, TotalsRow(code, name))
        c = row.counts
        c["carried_over"] += t.received_at < self.start
        if t.received_at >= self.start:
            self._receipt(row, t)
        if t.finished:
            self._finish(row, t)
        elif t.standing == WAITING:
            c["waiting_supplement"] += 1
            row.waiting_on_time += not t.late
        else:
            c["in_progress_total"] += 1
            c["in_progress_within_due"] += t.standing == WITHIN_DUE
            c["in_progress_overdue"] += t.standing == OVERDUE

    @staticmethod
    def _receipt(row: TotalsRow, t: Truth) -> None:
        c = row.counts
        c["received_total"] += 1
        c["received_online"] += t.channel == "online"
        c["received_direct_postal"] += t.channel != "online"
        if t.online_level == "full":
            row.full_service += 1
            row.full_service_online += t.channel == "online"
        row.with_fee += t.fee_due
        row.paid_online += t.fee_due and t.paid_online
        row.digitized += t.digitized

    def _finish(self, row: TotalsRow, t: Truth) -> None:
        assert t.processing is not None
        c = row.counts
        c["finished_total"] += 1
        c["finished_early"] += t.standing == EARLY
        c["finished_on_time"] += t.standing == ON_TIME
        c["finished_late"] += t.standing == LATE
        c["stopped_or_withdrawn"] += t.outcome in ("rejected", "withdrawn")
        c["apologies"] += t.apology and t.standing == LATE
        row.processing_days += Fraction(
            int(t.processing.total_seconds()), int(self.day_length.total_seconds())
        )

    def rows(self) -> list[TotalsRow]:
        return [self._rows[code] for code in sorted(self._rows)]


def period_totals(
    dossiers: Iterable[Dossier],
    start: datetime,
    end: datetime,
    day_length: timedelta,
    by: str = "agency",
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> list[TotalsRow]:
    totals = Totals(start, end, day_length, by, province)
    for d in dossiers:
        totals.add(judge(d, end))
    return totals.rows()


def write_totals_csv(rows: Iterable[TotalsRow], out: IO[str]) -> None:
    """The CSV `motcua report --format csv` writes for the same period and unit kind."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        record = row.record()
        writer.writerow([csv_cell(record[name]) for name in CSV_COLUMNS])
