"""The 766 scorecard as files and tables (`motcua scorecard`): the CSV exactly
as METRICS.md §7 lays it out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import IO

from rich import box
from rich.table import Table
from rich.text import Text

from reports.render import cell, write_records_csv
from schemas.scoring import DEFAULT_SCORING, ScoringTable
from streams.rules.calendar import WorkingCalendar
from streams.rules.forecast import Forecast, forecast, month_of, on_time_shares
from streams.rules.lifecycle import DossierState, Standing
from streams.rules.period import UnitKind, two_decimals
from streams.rules.scorecard import (
    SCORECARD_COLUMNS,
    Source,
    UnitScorecard,
    scorecard_records,
)

SHARE_DAYS = 90  # the expected case's on-time share: the last 90 days (METRICS.md §7)


def write_scorecard_csv(cards: Sequence[UnitScorecard], out: IO[str]) -> None:
    """`motcua scorecard --format csv`: decimals with two places, empty where undefined."""
    write_records_csv(SCORECARD_COLUMNS, scorecard_records(cards), out)


def forecast_window(now: datetime, calendar: WorkingCalendar) -> tuple[datetime, datetime]:
    """[start, now): the dossiers a forecast at `now` needs are those active then
    (the month's 2.1 population and the last 90 days' finished ones)."""
    return min(month_of(now, calendar)[0], now - timedelta(days=SHARE_DAYS)), now


def month_forecast(
    states: list[DossierState],
    now: datetime,
    by: UnitKind,
    calendar: WorkingCalendar,
    *,
    table: ScoringTable = DEFAULT_SCORING,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> Forecast:
    """§7's forecast for the month of `now` with each unit's on-time share of the
    last 90 days from the same states (taken at `now`)."""
    shares = on_time_shares(states, now, by, days=SHARE_DAYS, province=province)
    return forecast(states, now, by, calendar, on_time_share=shares, table=table, province=province)


# -- for people: a table, an xlsx sheet ----------------------------------------------------

SOURCE_VI = {
    Source.COMPUTED: "tính từ hồ sơ",
    Source.PORTAL: "Cổng DVC quốc gia",
    Source.MISSING: "chưa có",
}
XLSX_COLUMNS = (
    "unit_code", "unit_name", "indicator", "indicator_name", "numerator", "denominator",
    "rate", "points", "max", "points_lost", "target", "source",
)  # fmt: skip
LABELS_VI = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "indicator": "Chỉ số",
    "indicator_name": "Tên chỉ số",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "rate": "Tỷ lệ (%)",
    "points": "Điểm",
    "max": "Tối đa",
    "points_lost": "Điểm mất",
    "target": "Chỉ tiêu (%)",
    "source": "Nguồn",
}
TOTAL = "Tổng"


def xlsx_records(cards: Sequence[UnitScorecard]) -> list[dict[str, object]]:
    """The CSV's rows with the indicator's name and the points lost, for a sheet;
    each unit's last row is its total."""
    records: list[dict[str, object]] = []
    for card in cards:
        for s in card.scores:
            records.append(
                {
                    "unit_code": card.unit_code,
                    "unit_name": card.unit_name,
                    "indicator": s.indicator.id,
                    "indicator_name": s.indicator.name,
                    "numerator": s.numerator,
                    "denominator": s.denominator,
                    "rate": s.rate,
                    "points": s.points,
                    "max": s.indicator.max_points,
                    "points_lost": s.points_lost,
                    "target": s.indicator.target,
                    "source": s.source.value,
                }
            )
        records.append(_total_record(card) | {"source": ""})
    return records


def _total_record(card: UnitScorecard) -> dict[str, object]:
    return dict.fromkeys(XLSX_COLUMNS) | {
        "unit_code": card.unit_code,
        "unit_name": card.unit_name,
        "indicator": TOTAL,
        "indicator_name": "Tổng điểm các chỉ số có số liệu",
        "points": card.total,
        "max": card.total_max,
        "points_lost": card.total_max - card.total,
    }


