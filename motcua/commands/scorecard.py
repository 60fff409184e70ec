"""`scorecard`, `forecast`: the 766 scorecard of a period and the month's 2.1 forecast
(METRICS.md §7), from event files or the pipeline's ClickHouse.

The indicators only the national portal decides (1.x, 3.5, 3.5b, 4.5a, 4.C,
5.2, 5.3) come from its published figures (`--portal FILE`, repeatable,
read by reports/portal766.py); without them, or where a file leaves one
unpublished, they show as missing, never as zero.
"""

from __future__ import annotations

import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from motcua.commands.reports import check_xlsx
from motcua.console import say
from motcua.options import (
    EventsOption,
    FromOption,
    OutputOption,
    ReportFormat,
    SourceOption,
    ToOption,
    check_files,
    choose_source,
    no_data,
    parse_day,
    parse_period,
    source_name,
)
from motcua.root import report_source
from reports.sources import ClickHouseSource
from reports.tables import BY_TITLE
from schemas.catalogue import ProcedureCatalogue, parse_catalogue
from schemas.scoring import DEFAULT_SCORING, ScoringTable, scoring_from_json
from schemas.settings import Settings
from streams.clickhouse.scorecard import STORED_CATALOGUE
from streams.problems import USAGE, Problem
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind
from streams.rules.scorecard import Source as ScoreSource

app = typer.Typer()

ByOption = Annotated[
    UnitKind,
    typer.Option(
        help="Chấm điểm theo: agency (cơ quan), field (lĩnh vực), procedure (thủ tục), "
        "province (toàn tỉnh), district (huyện) hoặc level (cấp)."
    ),
]
ScoringOption = Annotated[
    Path | None,
    typer.Option(
        "--scoring",
        help="Tệp JSON sửa bảng điểm mặc định theo mã chỉ số, ví dụ "
        '{"4.2": {"target": 70}, "2.1": {"max_points": 20}}.',
    ),
]


def read_catalogue(path: Path | None) -> ProcedureCatalogue | None:
    """The procedure catalogue (JSON or CSV); a Problem naming the file if unreadable."""
    if path is None:
        return None
    check_files([path], "danh mục thủ tục")
    try:
        return parse_catalogue(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            f"{path}: không đọc được danh mục thủ tục ({exc})",
            "cần tệp JSON hoặc CSV, mỗi thủ tục một dòng với các cột code, paper_result, "
            "full_online_eligible, fee (EVENTS.md §4)",
        ) from None


def read_scoring(path: Path | None) -> ScoringTable:
    """The default points table with an operator's overrides; a Problem naming the file."""
    if path is None:
        return DEFAULT_SCORING
    check_files([path], "bảng điểm")
    try:
        return scoring_from_json(path.read_bytes())
    except ValueError as exc:
        raise Problem(
            f"{path}: không dùng được làm bảng điểm ({' '.join(str(exc).split())})",
            'cần một đối tượng JSON mã chỉ số → trường cần sửa, ví dụ {"4.2": {"target": 70}}; '
            "các trường: name, max_points, target",
        ) from None


PortalOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--portal",
        help="Tệp số liệu 766 của Cổng Dịch vụ công quốc gia (cây tiến độ, cây trực tuyến, "
        "hoặc dạng chung JSON/CSV); lặp lại cho nhiều tệp. Các chỉ số chỉ Cổng chấm "
        "(1.x, 3.5, 3.5b, 4.5a, 4.C, 5.2, 5.3) lấy điểm từ đây và được cộng vào tổng.",
    ),
]


