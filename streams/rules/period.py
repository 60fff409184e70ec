"""Period report in the shape of Biểu II.06a, with the 766 rates (METRICS.md §4).

Pure: dossier states in, rows out. Every state must be taken at the period's
end (T = end), which is what `dossier_state(events, end, calendar)` gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from schemas.events import Channel, Level, OnlineLevel
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import DossierState, Outcome, Standing
from streams.rules.units import AS_RECORDED, UnitView


class UnitKind(StrEnum):
    AGENCY = "agency"
    FIELD = "field"
    DISTRICT = "district"
    LEVEL = "level"
    PROCEDURE = "procedure"
    PROVINCE = "province"
    COMMUNE = "commune"  # xã/phường (METRICS.md §8)
    AREA = "area"  # khu vực: the district before 1 July 2025, the commune's area after


LEVEL_NAMES = {Level.PROVINCE: "Cấp tỉnh", Level.DISTRICT: "Cấp huyện", Level.COMMUNE: "Cấp xã"}

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
# Every integer counter of a PeriodRow: the report's counts and the
# numerators/denominators behind its rates (what a store keeps per unit).
STORED_COUNTS = (
    *COUNT_COLUMNS,
    "waiting_supplement_on_time",
    "received_full_service",
    "received_full_service_online",
    "received_with_fee",
    "received_paid_online",
    "received_digitized",
)

# Vietnamese headers for people (tables, workbooks); CSV keeps the spec's names.
COLUMN_LABELS_VI = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "carried_over": "Từ kỳ trước",
    "received_total": "Tiếp nhận mới",
    "received_online": "Trực tuyến",
    "received_direct_postal": "Trực tiếp, bưu chính",
    "finished_total": "Đã giải quyết",
    "finished_early": "Trước hạn",
    "finished_on_time": "Đúng hạn",
    "finished_late": "Quá hạn",
    "in_progress_total": "Đang giải quyết",
    "in_progress_within_due": "Trong hạn",
    "in_progress_overdue": "Quá hạn (đang giải quyết)",
    "waiting_supplement": "Chờ bổ sung",
    "stopped_or_withdrawn": "Dừng xử lý, rút hồ sơ",
    "apologies": "Xin lỗi",
    "on_time_rate": "Tỷ lệ đúng hạn (%)",
    "late_rate": "Tỷ lệ trễ hạn (%)",
    "progress_ratio_766": "Tiến độ giải quyết 766 (%)",
    "progress_score_766": "Điểm tiến độ (/20)",
    "online_rate": "Tỷ lệ trực tuyến (%)",
    "full_online_rate": "Tỷ lệ trực tuyến toàn trình (%)",
    "online_payment_rate": "Tỷ lệ thanh toán trực tuyến (%)",
    "digitized_rate": "Tỷ lệ số hóa (%)",
    "avg_processing_days": "Thời gian giải quyết TB (ngày)",
}

_CENT = Decimal("0.01")
_MICROSECOND = timedelta(microseconds=1)


def two_decimals(value: Fraction) -> Decimal:
    """Exact value → two decimals, half-up (how every rate and score is shown)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(_CENT, rounding=ROUND_HALF_UP)


def _percent(num: int, den: int) -> Decimal | None:
    return two_decimals(Fraction(100 * num, den)) if den else None


@dataclass
class PeriodRow:
    unit_code: str
    unit_name: str
    carried_over: int = 0
    received_total: int = 0
    received_online: int = 0
    received_direct_postal: int = 0
    finished_total: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    in_progress_total: int = 0
    in_progress_within_due: int = 0
    in_progress_overdue: int = 0
    waiting_supplement: int = 0
    stopped_or_withdrawn: int = 0
    apologies: int = 0
    # denominators and numerators behind the rates
    waiting_supplement_on_time: int = 0
    received_full_service: int = 0
    received_full_service_online: int = 0
    received_with_fee: int = 0
    received_paid_online: int = 0
    received_digitized: int = 0
    processing_time: Fraction = field(default_factory=Fraction)  # working days, summed

    def add(self, other: PeriodRow) -> None:
        for f in fields(self):
            if f.name not in ("unit_code", "unit_name"):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    # -- rates ---------------------------------------------------------------

    @property
    def on_time_rate(self) -> Decimal | None:
        return _percent(self.finished_early + self.finished_on_time, self.finished_total)

    @property
    def late_rate(self) -> Decimal | None:
        return _percent(self.finished_late, self.finished_total)

    def progress_766_counts(self) -> tuple[int, int]:
        """(numerator, denominator) of progress_ratio_766: the 766 scorecard's 2.1 reuses them."""
        den = self.finished_total + self.in_progress_total + self.waiting_supplement
        num = (
            self.finished_early
            + self.finished_on_time
            + self.in_progress_within_due
            + self.waiting_supplement_on_time
        )
        return num, den

    def _progress(self) -> Fraction | None:
        num, den = self.progress_766_counts()
        return Fraction(100 * num, den) if den else None

    @property
    def progress_ratio_766(self) -> Decimal | None:
        ratio = self._progress()
        return None if ratio is None else two_decimals(ratio)

    @property
    def progress_score_766(self) -> Decimal | None:
        ratio = self._progress()
        return None if ratio is None else two_decimals(ratio * 20 / 100)

    @property
    def online_rate(self) -> Decimal | None:
        return _percent(self.received_online, self.received_total)

    @property
    def full_online_rate(self) -> Decimal | None:
        return _percent(self.received_full_service_online, self.received_full_service)

    @property
    def online_payment_rate(self) -> Decimal | None:
        return _percent(self.received_paid_online, self.received_with_fee)

    @property
    def digitized_rate(self) -> Decimal | None:
        return _percent(self.received_digitized, self.received_total)

    @property
    def avg_processing_days(self) -> Decimal | None:
        if not self.finished_total:
            return None
        return two_decimals(self.processing_time / self.finished_total)

    def as_record(self) -> dict[str, object]:
        """The row in CSV column order (rates as Decimal or None)."""
        return {name: getattr(self, name) for name in CSV_COLUMNS}