def scorecard_table(cards: Sequence[UnitScorecard], title: str) -> Table:
    """Per unit, each indicator's figures and where they came from, then its total;
    points lost are highlighted where there are any."""
    table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, show_edge=False)
    columns = [c for c in XLSX_COLUMNS if c != "target"]
    for name in columns:
        left = name in ("unit_code", "unit_name", "indicator", "indicator_name", "source")
        table.add_column(LABELS_VI[name], justify="left" if left else "right", overflow="fold")
    for card in cards:
        for i, s in enumerate(card.scores):
            lost = s.points_lost
            table.add_row(
                card.unit_code if i == 0 else "",
                card.unit_name if i == 0 else "",
                s.indicator.id,
                s.indicator.name,
                cell(s.numerator),
                cell(s.denominator),
                cell(s.rate),
                cell(s.points),
                cell(s.indicator.max_points),
                Text(cell(lost), style="bold red" if lost else ""),
                Text(SOURCE_VI[s.source], style="dim" if s.source is Source.MISSING else ""),
            )
        total = _total_record(card)
        lost_style = "bold red" if card.total_max > card.total else ""
        table.add_row(
            "", "", TOTAL, str(total["indicator_name"]), "", "", "",
            cell(card.total), cell(card.total_max),
            Text(cell(total["points_lost"]), style=lost_style),
            "",
            style="bold",
            end_section=True,
        )  # fmt: skip
    return table


# -- the forecast --------------------------------------------------------------------------

STANDING_VI = {
    Standing.WITHIN_DUE: "đang giải quyết, trong hạn",
    Standing.OVERDUE: "đang giải quyết, quá hạn",
    Standing.WAITING_SUPPLEMENT: "chờ bổ sung",
}


def _share(share: Fraction | None) -> str:
    return "" if share is None else cell(two_decimals(share * 100))


def forecast_tables(result: Forecast, calendar: WorkingCalendar, top: int) -> tuple[Table, Table]:
    """The units' best / expected / worst 2.1 points, and the `top` open dossiers
    whose finishing on time saves the most points."""
    first = calendar.local(result.month_start)
    month = f"{first:%m/%Y}"
    units = Table(
        title=f"Dự báo điểm 2.1 (tiến độ giải quyết) tháng {month}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    headers = [
        ("Mã đơn vị", "left"), ("Tên đơn vị", "left"), ("Hồ sơ tính 2.1", "right"),
        ("Đã chắc đúng hạn", "right"), ("Đã trễ hạn", "right"), ("Chưa ngã ngũ", "right"),
        ("Tỷ lệ đúng hạn 90 ngày (%)", "right"), ("Điểm tốt nhất", "right"),
        ("Điểm dự kiến", "right"), ("Điểm xấu nhất", "right"),
    ]  # fmt: skip
    for header, justify in headers:
        units.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for u in result.units:
        units.add_row(
            u.unit_code, u.unit_name, str(u.denominator), str(u.on_time), str(u.late),
            str(u.undecided), _share(u.share), cell(u.best), cell(u.expected), cell(u.worst),
        )  # fmt: skip
    shown = result.at_risk[:top]
    risky = Table(
        title=f"Hồ sơ cần giải quyết đúng hạn trước hết ({len(shown)}/{len(result.at_risk)}, "
        f"hạn trước cuối tháng {month})",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for header, justify in [
        ("Mã hồ sơ", "left"), ("Mã đơn vị", "left"), ("Tên đơn vị", "left"),
        ("Hạn xử lý", "left"), ("Tình trạng", "left"), ("Điểm giữ được", "right"),
    ]:  # fmt: skip
        risky.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in shown:
        risky.add_row(
            r.dossier_id, r.unit_code, r.unit_name, f"{calendar.local(r.due):%H:%M %d/%m/%Y}",
            STANDING_VI.get(r.standing, r.standing.value), cell(r.points_saved),
        )  # fmt: skip
    return units, risky