def read_portal(
    paths: list[Path] | None, table: ScoringTable, by: UnitKind, province_code: str
) -> dict[tuple[str, str], Decimal | None] | None:
    """The scorecard's `portal` argument from the portal's files (None without any).

    By province, the files' province row (the trees' parent, `PROVINCE_TOTAL`)
    is the scorecard's province row."""
    from motcua.commands.reports import PORTAL_FIGURES_EXPECTED
    from reports.portal766 import (
        PROVINCE_TOTAL,
        PortalFigureError,
        load_portal_figures,
        merge_portal_figures,
        portal_points,
    )

    if not paths:
        return None
    check_files(paths, "tệp của Cổng")
    loaded = []
    for path in paths:
        try:
            loaded.append(
                load_portal_figures(
                    path, table=table, on_unknown=lambda m, p=path: say(f"Bỏ qua {p}: {m}")
                )
            )
        except PortalFigureError as exc:
            raise Problem(f"{path} không dùng được: {exc}", PORTAL_FIGURES_EXPECTED) from None
    try:
        figures = merge_portal_figures(*loaded)
    except PortalFigureError as exc:
        raise Problem(
            f"các tệp của Cổng mâu thuẫn nhau: {exc}", "mỗi số liệu chỉ lấy từ một tệp", USAGE
        ) from None
    if by is UnitKind.PROVINCE:
        figures = {
            (province_code if f.level == PROVINCE_TOTAL else code, indicator): f
            for (code, indicator), f in figures.items()
        }
    return portal_points(figures, table)


def print_table(table: Table, output: Path | None) -> None:
    """On a terminal as it is; to a file or a pipe without colours, wide enough not to wrap."""
    if output is not None:
        with output.open("w", encoding="utf-8") as out:
            Console(file=out, width=240, no_color=True).print(table)
        return
    console = Console()
    if console.is_terminal:
        console.print(table)
    else:
        Console(file=sys.stdout, width=240, no_color=True).print(table)