def unit_of(
    state: DossierState,
    by: UnitKind,
    province: tuple[str, str],
    units: UnitView = AS_RECORDED,
) -> tuple[str, str]:
    """(code, name) of the unit a dossier is attributed to (its received event);
    `units` names agency, commune and area as recorded or as today's units."""
    r = state.received
    match by:
        case UnitKind.AGENCY:
            return units.agency(r)
        case UnitKind.COMMUNE:
            return units.commune(r)
        case UnitKind.AREA:
            return units.area(r)
        case UnitKind.FIELD:
            return r.field_code or "", r.field_name or ""
        case UnitKind.DISTRICT:
            return r.district_code or "", r.district_name or ""
        case UnitKind.LEVEL:
            level = r.level or Level.PROVINCE
            return level.value, LEVEL_NAMES[level]
        case UnitKind.PROCEDURE:
            return r.procedure_code or "", r.procedure_name or ""
        case UnitKind.PROVINCE:
            return province


def _count(
    row: PeriodRow, s: DossierState, start: datetime, end: datetime, calendar: WorkingCalendar
) -> None:
    received_at = s.received_at
    if received_at < start and (s.end_at is None or s.end_at >= start):
        row.carried_over += 1
    if start <= received_at < end:
        _count_receipt(row, s)
    if s.end_at is not None:
        if start <= s.end_at < end:
            _count_finish(row, s, calendar)
    elif s.standing is Standing.WAITING_SUPPLEMENT:
        row.waiting_supplement += 1
        row.waiting_supplement_on_time += not s.late
    else:
        row.in_progress_total += 1
        row.in_progress_within_due += s.standing is Standing.WITHIN_DUE
        row.in_progress_overdue += s.standing is Standing.OVERDUE


def _count_receipt(row: PeriodRow, s: DossierState) -> None:
    r = s.received
    row.received_total += 1
    row.received_online += r.channel is Channel.ONLINE
    row.received_direct_postal += r.channel in (Channel.DIRECT, Channel.POSTAL)
    if r.online_level is OnlineLevel.FULL:
        row.received_full_service += 1
        row.received_full_service_online += r.channel is Channel.ONLINE
    row.received_with_fee += s.fee_due
    row.received_paid_online += s.fee_due and s.paid_online
    row.received_digitized += s.digitized


def _count_finish(row: PeriodRow, s: DossierState, calendar: WorkingCalendar) -> None:
    assert s.end_at is not None
    row.finished_total += 1
    row.finished_early += s.standing is Standing.EARLY
    row.finished_on_time += s.standing is Standing.ON_TIME
    row.finished_late += s.standing is Standing.LATE
    row.stopped_or_withdrawn += s.outcome in (Outcome.STOPPED, Outcome.WITHDRAWN)
    row.apologies += s.apology and s.standing is Standing.LATE
    worked = calendar.working_time_between(s.received_at, s.end_at)
    row.processing_time += Fraction(worked // _MICROSECOND, calendar.day_length // _MICROSECOND)


def period_report(
    states: Iterable[DossierState],
    start: datetime,
    end: datetime,
    by: UnitKind,
    calendar: WorkingCalendar,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
    units: UnitView = AS_RECORDED,
) -> list[PeriodRow]:
    """II.06a rows for [start, end), one per unit with any dossier to show.

    `units`: the units of the time (default), or `UnitView.as_units_at(
    directory, end)` for today's units (METRICS.md §8: trends across 1 July 2025).
    """
    if end <= start:
        raise ValueError(f"period end {end} must be after its start {start}")
    rows: dict[str, PeriodRow] = {}
    named_at: dict[str, datetime] = {}  # a unit is named as on its latest receipt
    for s in states:
        if s.as_of != end:
            raise ValueError(f"dossier {s.dossier_id} is judged at {s.as_of}, not at {end}")
        if s.received_at >= end or (s.end_at is not None and s.end_at < start):
            continue  # not part of this period at all
        code, name = unit_of(s, by, province, units)
        row = rows.get(code)
        if row is None:
            row = rows[code] = PeriodRow(code, name)
        if code not in named_at or s.received_at > named_at[code]:
            row.unit_name, named_at[code] = name, s.received_at
        _count(row, s, start, end, calendar)
    return [rows[code] for code in sorted(rows)]
