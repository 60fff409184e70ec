"""`export monthly`: the monthly evidence workbook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from motcua.console import err, say
from motcua.options import (
    DirectoryOption,
    EventsOption,
    SourceOption,
    UnitsAs,
    UnitsOption,
    check_unit,
    choose_source,
    no_data,
    parse_month,
    source_name,
)
from motcua.root import report_source, unit_view
from reports.render import write_records_csv
from reports.sources import ClickHouseSource, ReportSource
from reports.tables import BY_TITLE
from schemas.settings import Settings
from streams.rules.calendar import working_calendar
from streams.rules.period import CSV_COLUMNS, PeriodRow, UnitKind
from streams.rules.scorecard import UnitScorecard
from streams.rules.units import UnitView

export_app = typer.Typer(help="Xuất hồ sơ minh chứng (sổ tính Excel, CSV tiếng Việt).")


class ExtraSheet(StrEnum):
    AREA = "area"
    COMMUNE = "commune"


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@export_app.command(
    "monthly",
    help="Biểu II.06a của tháng theo cơ quan, lĩnh vực và huyện (--by: thêm khu vực, "
    "xã/phường), kèm tỷ lệ 766, biểu đồ "
    "và trang bìa (kỳ, thời điểm chốt, nguồn, số dòng, mã kiểm tra).",
)
def export_monthly(
    month: Annotated[str, typer.Option(help="Tháng, YYYY-MM.")],
    output: Annotated[Path, typer.Option(help="Tệp cần ghi.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="xlsx (sổ tính) hoặc csv (UTF-8 có BOM).")
    ] = ExportFormat.XLSX,
    unit: Annotated[str | None, typer.Option(help="Chỉ cơ quan này (mã cơ quan).")] = None,
    source: SourceOption = None,
    events: EventsOption = None,
    units: UnitsOption = UnitsAs.RECORDED,
    directory: DirectoryOption = None,
    by: Annotated[
        list[ExtraSheet] | None,
        typer.Option(
            "--by",
            help="Thêm biểu theo khu vực (area) hoặc xã/phường (commune); lặp lại cho cả hai.",
        ),
    ] = None,
) -> None:
    """The month's Biểu II.06a per agency, field and district, with a cover sheet.

    With --directory the 12-month trend uses the units valid at the month's
    end (METRICS.md §8): a --unit's trend across 1 July 2025 sums the months of
    the units it took over. The month's sheets follow --units.
    """
    from rich.progress import Progress

    from reports.export import SHEETS, MonthlyEvidence, write_monthly_workbook

    kinds = [*SHEETS, *(UnitKind(k.value) for k in dict.fromkeys(by or ()))]
    from reports.integrity import finding_record
    from streams.clickhouse.rollups import month_bounds

    settings = Settings()
    year, number = parse_month(month)
    chosen = choose_source(source, events)
    start, end = month_bounds(year, number, working_calendar(settings))
    view = unit_view(units, directory, end)
    rows = report_source(settings, chosen, events)
    unit_name = check_unit(rows, unit) if unit is not None and directory is None else None
    trend_view = None if directory is None else unit_view(UnitsAs.TODAY, directory, end)
    months = [
        ((year * 12 + number - 1 - back) // 12, (year * 12 + number - 1 - back) % 12 + 1)
        for back in range(11, -1, -1)
    ]
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("Tổng hợp số liệu", total=len(kinds) + 2 + len(months))
        tables = {}
        for kind in kinds:
            tables[kind] = rows.rows(start, end, kind, unit, units=view)
            progress.advance(task)
        province = province_total(rows.rows(start, end, UnitKind.PROVINCE, unit), settings)
        progress.advance(task)
        trend = monthly_trend(
            rows, months, settings, unit, trend_view, lambda: progress.advance(task)
        )
        scorecard = month_scorecard(rows, start, end, unit)
        progress.advance(task)
    if not any(tables.values()):
        what = f"của cơ quan {unit} " if unit else ""
        raise no_data(rows, f"{what}trong tháng {month}", settings)
    if unit is not None:
        province = replace(province, unit_code=unit, unit_name=unit_name or unit)
    evidence = MonthlyEvidence(
        month=f"{year:04d}-{number:02d}",
        province=province,
        tables=tables,
        trend=trend,
        cut_off=datetime.now(working_calendar(settings).tz).replace(microsecond=0),
        source=source_name(chosen, events),
        findings=[
            finding_record(f, working_calendar(settings)) for f in rows.findings(start, end, unit)
        ],
        scorecard=scorecard,
    )
    if fmt is ExportFormat.XLSX:
        write_monthly_workbook(evidence, output)
    else:
        # UTF-8 with a BOM: spreadsheet software then reads the diacritics right
        with output.open("w", encoding="utf-8-sig", newline="") as out:
            records = [r.as_record() for r in [*tables[UnitKind.AGENCY], province]]
            write_records_csv(CSV_COLUMNS, records, out)
    counts = ", ".join(f"{len(tables[k])} {BY_TITLE[k].removeprefix('theo ')}" for k in tables)
    rate = "—" if province.on_time_rate is None else f"{province.on_time_rate}%"
    say(
        f"Đã ghi {output}: tháng {evidence.month}"
        + (f", cơ quan {unit}" if unit else "")
        + f" — {counts}; {province.received_total} hồ sơ tiếp nhận, "
        f"{province.finished_total} đã giải quyết, tỷ lệ đúng hạn {rate} · "
        f"nguồn: {evidence.source}"
    )


def monthly_trend(
    rows: ReportSource,
    months: list[tuple[int, int]],
    settings: Settings,
    unit: str | None = None,
    today: UnitView | None = None,
    step: Callable[[], object] = lambda: None,
) -> list[tuple[str, PeriodRow]]:
    """(YYYY-MM, row) per month: the province's, or `unit`'s. With `today`
    (units valid at the last month's end) a unit's months before a merger
    are the sums of the units it took over (METRICS.md §8)."""
    from streams.clickhouse.rollups import month_bounds

    trend = []
    for y, m in months:
        bounds = month_bounds(y, m, working_calendar(settings))
        if today is not None and unit is not None:
            total = unit_total(rows.rows(*bounds, UnitKind.AGENCY, units=today), unit)
        else:
            total = province_total(rows.rows(*bounds, UnitKind.PROVINCE, unit), settings)
        trend.append((f"{y:04d}-{m:02d}", total))
        step()
    return trend


def unit_total(rows: list[PeriodRow], unit: str) -> PeriodRow:
    """The row of `unit` among rows of today's units; an empty one without it."""
    return next((r for r in rows if r.unit_code == unit), PeriodRow(unit, unit))


def month_scorecard(
    rows: ReportSource, start: datetime, end: datetime, unit: str | None
) -> list[UnitScorecard]:
    """The month's 766 scorecards: the province's then the agencies' (the unit's
    alone with --unit). From ClickHouse with the stored procedure catalogue
    (`motcua catalogue load`), as the board "Chỉ số 766"; from files with §7's
    stand-ins. The portal-only indicators show as missing."""
    from streams.clickhouse.scorecard import STORED_CATALOGUE

    def cards(by: UnitKind) -> list[UnitScorecard]:
        if isinstance(rows, ClickHouseSource):
            return rows.scorecard(start, end, by, catalogue=STORED_CATALOGUE)
        return rows.scorecard(start, end, by)

    agencies = cards(UnitKind.AGENCY)
    if unit is not None:
        return [c for c in agencies if c.unit_code == unit]
    return [*cards(UnitKind.PROVINCE), *agencies]


def province_total(rows: list[PeriodRow], settings: Settings) -> PeriodRow:
    """The province row; an empty one for a period with no dossiers."""
    return rows[0] if rows else PeriodRow(*settings.province)
