"""`report`, `alerts`, `integrity`, `reconcile`: the numbers of a period."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from motcua.console import say
from motcua.options import (
    DirectoryOption,
    EventsOption,
    FromOption,
    OutputOption,
    ReportFormat,
    Source,
    SourceOption,
    ToOption,
    UnitsAs,
    UnitsOption,
    check_files,
    check_unit,
    choose_source,
    no_data,
    parse_month,
    parse_period,
    source_name,
)
from motcua.root import report_source, unit_view
from reports.render import TABLE_COLUMNS, write_records_csv, write_records_xlsx
from reports.sources import ClickHouseSource, FileSource
from reports.tables import BY_TITLE, TableSpec, plain_table, terminal_table, total_row, unit_labels
from schemas.settings import Settings
from streams.problems import USAGE, Problem
from streams.rules.calendar import working_calendar
from streams.rules.period import CSV_COLUMNS, UnitKind

app = typer.Typer()


@app.command(
    help="Báo cáo kỳ theo Biểu II.06a cho [--from, --to): từ tệp sự kiện (không cần máy chủ) "
    "hoặc từ ClickHouse của hệ thống.",
)
def report(
    from_: FromOption,
    to: ToOption,
    by: Annotated[
        UnitKind,
        typer.Option(
            help="Nhóm theo: agency (cơ quan), commune (xã/phường), area (khu vực: huyện "
            "trước 1/7/2025, khu vực của xã/phường theo danh mục từ ngày đó), field (lĩnh "
            "vực), district (huyện), level (cấp), procedure (thủ tục), province (toàn tỉnh)."
        ),
    ] = UnitKind.AGENCY,
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="csv (đủ cột, tên cột máy), table (bảng cho người đọc) hoặc xlsx (cần --output).",
        ),
    ] = ReportFormat.CSV,
    output: OutputOption = None,
    events: EventsOption = None,
    source: SourceOption = None,
    units: UnitsOption = UnitsAs.RECORDED,
    directory: DirectoryOption = None,
) -> None:
    """Period report (Biểu II.06a) for [from, to) from event files or ClickHouse."""
    settings = Settings()
    start, end = parse_period(from_, to, working_calendar(settings).tz)
    check_xlsx(fmt, output)
    view = unit_view(units, directory, end)
    chosen = choose_source(source, events)
    rows_source = report_source(settings, chosen, events)
    rows = rows_source.rows(start, end, by, units=view)
    if not rows:
        raise no_data(rows_source, f"trong kỳ {from_} đến trước {to}", settings)
    today = " (theo đơn vị hiện nay)" if view.at is not None else ""
    title = f"Biểu II.06a — {from_} đến trước {to} — {BY_TITLE[by]}{today}"
    spec = TableSpec(
        title,
        TABLE_COLUMNS,
        unit_labels(by),
        [r.as_record() for r in rows],
        total_row(rows).as_record() if len(rows) > 1 else None,
        drop_order=REPORT_DROP_ORDER,
    )
    emit_table(spec, CSV_COLUMNS, fmt, output, "Biểu II.06a")
    say(
        f"{len(rows)} dòng {BY_TITLE[by]} · kỳ {from_} đến trước {to} · "
        f"nguồn: {source_name(chosen, events)}"
    )


# the report table's columns a narrow terminal leaves out, least read first
REPORT_DROP_ORDER = (
    "avg_processing_days",
    "carried_over",
    "waiting_supplement",
    "unit_code",
    "online_rate",
    "in_progress_overdue",
)


class AlertsFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"


@app.command(
    help="Mọi cảnh báo thanh tra của [--from, --to) (sắp đến hạn, quá hạn, nhắc quá hạn), "
    "đúng danh sách bộ theo dõi gửi cho khoảng đó: từ tệp sự kiện hoặc từ ClickHouse.",
)
def alerts(
    from_: FromOption,
    to: ToOption,
    unit: Annotated[str | None, typer.Option(help="Chỉ cơ quan này (mã cơ quan).")] = None,
    fmt: Annotated[
        AlertsFormat, typer.Option("--format", help="table (bảng) hoặc csv.")
    ] = AlertsFormat.TABLE,
    output: OutputOption = None,
    events: EventsOption = None,
    source: SourceOption = None,
) -> None:
    """Every inspector alert of [from, to): the list the watch sends for that span."""
    from reports.alerts import (
        ALERT_COLUMNS,
        alert_record,
        alerts_table,
        facts_of_events,
        span_alerts,
    )
    from streams.rules.watch import watch_config

    settings = Settings()
    cal = working_calendar(settings)
    start, end = parse_period(from_, to, cal.tz)
    chosen = choose_source(source, events)
    rows_source = report_source(settings, chosen, events)
    if unit is not None:
        check_unit(rows_source, unit)
    if isinstance(rows_source, ClickHouseSource):
        from streams.clickhouse.alerts import read_watch_facts

        facts = read_watch_facts(rows_source.engine, start, end)
    else:
        assert isinstance(rows_source, FileSource)
        facts = facts_of_events(rows_source.events, cal)
    found = span_alerts(facts, start, end, cal, watch_config(settings).alerts, unit)
    records = [alert_record(a, cal) for a in found]
    title = f"Cảnh báo thanh tra — {from_} đến trước {to}" + (f" — {unit}" if unit else "")
    table = alerts_table(records, title) if fmt is AlertsFormat.TABLE else None
    print_records(ALERT_COLUMNS, records, table, output)
    say(f"{len(records)} cảnh báo · nguồn: {source_name(chosen, events)}")


def print_records(
    columns: Sequence[str], records: list, table: Table | None, output: Path | None
) -> None:
    """The rich `table` when given, else CSV of `columns`; to `output` or stdout."""
    if table is not None:
        Console(file=output.open("w", encoding="utf-8") if output else None).print(table)
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_records_csv(columns, records, out)
    else:
        write_records_csv(columns, records, sys.stdout)


class FindingsFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"


@app.command(
    help="Các hồ sơ bị sửa sau khi đã ghi nhận (METRICS.md §9), phát hiện trong [from, to): "
    "một dòng cho mỗi dấu hiệu, từ tệp sự kiện hoặc từ ClickHouse."
)
def integrity(
    from_: FromOption,
    to: ToOption,
    unit: Annotated[str | None, typer.Option(help="Chỉ cơ quan này (mã cơ quan).")] = None,
    fmt: Annotated[
        FindingsFormat, typer.Option("--format", help="table (bảng), csv hoặc xlsx.")
    ] = FindingsFormat.TABLE,
    output: OutputOption = None,
    events: EventsOption = None,
    source: SourceOption = None,
) -> None:
    """Dossiers rewritten after the fact, observed in [from, to): one row per finding."""
    from reports.integrity import (
        FINDING_COLUMNS,
        FINDING_LABELS_VI,
        finding_record,
        findings_table,
        vietnamese,
    )
    from reports.render import write_records_xlsx

    settings = Settings()
    cal = working_calendar(settings)
    start, end = parse_period(from_, to, cal.tz)
    if fmt is FindingsFormat.XLSX and output is None:
        raise Problem("--format xlsx cần nơi ghi tệp", "thêm --output TỆP.xlsx", USAGE)
    chosen = choose_source(source, events)
    rows_source = report_source(settings, chosen, events)
    if unit is not None:
        check_unit(rows_source, unit)
    records = [finding_record(f, cal) for f in rows_source.findings(start, end, unit)]
    title = f"Dấu hiệu sửa hồ sơ sau khi đã ghi nhận — {from_} đến trước {to}"
    title += f" — {unit}" if unit else ""
    if fmt is FindingsFormat.XLSX:
        assert output is not None
        rows = [vietnamese(r) for r in records]
        write_records_xlsx(FINDING_COLUMNS, FINDING_LABELS_VI, rows, output, title, "Dấu hiệu")
        say(f"đã ghi {output}")
    else:
        table = findings_table(records, title) if fmt is FindingsFormat.TABLE else None
        print_records(FINDING_COLUMNS, records, table, output)
    say(f"{len(records)} dấu hiệu · nguồn: {source_name(chosen, events)}")


def emit_table(
    spec: TableSpec,
    csv_columns: Sequence[str],
    fmt: ReportFormat,
    output: Path | None,
    sheet: str,
) -> None:
    """Records as CSV (all columns), a table for people, or an xlsx sheet."""
    if fmt is ReportFormat.XLSX:
        assert output is not None  # check_xlsx
        write_records_xlsx(csv_columns, spec.labels, spec.records, output, spec.title, sheet)
        say(f"Đã ghi {output} ({sheet}, {len(spec.records)} dòng).")
    elif fmt is ReportFormat.TABLE:
        if output is not None:
            output.write_text(plain_table(spec), encoding="utf-8")
            say(f"Đã ghi bảng vào {output}.")
            return
        console = Console()
        if console.is_terminal:
            console.print(terminal_table(spec, console.width))
        else:  # a pipe or a log: a plain table, whatever the width
            sys.stdout.write(plain_table(spec))
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_records_csv(csv_columns, spec.records, out)
        say(f"Đã ghi {output} (CSV, {len(spec.records)} dòng).")
    else:
        write_records_csv(csv_columns, spec.records, sys.stdout)


def check_xlsx(fmt: ReportFormat, output: Path | None) -> None:
    if fmt is ReportFormat.XLSX and output is None:
        raise Problem("--format xlsx cần --output TỆP.xlsx", "thêm --output TỆP.xlsx", USAGE)


PORTAL_EXPECTED = (
    "cần tệp «Tiến độ giải quyết» (dvc-progress-tree) của Cổng Dịch vụ công quốc gia: "
    '{"data": {"parent": {…}, "children": [{"departmentCode", "totalReceived", '
    '"totalOnTime", …}]}}, ví dụ ../shared/data/portal-766/dvc-progress-tree.month.sample.json'
)


@app.command(
    help="Đối chiếu số liệu tiến độ 766 của hệ thống với Cổng Dịch vụ công quốc gia, "
    "từng đơn vị, kèm chênh lệch; với --scorecard, đối chiếu cả bảng điểm 766.",
)
def reconcile(
    portal_files: Annotated[
        list[Path],
        typer.Argument(
            help="Tệp JSON «Tiến độ giải quyết» (dvc-progress-tree) tải từ Cổng, một tháng. "
            "Với --scorecard: một hay nhiều tệp số liệu Cổng (cây tiến độ, cây «Cung cấp DVC "
            "trực tuyến», dạng chung JSON/CSV theo chỉ số hoặc nhóm).",
            metavar="PORTAL_FILE",
        ),
    ],
    month: Annotated[str, typer.Option(help="Tháng của tệp Cổng, YYYY-MM.")],
    source: SourceOption = None,
    events: EventsOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="table (bảng), csv hoặc xlsx (cần --output).")
    ] = ReportFormat.TABLE,
    output: OutputOption = None,
    whole: Annotated[
        bool,
        typer.Option(
            "--scorecard",
            help="Đối chiếu cả bảng điểm 766 (mọi chỉ số và nhóm hệ thống tính được) với số liệu "
            "Cổng đã công bố, thay vì chỉ tiến độ; cần --events.",
        ),
    ] = False,
    catalogue: Annotated[
        Path | None,
        typer.Option(help="Danh mục TTHC (JSON hoặc CSV) cho mẫu số của bảng điểm (--scorecard)."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--directory",
            help="Danh mục đơn vị có đơn vị kế thừa: hồ sơ của đơn vị đã sáp nhập được cộng vào "
            "đơn vị (sở, xã/phường) kế thừa mà Cổng liệt kê.",
        ),
    ] = None,
) -> None:
    """Our 766 progress figures per unit beside the national portal's, with differences;
    with --scorecard, every indicator and group we compute beside the portal's figures."""
    if whole:
        _reconcile_scorecard(portal_files, month, source, events, fmt, output, catalogue)
        return
    if catalogue is not None:
        raise Problem("--catalogue chỉ dùng với --scorecard", "thêm --scorecard", USAGE)
    if len(portal_files) != 1:
        raise Problem(
            "đối chiếu tiến độ cần đúng một tệp «Tiến độ giải quyết» của Cổng",
            "đưa một tệp, hoặc thêm --scorecard để đối chiếu cả bảng điểm với nhiều tệp",
            USAGE,
        )
    [portal_json] = portal_files
    from reports.reconcile import (
        RECONCILE_COLUMNS,
        RECONCILE_LABELS_VI,
        RECONCILE_TABLE_COLUMNS,
        PortalFormatError,
        Status,
        load_portal_progress,
    )
    from reports.reconcile import reconcile as compare
    from streams.clickhouse.rollups import month_bounds

    settings = Settings()
    year, number = parse_month(month)
    check_xlsx(fmt, output)
    check_files([portal_json], "tệp của Cổng")
    chosen = choose_source(source, events)
    try:
        parent, children = load_portal_progress(portal_json.read_bytes())
    except PortalFormatError as exc:
        raise Problem(
            f"{portal_json} không dùng được để đối chiếu: {exc}", PORTAL_EXPECTED
        ) from None
    start, end = month_bounds(year, number, working_calendar(settings))
    rows = report_source(settings, chosen, events)
    agencies = rows.rows(start, end, UnitKind.AGENCY)
    if not agencies:
        raise no_data(rows, f"trong tháng {month}", settings)
    if directory is not None:
        from motcua.root import unit_directory
        from reports.reconcile import through_directory

        agencies = through_directory(agencies, children, unit_directory(directory))
    province = rows.rows(start, end, UnitKind.PROVINCE)
    province = [replace(r, unit_code=parent.code) for r in province]
    lines = compare([parent], province) + compare(children, agencies)
    records = [line.record() for line in lines]
    title = f"Đối chiếu với Cổng Dịch vụ công quốc gia — tháng {month}"
    columns = RECONCILE_TABLE_COLUMNS
    spec = TableSpec(title, columns, RECONCILE_LABELS_VI, records, drop_order=RECONCILE_DROP_ORDER)
    emit_table(spec, RECONCILE_COLUMNS, fmt, output, "Đối chiếu 766")
    counts = {status: sum(line.status is status for line in lines) for status in Status}
    say(
        f"Tháng {month}: {len(lines)} dòng đối chiếu — "
        + ", ".join(f"{status.value}: {n}" for status, n in counts.items())
        + f" · nguồn: {source_name(chosen, events)}"
    )