@app.command(
    help="Bảng điểm 766 (Quyết định 766/QĐ-TTg) của [--from, --to): mọi chỉ số tính được "
    "từ hồ sơ, từng đơn vị, kèm tử số, mẫu số, tỷ lệ, điểm, điểm mất và nguồn số liệu.",
)
def scorecard(
    from_: FromOption,
    to: ToOption,
    by: ByOption = UnitKind.AGENCY,
    catalogue: Annotated[
        Path | None,
        typer.Option(
            help="Danh mục thủ tục (JSON hoặc CSV, EVENTS.md §4): thủ tục nào trả kết quả "
            "giấy, đủ điều kiện trực tuyến toàn trình. Không có thì dùng giá trị thay thế "
            "của METRICS.md §7."
        ),
    ] = None,
    scoring: ScoringOption = None,
    portal: PortalOption = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="table (bảng cho người đọc), csv (đúng cột của METRICS.md §7) "
            "hoặc xlsx (cần --output).",
        ),
    ] = ReportFormat.TABLE,
    output: OutputOption = None,
    events: EventsOption = None,
    source: SourceOption = None,
) -> None:
    """The 766 scorecard of [from, to) by unit from event files or ClickHouse."""
    from reports.render import write_records_xlsx
    from reports.scorecard import (
        LABELS_VI,
        XLSX_COLUMNS,
        scorecard_table,
        write_scorecard_csv,
        xlsx_records,
    )

    settings = Settings()
    start, end = parse_period(from_, to, working_calendar(settings).tz)
    check_xlsx(fmt, output)
    procedures = read_catalogue(catalogue)
    table = read_scoring(scoring)
    chosen = choose_source(source, events)
    rows_source = report_source(settings, chosen, events)
    figures = read_portal(portal, table, by, settings.province_code)
    if procedures is None and isinstance(rows_source, ClickHouseSource):
        # the catalogue `motcua catalogue load` stored (stand-ins where it lists nothing)
        cards = rows_source.scorecard(
            start, end, by, catalogue=STORED_CATALOGUE, table=table, portal=figures
        )
    else:
        cards = rows_source.scorecard(
            start, end, by, catalogue=procedures, table=table, portal=figures
        )
    if not cards:
        raise no_data(rows_source, f"trong kỳ {from_} đến trước {to}", settings)
    title = f"Bảng điểm 766 — {from_} đến trước {to} — {BY_TITLE[by]}"
    if fmt is ReportFormat.CSV:
        if output is None:
            write_scorecard_csv(cards, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                write_scorecard_csv(cards, out)
            say(f"Đã ghi {output} (CSV, {sum(len(c.scores) for c in cards)} dòng).")
    elif fmt is ReportFormat.XLSX:
        assert output is not None  # check_xlsx
        records = xlsx_records(cards)
        write_records_xlsx(XLSX_COLUMNS, LABELS_VI, records, output, title, "Bảng điểm 766")
        say(f"Đã ghi {output} (Bảng điểm 766, {len(records)} dòng).")
    else:
        print_table(scorecard_table(cards, title), output)
        if output is not None:
            say(f"Đã ghi bảng vào {output}.")
    published = "chưa có"
    if figures is not None:
        given = sum(s.source is ScoreSource.PORTAL for card in cards for s in card.scores)
        published = f"{given} số liệu từ {', '.join(str(p) for p in portal or [])}"
    if procedures is not None:
        listed = f"{catalogue} ({len(procedures)} thủ tục)"
    elif isinstance(rows_source, ClickHouseSource):
        listed = "danh mục đã lưu trong ClickHouse (motcua catalogue load)"
    else:
        listed = "không có"
    say(
        f"{len(cards)} đơn vị {BY_TITLE[by]} · kỳ {from_} đến trước {to} · "
        f"danh mục thủ tục: {listed} · "
        f"nhóm chỉ số của Cổng (1.x, 3.5, 3.5b, 4.5a, 4.C, 5.2, 5.3): {published} · "
        f"nguồn: {source_name(chosen, events)}"
    )


def parse_instant(text: str | None, settings: Settings) -> datetime:
    """--at: a day (its 00:00) or a local date-time; now without it."""
    tz = working_calendar(settings).tz
    if text is None:
        return datetime.now(tz)
    if len(text) == 10:
        return datetime.combine(parse_day(text), datetime.min.time(), tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Problem(
            f"thời điểm không hợp lệ: {text!r}",
            "viết YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM (giờ Việt Nam), ví dụ 2026-08-20T09:00",
            USAGE,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@app.command(
    help="Dự báo điểm 2.1 (tiến độ giải quyết) của tháng đang chạy: tốt nhất, dự kiến, xấu "
    "nhất theo từng đơn vị, và danh sách hồ sơ cần giải quyết đúng hạn trước hết.",
)
def forecast(
    at: Annotated[
        str | None,
        typer.Option(
            help="Thời điểm dự báo, YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM giờ Việt Nam "
            "(mặc định: bây giờ); dự báo cho tháng chứa thời điểm này."
        ),
    ] = None,
    by: ByOption = UnitKind.AGENCY,
    top: Annotated[
        int, typer.Option(min=1, help="Số hồ sơ cần ưu tiên hiển thị (mặc định 20).")
    ] = 20,
    scoring: ScoringOption = None,
    output: OutputOption = None,
    events: EventsOption = None,
    source: SourceOption = None,
) -> None:
    """Best / expected / worst 2.1 points of the month and the at-risk dossiers."""
    from reports.scorecard import forecast_tables

    settings = Settings()
    calendar = working_calendar(settings)
    now = parse_instant(at, settings)
    table = read_scoring(scoring)
    chosen = choose_source(source, events)
    rows_source = report_source(settings, chosen, events)
    result = rows_source.forecast(now, by, table)
    if not result.units:
        raise no_data(rows_source, f"để tính 2.1 của tháng {calendar.local(now):%m/%Y}", settings)
    units, at_risk = forecast_tables(result, calendar, top)
    if output is not None:
        with output.open("w", encoding="utf-8") as out:
            console = Console(file=out, width=240, no_color=True)
            console.print(units)
            console.print(at_risk)
        say(f"Đã ghi bảng vào {output}.")
    else:
        print_table(units, None)
        print_table(at_risk, None)
    say(
        f"Dự báo lúc {calendar.local(now):%H:%M %d/%m/%Y} · {len(result.units)} đơn vị "
        f"{BY_TITLE[by]} · {len(result.at_risk)} hồ sơ chưa ngã ngũ · "
        f"tỷ lệ đúng hạn 90 ngày và hồ sơ từ: {source_name(chosen, events)}"
    )
