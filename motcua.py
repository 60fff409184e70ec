"""The `motcua` command line: thin wiring around the pure rules and the services."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import ProgressColumn, Task
from rich.text import Text

from reports.offline import Rejected
from reports.period import COLUMN_LABELS_VI, CSV_COLUMNS, PeriodRow, UnitKind
from reports.render import (
    TABLE_COLUMNS,
    records_table,
    write_records_csv,
    write_records_xlsx,
)
from reports.sources import ClickHouseSource, FileSource, ReportSource
from schemas.settings import Settings

app = typer.Typer(
    help="motcua-monitor: giám sát hồ sơ TTHC — dossier monitor for one-stop centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class Source(StrEnum):
    FILES = "files"
    CLICKHOUSE = "clickhouse"


class ReportFormat(StrEnum):
    CSV = "csv"
    TABLE = "table"
    XLSX = "xlsx"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from None


@app.command()
def report(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (00:00 local).")],
    to: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD (exclusive).")],
    by: Annotated[UnitKind, typer.Option(help="Unit of the rows.")] = UnitKind.AGENCY,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.CSV,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    events: Annotated[
        list[Path] | None,
        typer.Option("--events", exists=True, dir_okay=False, help="Canonical events, JSON lines."),
    ] = None,
    source: Annotated[Source, typer.Option(help="Event files, or the pipeline's tables.")] = (
        Source.FILES
    ),
) -> None:
    """Period report (Biểu II.06a) for [from, to): from event files (no server
    needed) or from the pipeline's ClickHouse tables (--source clickhouse)."""
    settings = Settings()
    cal = settings.calendar
    start, end = _period(from_, to, cal.tz)
    rows = _source(settings, source, events).rows(start, end, by)
    title = f"Biểu II.06a — {from_} đến trước {to} — theo {by.value}"
    records = [r.as_record() for r in rows]
    columns = TABLE_COLUMNS if fmt is ReportFormat.TABLE else CSV_COLUMNS
    _emit(columns, COLUMN_LABELS_VI, records, fmt, output, title, "Biểu II.06a")


class AlertsFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"


@app.command()
def alerts(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (00:00 local).")],
    to: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD (exclusive).")],
    unit: Annotated[str | None, typer.Option(help="Only this agency (its code).")] = None,
    fmt: Annotated[AlertsFormat, typer.Option("--format")] = AlertsFormat.TABLE,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    events: Annotated[
        list[Path] | None,
        typer.Option("--events", exists=True, dir_okay=False, help="Canonical events, JSON lines."),
    ] = None,
    source: Annotated[Source, typer.Option(help="Event files, or the pipeline's tables.")] = (
        Source.FILES
    ),
) -> None:
    """Every inspector alert of [from, to) (due soon, overdue, overdue reminders),
    the list the watch sends for that span: from event files or from the
    pipeline's ClickHouse tables (--source clickhouse)."""
    from reports.alerts import (
        ALERT_COLUMNS,
        alert_record,
        alerts_table,
        facts_of_events,
        span_alerts,
    )
    from reports.render import write_records_csv
    from streams.watch import watch_config

    settings = Settings()
    cal = settings.calendar
    start, end = _period(from_, to, cal.tz)
    if source is Source.CLICKHOUSE:
        from streams.alert_store import read_watch_facts

        facts = read_watch_facts(_engine(settings, "reader"), start, end)
    elif not events:
        raise typer.BadParameter("--events FILE is needed (or --source clickhouse)")
    else:
        facts = facts_of_events(_file_events(events), cal)
    found = span_alerts(facts, start, end, cal, watch_config(settings).alerts, unit)
    records = [alert_record(a, cal) for a in found]
    if fmt is AlertsFormat.TABLE:
        console = Console(file=output.open("w", encoding="utf-8") if output else None)
        title = f"Cảnh báo thanh tra — {from_} đến trước {to}"
        console.print(alerts_table(records, title + (f" — {unit}" if unit else "")))
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_records_csv(ALERT_COLUMNS, records, out)
    else:
        write_records_csv(ALERT_COLUMNS, records, sys.stdout)
    err.print(f"{len(records)} cảnh báo")


class FindingsFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"