RECONCILE_DROP_ORDER = ("judged_difference", "unit_code", "portal_ratio", "our_ratio")


PORTAL_FIGURES_EXPECTED = (
    "cần tệp số liệu 766 của Cổng: cây «Tiến độ giải quyết» (dvc-progress-tree), cây «Cung cấp "
    "DVC trực tuyến» (provide-online-tree), hoặc dạng chung JSON/CSV với các cột unit_code, "
    "indicator, points, max, rate, numerator, denominator (README, mục «Portal figures»)"
)


def _reconcile_scorecard(
    portal_files: list[Path],
    month: str,
    source: Source | None,
    events: list[Path] | None,
    fmt: ReportFormat,
    output: Path | None,
    catalogue_path: Path | None,
) -> None:
    """`reconcile --scorecard`: the whole 766 scorecard of the month beside the portal's."""
    from reports.portal766 import PortalFigureError, load_portal_figures, merge_portal_figures
    from reports.reconcile766 import (
        SCORE_RECONCILE_COLUMNS,
        SCORE_RECONCILE_LABELS_VI,
        SCORE_RECONCILE_TABLE_COLUMNS,
        Verdict,
        month_scorecards,
        reconcile_scorecard,
    )
    from schemas.catalogue import parse_catalogue
    from streams.clickhouse.rollups import month_bounds

    settings = Settings()
    year, number = parse_month(month)
    check_xlsx(fmt, output)
    check_files(portal_files, "tệp của Cổng")
    chosen = choose_source(source, events)
    if chosen is not Source.FILES:
        raise Problem(
            "đối chiếu cả bảng điểm 766 (--scorecard) hiện chỉ tính từ tệp sự kiện",
            "thêm --events TỆP.jsonl",
            USAGE,
        )
    loaded = []
    for path in portal_files:
        try:
            loaded.append(
                load_portal_figures(path, on_unknown=lambda m, p=path: say(f"Bỏ qua {p}: {m}"))
            )
        except PortalFigureError as exc:
            raise Problem(
                f"{path} không dùng được để đối chiếu: {exc}", PORTAL_FIGURES_EXPECTED
            ) from None
    try:
        figures = merge_portal_figures(*loaded)
    except PortalFigureError as exc:
        raise Problem(
            f"các tệp của Cổng mâu thuẫn nhau: {exc}", "mỗi số liệu chỉ lấy từ một tệp", USAGE
        ) from None
    other = sorted({f.month for f in figures.values() if f.month not in (None, month)})
    if other:
        raise Problem(
            f"tệp của Cổng ghi tháng {', '.join(other)}, không phải {month}",
            "dùng tệp của đúng tháng, hoặc sửa --month",
            USAGE,
        )
    catalogue = None
    if catalogue_path is not None:
        check_files([catalogue_path], "danh mục TTHC")
        try:
            catalogue = parse_catalogue(catalogue_path.read_text(encoding="utf-8-sig"))
        except ValueError as exc:
            raise Problem(
                f"{catalogue_path} không đọc được làm danh mục TTHC: {exc}", "", USAGE
            ) from None
    start, end = month_bounds(year, number, working_calendar(settings))
    rows = report_source(settings, chosen, events)
    assert isinstance(rows, FileSource)
    if not rows.rows(start, end, UnitKind.AGENCY):
        raise no_data(rows, f"trong tháng {month}", settings)
    cards = month_scorecards(rows, start, end, figures, catalogue=catalogue)
    lines = reconcile_scorecard(cards, figures)
    records = [line.record() for line in lines]
    title = f"Đối chiếu bảng điểm 766 với Cổng Dịch vụ công quốc gia — tháng {month}"
    spec = TableSpec(
        title,
        SCORE_RECONCILE_TABLE_COLUMNS,
        SCORE_RECONCILE_LABELS_VI,
        records,
        drop_order=SCORE_RECONCILE_DROP_ORDER,
    )
    emit_table(spec, SCORE_RECONCILE_COLUMNS, fmt, output, "Đối chiếu bảng điểm 766")
    counts = {verdict: sum(line.verdict is verdict for line in lines) for verdict in Verdict}
    say(
        f"Tháng {month}: {len(lines)} dòng đối chiếu bảng điểm ({len(cards)} đơn vị) — "
        + ", ".join(f"{verdict.value}: {n}" for verdict, n in counts.items() if n)
        + f" · nguồn: {source_name(chosen, events)}"
    )


SCORE_RECONCILE_DROP_ORDER = ("differences", "unit_code", "portal_rate", "our_rate")