@app.command()
def integrity(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (00:00 local).")],
    to: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD (exclusive).")],
    unit: Annotated[str | None, typer.Option(help="Only this agency (its code).")] = None,
    fmt: Annotated[FindingsFormat, typer.Option("--format")] = FindingsFormat.TABLE,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    events: Annotated[
        list[Path] | None,
        typer.Option("--events", exists=True, dir_okay=False, help="Canonical events, JSON lines."),
    ] = None,
    source: Annotated[Source, typer.Option(help="Event files, or the pipeline's tables.")] = (
        Source.FILES
    ),
) -> None:
    """Dossiers rewritten after the fact, observed in [from, to): one row per
    finding (METRICS.md §9), from event files or from ClickHouse."""
    from reports.integrity import (
        FINDING_COLUMNS,
        FINDING_LABELS_VI,
        finding_record,
        findings_table,
        vietnamese,
    )
    from reports.render import write_records_csv, write_records_xlsx

    settings = Settings()
    cal = settings.calendar
    start, end = _period(from_, to, cal.tz)
    found = _source(settings, source, events).findings(start, end, unit)
    records = [finding_record(f, cal) for f in found]
    title = f"Dấu hiệu sửa hồ sơ sau khi đã ghi nhận — {from_} đến trước {to}"
    title += f" — {unit}" if unit else ""
    if fmt is FindingsFormat.XLSX:
        if output is None:
            raise typer.BadParameter("--format xlsx cần --output TỆP.xlsx")
        rows = [vietnamese(r) for r in records]
        write_records_xlsx(FINDING_COLUMNS, FINDING_LABELS_VI, rows, output, title, "Dấu hiệu")
        err.print(f"đã ghi {output}")
    elif fmt is FindingsFormat.TABLE:
        console = Console(file=output.open("w", encoding="utf-8") if output else None)
        console.print(findings_table(records, title))
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_records_csv(FINDING_COLUMNS, records, out)
    else:
        write_records_csv(FINDING_COLUMNS, records, sys.stdout)
    err.print(f"{len(records)} dấu hiệu")


def _file_events(paths: list[Path]) -> list:
    """Valid events from JSON-lines files; invalid lines reported on stderr."""
    from reports.offline import read_events

    rejected = 0

    def on_reject(r: Rejected) -> None:
        nonlocal rejected
        rejected += 1
        print(f"{r.path}:{r.line}: invalid line skipped: {r.reason}", file=sys.stderr)

    found = list(read_events(paths, on_reject))
    if rejected:
        print(f"{rejected} invalid line(s) skipped (dòng lỗi đã bỏ qua)", file=sys.stderr)
    return found


def _source(settings: Settings, source: Source, events: list[Path] | None) -> ReportSource:
    """Report rows from event files or from the pipeline's ClickHouse."""
    if source is Source.CLICKHOUSE:
        engine = _engine(settings, "reader")
        return ClickHouseSource(engine, settings.calendar, settings.province)
    if not events:
        raise typer.BadParameter("--events FILE is needed (or --source clickhouse)")
    rejected = 0

    def on_reject(r: Rejected) -> None:
        nonlocal rejected
        rejected += 1
        print(f"{r.path}:{r.line}: invalid line skipped: {r.reason}", file=sys.stderr)

    files = FileSource(events, settings.calendar, settings.province, on_reject)
    if rejected:
        print(f"{rejected} invalid line(s) skipped (dòng lỗi đã bỏ qua)", file=sys.stderr)
    return files


def _emit(
    columns: Sequence[str],
    labels: dict[str, str],
    records: list[dict[str, object]],
    fmt: ReportFormat,
    output: Path | None,
    title: str,
    sheet: str,
) -> None:
    """Records as CSV (stdout or file), a terminal table, or an xlsx sheet."""
    if fmt is ReportFormat.XLSX:
        if output is None:
            raise typer.BadParameter("--format xlsx needs --output PATH")
        write_records_xlsx(columns, labels, records, output, title, sheet)
    elif fmt is ReportFormat.TABLE:
        console = Console(file=output.open("w", encoding="utf-8") if output else None)
        console.print(records_table(columns, labels, records, title))
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_records_csv(columns, records, out)
    else:
        write_records_csv(columns, records, sys.stdout)


@app.command()
def reconcile(
    portal_json: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The portal's 766 progress JSON.")
    ],
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
    source: Annotated[Source, typer.Option(help="Our figures from files or ClickHouse.")] = (
        Source.CLICKHOUSE
    ),
    events: Annotated[
        list[Path] | None, typer.Option("--events", exists=True, dir_okay=False)
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.TABLE,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Our 766 progress figures per unit beside the national portal's, with differences."""
    from reports.reconcile import (
        RECONCILE_COLUMNS,
        RECONCILE_LABELS_VI,
        RECONCILE_TABLE_COLUMNS,
        PortalFormatError,
        load_portal_progress,
    )
    from reports.reconcile import reconcile as compare
    from streams.rollups import month_bounds

    settings = Settings()
    try:
        parent, children = load_portal_progress(portal_json.read_bytes())
        start, end = month_bounds(*_month(month), settings.calendar)
    except PortalFormatError as exc:
        raise typer.BadParameter(f"{portal_json}: {exc}") from None
    rows = _source(settings, source, events)
    agencies = rows.rows(start, end, UnitKind.AGENCY)
    province = rows.rows(start, end, UnitKind.PROVINCE)
    province = [replace(r, unit_code=parent.code) for r in province]
    lines = compare([parent], province) + compare(children, agencies)
    records = [line.record() for line in lines]
    title = f"Đối chiếu với Cổng Dịch vụ công quốc gia — tháng {month}"
    columns = RECONCILE_TABLE_COLUMNS if fmt is ReportFormat.TABLE else RECONCILE_COLUMNS
    _emit(columns, RECONCILE_LABELS_VI, records, fmt, output, title, "Đối chiếu 766")


ingest_app = typer.Typer(help="Getting dossier data in (sync records, files).")
app.add_typer(ingest_app, name="ingest")


class _RateColumn(ProgressColumn):
    """Records per second of a rich progress task."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} hồ sơ/giây")


@ingest_app.command("file")
def ingest_file(
    paths: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    units: Annotated[Path, typer.Option(exists=True, help="Unit directory (JSON).")],
    state: Annotated[Path, typer.Option(help="Last records per dossier (SQLite).")] = Path(
        ".data/ingest/records.sqlite"
    ),
    seen_at: Annotated[
        str | None, typer.Option(help="When the export was taken (ISO); default: file time.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Column mapping (TOML) for .csv/.xlsx."),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Return only when ClickHouse has it all.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 600.0,
) -> None:
    """National-portal sync records (JSON or JSON lines) or dossier tables → dossier events."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.files_import import import_file
    from ingest.publish import RecordPublisher
    from ingest.record_store import SqliteRecords
    from ingest.sync import UnitDirectory
    from streams.replay import make_producer

    settings = Settings()
    directory = UnitDirectory.from_file(units)
    store = SqliteRecords(state)
    producer = make_producer(settings)
    publisher = RecordPublisher(settings, producer, store, directory, stage="ingest file")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} hồ sơ · {task.fields[errors]} lỗi"),
        _RateColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err) as progress:
            for path in paths:
                observed = (
                    datetime.fromisoformat(seen_at)
                    if seen_at
                    else datetime.fromtimestamp(path.stat().st_mtime, settings.calendar.tz)
                )
                task = progress.add_task(path.name, total=None, errors=0)

                def tick(records: int, rejected: int, task=task) -> None:
                    progress.advance(task, records)
                    errors = progress.tasks[task].fields["errors"] + rejected
                    progress.update(task, errors=errors)

                try:
                    summary = import_file(path, publisher, observed, tick, mapping=mapping)
                except ValueError as exc:  # a file or mapping that cannot be read at all
                    err.print(f"[red]{path}: không đọc được tệp — {exc}[/red]")
                    raise typer.Exit(1) from None
                err.print(
                    f"{path}: {summary.records} bản ghi, {summary.events} sự kiện, "
                    f"{summary.rejected} lỗi (đã chuyển sang hàng đợi lỗi)"
                )
    finally:
        producer.close()
        store.close()
    if wait and publisher.offsets:
        _wait_stored(settings, publisher.offsets, timeout)
        err.print("Mọi sự kiện đã được lưu vào ClickHouse.")


@ingest_app.command("serve")
def ingest_serve(
    units: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Unit directory (JSON).")
    ],
    state: Annotated[Path, typer.Option(help="Last records per dossier (SQLite).")] = Path(
        ".data/ingest/records.sqlite"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8088,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Largest request body.")] = 5_000_000,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds for a whole request body (408 after); MOTCUA_INGEST_BODY_TIMEOUT.",
        ),
    ] = None,
) -> None:
    """HTTP push endpoint: POST /v1/records (sync records) → dossier events.
    The bearer token comes from MOTCUA_INGEST_TOKEN."""
    from ingest.serve import RECORDS_PATH, ServeSettings, run, token_problem

    serve_settings = ServeSettings()
    token = serve_settings.ingest_token.get_secret_value()
    problem = token_problem(token)
    if problem:
        err.print(
            "[red]Không thể khởi động: cần đặt MOTCUA_INGEST_TOKEN (mã bí mật ít nhất 16 ký tự, "
            "ví dụ tạo bằng `python -c 'import secrets; print(secrets.token_urlsafe(32))'`).\n"
            f"Cannot start: {problem}.[/red]"
        )
        raise typer.Exit(2)
    err.print(f"Đang nhận bản ghi đồng bộ tại http://{host}:{port}{RECORDS_PATH} (Ctrl-C để dừng)")
    timeout = body_timeout or serve_settings.ingest_body_timeout
    run(Settings(), units, state, host, port, max_body_bytes, token, timeout)


@ingest_app.command("poll")
def ingest_poll(
    url: Annotated[str, typer.Option(help="The source's change list (base URL + path).")],
    units: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Unit directory (JSON).")
    ],
    state: Annotated[Path, typer.Option(help="Last records and cursors (SQLite).")] = Path(
        ".data/ingest/records.sqlite"
    ),
    source_name: Annotated[str, typer.Option(help="Cursor key and the events' source.")] = "poll",
    interval: Annotated[float, typer.Option(min=0, help="Seconds between polls.")] = 60.0,
    once: Annotated[bool, typer.Option(help="Stop once caught up.")] = False,
    page_size: Annotated[int, typer.Option(min=1, help="Records asked per page.")] = 500,
    since_param: Annotated[str, typer.Option(help="Query parameter of the cursor.")] = "since",
    limit_param: Annotated[str, typer.Option(help="Query parameter of the page size.")] = "limit",
) -> None:
    """Changed dossiers from a provincial REST source, page by page → dossier events.
    Optional token: MOTCUA_POLL_TOKEN (bearer, or in the MOTCUA_POLL_TOKEN_HEADER header)."""
    import asyncio

    from rich.markup import escape

    from ingest.poll import PageReport, Poller, PollError, PollSettings, PollSource, RetryNotice
    from ingest.publish import RecordPublisher
    from ingest.record_store import SqliteRecords
    from ingest.sync import UnitDirectory
    from streams.replay import make_producer

    settings, secrets = Settings(), PollSettings()
    source = PollSource(
        url=url,
        name=source_name,
        since_param=since_param,
        limit_param=limit_param,
        page_size=page_size,
        token=secrets.poll_token.get_secret_value() or None,
        token_header=secrets.poll_token_header or None,
    )
    directory = UnitDirectory.from_file(units)
    store = SqliteRecords(state)
    producer = make_producer(settings)
    publisher = RecordPublisher(
        settings, producer, store, directory, stage="ingest poll", source=source_name
    )

    def page(r: PageReport) -> None:
        err.print(
            f"Trang {r.number}: {r.records} bản ghi, {r.events} sự kiện, {r.rejected} lỗi"
            f" · con trỏ {escape(r.next_cursor or '—')}"
        )

    def retry(n: RetryNotice) -> None:
        err.print(
            f"[yellow]Nguồn tạm lỗi ({escape(n.reason)}), thử lại sau {n.delay:.1f} giây "
            f"(lần {n.attempt})[/yellow]"
        )

    def failed(e: PollError) -> None:
        err.print(f"[red]Lỗi: {escape(str(e))}; thử lại sau {interval:g} giây[/red]")

    def clock() -> datetime:
        return datetime.now(settings.calendar.tz)

    poller = Poller(source, publisher, clock=clock, on_page=page, on_retry=retry)
    err.print(f"Đang lấy hồ sơ thay đổi từ {escape(url)} (nguồn {escape(source_name)})")
    try:
        asyncio.run(poller.run(interval=interval, once=once, on_error=failed))
    except PollError as e:
        err.print(f"[red]Dừng lấy dữ liệu: {escape(str(e))}[/red]")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("Đã dừng; lần sau tiếp tục từ con trỏ đã lưu.")
    finally:
        producer.close()
        store.close()


dashboards_app = typer.Typer(help="Grafana boards as code.")
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command("render")
def dashboards_render() -> None:
    """Write the boards' JSON under dashboards/json/ (committed, provisioned by file)."""
    from dashboards.boards import write_all

    for path in write_all():
        err.print(f"đã ghi {path}")


@dashboards_app.command("push")
def dashboards_push(
    folder_uid: Annotated[str | None, typer.Option(help="Grafana folder uid.")] = None,
) -> None:
    """Create or update the boards in an existing Grafana (GRAFANA_URL, GRAFANA_TOKEN)."""
    import os

    from dashboards.push import push_all

    url, token = os.environ.get("GRAFANA_URL"), os.environ.get("GRAFANA_TOKEN")
    if not url or not token:
        raise typer.BadParameter("set GRAFANA_URL and GRAFANA_TOKEN (a service-account token)")
    for uid in push_all(url, token, folder_uid):
        err.print(f"đã cập nhật bảng {uid}")


export_app = typer.Typer(help="Evidence exports (Vietnamese workbooks and CSV).")
app.add_typer(export_app, name="export")


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@export_app.command("monthly")
def export_monthly(
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
    output: Annotated[Path, typer.Option(help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.XLSX,
    unit: Annotated[str | None, typer.Option(help="Only this agency (its code).")] = None,
    source: Annotated[Source, typer.Option(help="Event files or ClickHouse.")] = (
        Source.CLICKHOUSE
    ),
    events: Annotated[
        list[Path] | None, typer.Option("--events", exists=True, dir_okay=False)
    ] = None,
) -> None:
    """The month's Biểu II.06a per agency, field and district with the 766 rates,
    charts and a cover sheet (period, cut-off, source, row counts, checksum)."""
    from rich.progress import Progress

    from reports.export import SHEETS, MonthlyEvidence, write_monthly_workbook
    from reports.integrity import finding_record
    from reports.render import write_records_csv
    from streams.rollups import month_bounds

    settings = Settings()
    year, number = _month(month)
    start, end = month_bounds(year, number, settings.calendar)
    rows = _source(settings, source, events)
    months = [
        ((year * 12 + number - 1 - back) // 12, (year * 12 + number - 1 - back) % 12 + 1)
        for back in range(11, -1, -1)
    ]
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Tổng hợp số liệu", total=len(SHEETS) + 1 + len(months))
        tables = {}
        for kind in SHEETS:
            tables[kind] = rows.rows(start, end, kind, unit)
            progress.advance(task)
        province = _total(rows.rows(start, end, UnitKind.PROVINCE, unit), settings)
        progress.advance(task)
        trend = []
        for y, m in months:
            bounds = month_bounds(y, m, settings.calendar)
            total = _total(rows.rows(*bounds, UnitKind.PROVINCE, unit), settings)
            trend.append((f"{y:04d}-{m:02d}", total))
            progress.advance(task)
    if unit is not None:
        province = replace(province, unit_code=unit, unit_name=_unit_name(tables, unit))
    evidence = MonthlyEvidence(
        month=f"{year:04d}-{number:02d}",
        province=province,
        tables=tables,
        trend=trend,
        cut_off=datetime.now(settings.calendar.tz).replace(microsecond=0),
        source="ClickHouse (motcua.dossier_periods, motcua.open_dossiers)"
        if source is Source.CLICKHOUSE
        else ", ".join(str(p) for p in events or []),
        findings=[finding_record(f, settings.calendar) for f in rows.findings(start, end, unit)],
    )
    if fmt is ExportFormat.XLSX:
        write_monthly_workbook(evidence, output)
    else:
        # UTF-8 with a BOM: spreadsheet software then reads the diacritics right
        with output.open("w", encoding="utf-8-sig", newline="") as out:
            records = [r.as_record() for r in [*tables[UnitKind.AGENCY], province]]
            write_records_csv(CSV_COLUMNS, records, out)
    err.print(f"đã ghi {output}")


def _total(rows: list[PeriodRow], settings: Settings) -> PeriodRow:
    """The province row; an empty one for a period with no dossiers."""
    return rows[0] if rows else PeriodRow(*settings.province)


def _unit_name(tables: dict, unit: str) -> str:
    agencies = tables.get(UnitKind.AGENCY, [])
    return next((r.unit_name for r in agencies if r.unit_code == unit), unit)


def _month(text: str) -> tuple[int, int]:
    try:
        year, number = (int(x) for x in text.split("-"))
        if not 1 <= number <= 12:
            raise ValueError
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM, got {text!r}") from None
    return year, number


def _period(from_: str, to: str, tz: tzinfo) -> tuple[datetime, datetime]:
    start, end = (datetime.combine(_day(d), datetime.min.time(), tz) for d in (from_, to))
    if end <= start:
        raise typer.BadParameter("--to must be after --from")
    return start, end


def _engine(settings: Settings, role: str):
    """A ClickHouse connection as the admin, writer or reader user."""
    from streams.engines import DriverEngine

    user = getattr(settings, f"clickhouse_{role}_user")
    password = getattr(settings, f"clickhouse_{role}_password").get_secret_value()
    return DriverEngine(settings.clickhouse_host, settings.clickhouse_port, user, password)


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="Same seed, same province and dossiers.")] = 1,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD; default: last month.")
    ] = None,
    to: Annotated[
        str | None, typer.Option(help="Day after the last (exclusive); default: next 1st.")
    ] = None,
    scale: Annotated[float, typer.Option(help="Fraction of realistic volume.")] = 0.05,
    fmt: Annotated[str, typer.Option("--format", help="events (canonical) or sync.")] = "events",
    output: Annotated[Path | None, typer.Option(help="JSON lines; default stdout.")] = None,
    truth: Annotated[Path | None, typer.Option(help="Per-dossier truth, JSON lines.")] = None,
    totals: Annotated[
        Path | None, typer.Option(help="Agencies' II.06a truth for the window, CSV.")
    ] = None,
    units: Annotated[Path | None, typer.Option(help="Write the unit directory (JSON).")] = None,
    live: Annotated[bool, typer.Option("--live/--backfill", help="Pace on a clock.")] = False,
    speed: Annotated[float, typer.Option(help="Live: simulated seconds per second.")] = 60.0,
    publish: Annotated[bool, typer.Option(help="Send to the broker.")] = False,
    online_share: Annotated[float, typer.Option(help="Share of dossiers online.")] = 0.99,
    land_hotspot: Annotated[
        list[str] | None, typer.Option(help="District code where land runs late (repeat).")
    ] = None,
    personal_data: Annotated[
        bool, typer.Option(help="Plant fake personal fields in sync records.")
    ] = True,
    state: Annotated[Path, typer.Option(help="Sync --publish: last records (SQLite).")] = Path(
        ".data/simulate/records.sqlite"
    ),
) -> None:
    """A realistic simulated province (deterministic per seed): canonical events
    or sync records, its unit directory and its ground truth."""
    from ingest.simulator.command import Request, run
    from ingest.simulator.knobs import Knobs
    from ingest.simulator.province import check_hotspots
    from ingest.simulator.simulation import Format

    if fmt not in ("events", "sync"):
        raise typer.BadParameter(f"--format: expected events or sync, got {fmt!r}")
    today = date.today()
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    start = _day(from_) if from_ else last_month
    end = _day(to) if to else date(start.year + start.month // 12, start.month % 12 + 1, 1)
    if end <= start:
        raise typer.BadParameter("--to must be after --from")
    try:
        knobs = Knobs(
            seed=seed,
            scale=scale,
            online_share=online_share,
            land_hotspots=tuple(land_hotspot or Knobs().land_hotspots),
            personal_data=personal_data,
        )
        check_hotspots(knobs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    request = Request(
        start, end, knobs, Format(fmt), output, truth, totals, units, live, speed, publish, state
    )
    run(request, err)


services_app = typer.Typer(help="The local broker and ClickHouse, left running.")
app.add_typer(services_app, name="services")


@services_app.command("up")
def services_up(
    data_dir: Annotated[Path, typer.Option(help="Where the services keep data.")] = Path(".data"),
) -> None:
    """Start the local broker and ClickHouse in the background; print their settings."""
    from streams.services import services_up as up

    env = up(data_dir.resolve())
    for name, value in env.items():
        print(f"export {name}={value}")
    err.print(f"services up; `motcua services down --data-dir {data_dir}` stops them")


@services_app.command("down")
def services_down(
    data_dir: Annotated[Path, typer.Option(help="Where the services keep data.")] = Path(".data"),
) -> None:
    """Stop what `motcua services up` started."""
    from streams.services import services_down as down

    err.print(f"stopped {down(data_dir.resolve())} service process(es)")


@app.command()
def migrate() -> None:
    """Create or upgrade the ClickHouse schema (idempotent)."""
    from streams.store import migrate as apply

    applied = apply(_engine(Settings(), "admin"))
    err.print(f"migrations applied: {applied or 'none (up to date)'}")


@app.command()
def worker() -> None:
    """Run one stream worker (faust) until stopped; scale by running more.
    Connects as the writer; migrates first only with MOTCUA_WORKER_MIGRATE=true."""
    from faust.worker import Worker

    from streams.logs import logging_config
    from streams.store import migrate as apply
    from streams.store import pending_migrations
    from streams.topics import ensure_topics
    from streams.worker import make_app

    settings = Settings()
    if settings.worker_migrate:
        apply(_engine(settings, "admin"))
    else:  # the writer's credentials only: the schema must already be there
        missing = pending_migrations(_engine(settings, "writer"))
        if missing:
            err.print(
                f"[red]ClickHouse schema not up to date (migrations {missing} not applied): "
                "run `motcua migrate` as the administrator first, or set "
                "MOTCUA_WORKER_MIGRATE=true with the admin's credentials.[/red]"
            )
            raise typer.Exit(2)
    partitions = ensure_topics(settings)
    faust_app = make_app(settings.model_copy(update={"topic_partitions": partitions}))
    config = logging_config(settings.log_level)
    Worker(
        faust_app, loglevel=settings.log_level, quiet=True, logging_config=config
    ).execute_from_commandline()


@app.command()
def replay(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    wait: Annotated[bool, typer.Option(help="Return only when ClickHouse has it all.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 600.0,
) -> None:
    """Publish canonical events (JSON lines) to the dossier-events topic."""
    from streams.replay import make_producer, replay_files

    settings = Settings()
    producer = make_producer(settings)

    def on_reject(path: str, line: int, reason: str) -> None:
        print(f"{path}:{line}: sent to dead letters: {reason}", file=sys.stderr)

    result = replay_files(files, settings, producer, on_reject)
    producer.close()
    err.print(f"published {result.published} events, {result.rejected} rejected")
    if wait and result.offsets:
        _wait_stored(settings, result.offsets, timeout)
        err.print("all replayed events are stored in ClickHouse")


def _wait_stored(settings: Settings, offsets: dict[int, int], timeout: float) -> None:
    """Block until the workers' stored progress covers the acknowledged `offsets`."""
    from streams.replay import wait_until_stored

    try:
        wait_until_stored(_engine(settings, "reader"), settings, offsets, timeout)
    except TimeoutError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


@app.command()
def recompute(
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    to: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD.")],
) -> None:
    """Rebuild the facts of every dossier with an event in [from, to) from raw events."""
    from streams.recompute import recompute_facts
    from streams.rollups import months_between, refresh_rollups

    settings = Settings()
    start, end = _period(from_, to, settings.calendar.tz)
    engine = _engine(settings, "writer")
    written = recompute_facts(engine, start, end, settings.calendar)
    err.print(f"recomputed the facts of {written} dossiers")
    for month_start, month_end in months_between(start, end, settings.calendar):
        refresh_rollups(engine, month_start, month_end, settings.calendar, settings.province)
        err.print(f"rollups refreshed for {month_start:%Y-%m}")


@app.command()
def rollup(
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
) -> None:
    """Store the month's II.06a rows per unit (for boards and exports)."""
    from streams.rollups import month_bounds, refresh_rollups

    settings = Settings()
    start, end = month_bounds(*_month(month), settings.calendar)
    rows = refresh_rollups(
        _engine(settings, "writer"), start, end, settings.calendar, settings.province
    )
    err.print(f"{rows} rollup rows stored for {month}")


@app.command()
def run(
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 3600.0,
    days_back: Annotated[int, typer.Option(help="Simulation starts this many days ago.")] = 20,
    data_dir: Annotated[Path, typer.Option(help="Where the local services keep data.")] = Path(
        ".data"
    ),
) -> None:
    """The main job: local broker + ClickHouse + a worker, fed by a simulated province
    on an accelerated clock, with a live view of the month's rates (Ctrl-C stops)."""
    from streams.live import run_live

    run_live(Settings(), data_dir.resolve(), speed, days_back)


if __name__ == "__main__":
    app()
