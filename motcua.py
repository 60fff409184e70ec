"""The `motcua` command line: thin wiring around the pure rules and the services.

Everything a user reads is Vietnamese (help, progress, results, errors);
code and developer docs stay English. An expected failure (a service down,
a missing file, an input of the wrong kind, a period without data) ends in
one line naming what is wrong and the way out and a non-zero exit code
(streams/problems.py lists the codes); only bugs show a traceback.
"""

from __future__ import annotations

import logging
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
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from reports.offline import Rejected
from reports.render import TABLE_COLUMNS, write_records_csv, write_records_xlsx
from reports.sources import ClickHouseSource, FileSource, ReportSource
from reports.tables import BY_TITLE, TableSpec, plain_table, terminal_table, total_row, unit_labels
from schemas.settings import Settings
from streams.problems import REJECTED, USAGE, Problem, check_broker, explain
from streams.rules.calendar import working_calendar
from streams.rules.period import CSV_COLUMNS, PeriodRow, UnitKind

err = Console(stderr=True)
MAX_LISTED = 20  # rejected lines listed one by one; the rest are counted


def _say(text: str, style: str | None = None) -> None:
    """One line on stderr, never wrapped by the console (logs keep it whole)."""
    err.print(Text(text, style=style or ""), soft_wrap=True)


class _Commands(TyperGroup):
    """Every command runs through here: expected failures become one line."""

    def invoke(self, ctx) -> object:
        _quiet_libraries()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _say("Đã dừng (Ctrl-C).")
            raise typer.Exit(130) from None
        except Exception as exc:  # typer's own exits and usage errors pass: not explained
            problem = explain(exc, _settings_for_messages())
            if problem is None:
                raise  # a bug: its traceback is what a report needs
            _say(problem.line(), "red")
            raise typer.Exit(problem.exit_code) from None


def _settings_for_messages() -> Settings:
    try:
        return Settings()
    except Exception:
        return Settings.model_construct()


def _quiet_libraries() -> None:
    """Client libraries log their retries and tracebacks (clickhouse-driver
    prints one per refused connection); the commands say what matters
    themselves. Commands that run services configure logging anew."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


app = typer.Typer(
    cls=_Commands,
    help="motcua-monitor: giám sát hồ sơ thủ tục hành chính của Trung tâm Phục vụ hành chính công.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class Source(StrEnum):
    FILES = "files"
    CLICKHOUSE = "clickhouse"


class ReportFormat(StrEnum):
    CSV = "csv"
    TABLE = "table"
    XLSX = "xlsx"


# -- options shared by several commands ----------------------------------------------

FromOption = Annotated[
    str, typer.Option("--from", help="Ngày đầu kỳ, YYYY-MM-DD (từ 00:00 giờ Việt Nam).")
]
ToOption = Annotated[
    str, typer.Option("--to", help="Ngày sau ngày cuối kỳ, YYYY-MM-DD (không tính ngày này).")
]
EventsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--events",
        help="Tệp sự kiện chuẩn (JSON lines, mỗi dòng một sự kiện); lặp lại cho nhiều tệp. "
        "Có --events thì số liệu lấy từ tệp.",
    ),
]
SourceOption = Annotated[
    Source | None,
    typer.Option(
        help="Nguồn số liệu: files (tệp --events) hoặc clickhouse (bảng của hệ thống). "
        "Mặc định: files nếu có --events, nếu không thì clickhouse.",
    ),
]
OutputOption = Annotated[Path | None, typer.Option(help="Ghi vào tệp này thay vì in ra màn hình.")]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(
            f"ngày không hợp lệ: {text!r}", "viết ngày dạng YYYY-MM-DD, ví dụ 2026-05-01", USAGE
        ) from None


def _month(text: str) -> tuple[int, int]:
    try:
        year, number = (int(x) for x in text.split("-"))
        if not 1 <= number <= 12:
            raise ValueError
    except ValueError:
        raise Problem(
            f"tháng không hợp lệ: {text!r}", "viết tháng dạng YYYY-MM, ví dụ 2026-05", USAGE
        ) from None
    return year, number


def _period(from_: str, to: str, tz: tzinfo) -> tuple[datetime, datetime]:
    start, end = (datetime.combine(_day(d), datetime.min.time(), tz) for d in (from_, to))
    if end <= start:
        raise Problem(
            f"--to ({to}) phải sau --from ({from_})",
            "--to là ngày sau ngày cuối kỳ, ví dụ --from 2026-05-01 --to 2026-06-01",
            USAGE,
        )
    return start, end


def _check_files(paths: Sequence[Path], what: str = "tệp") -> None:
    for path in paths:
        if not path.exists():
            raise Problem(f"không tìm thấy {what} {path}", "kiểm tra lại đường dẫn", USAGE)
        if path.is_dir():
            raise Problem(f"{path} là thư mục, không phải {what}", "chỉ định một tệp", USAGE)


def _choose(source: Source | None, events: list[Path] | None) -> Source:
    """The source follows the arguments: --events means files."""
    if events:
        if source is Source.CLICKHOUSE:
            raise Problem(
                "--events và --source clickhouse mâu thuẫn nhau",
                "bỏ --events để đọc từ ClickHouse, hoặc bỏ --source để đọc từ tệp",
                USAGE,
            )
        _check_files(events, "tệp sự kiện")
        return Source.FILES
    if source is Source.FILES:
        raise Problem(
            "--source files cần ít nhất một --events TỆP.jsonl",
            "thêm --events TỆP.jsonl (sự kiện chuẩn, mỗi dòng một sự kiện JSON)",
            USAGE,
        )
    return Source.CLICKHOUSE


def _read_events(settings: Settings, paths: list[Path]) -> FileSource:
    """Valid events from JSON-lines files; invalid lines listed on stderr.

    No valid event at all (an empty or all-garbage file) is a Problem.
    """
    rejected = 0

    def on_reject(r: Rejected) -> None:
        nonlocal rejected
        rejected += 1
        if rejected <= MAX_LISTED:
            _say(f"{r.path}:{r.line}: dòng không hợp lệ, đã bỏ qua: {r.reason}", "yellow")

    files = FileSource(paths, working_calendar(settings), settings.province, on_reject)
    if rejected > MAX_LISTED:
        _say(f"… và {rejected - MAX_LISTED} dòng không hợp lệ khác", "yellow")
    if rejected:
        _say(f"Đã bỏ qua {rejected} dòng không hợp lệ.", "yellow")
    if not files.events:
        names = ", ".join(str(p) for p in paths)
        raise Problem(
            f"{names}: không có sự kiện hợp lệ nào"
            + (f" ({rejected} dòng không hợp lệ)" if rejected else " (tệp trống)"),
            "mỗi dòng phải là một sự kiện JSON (EVENTS.md §1), ví dụ tệp của `motcua simulate`; "
            "bản ghi đồng bộ của Cổng thì nạp bằng `motcua ingest file`",
        )
    return files


def _source(settings: Settings, source: Source, events: list[Path] | None) -> ReportSource:
    """Report rows from event files or from the pipeline's ClickHouse (checked reachable)."""
    if source is Source.FILES:
        return _read_events(settings, events or [])
    engine = _engine(settings, "reader")
    try:
        engine.rows("SELECT 1")
    except Exception as exc:
        problem = explain(exc, settings, alternative=FROM_FILES)
        if problem is None:
            raise
        raise problem from None
    return ClickHouseSource(engine, working_calendar(settings), settings.province)


FROM_FILES = "hoặc lấy số liệu từ tệp: thêm --events TỆP.jsonl"


def _source_name(source: Source, events: list[Path] | None) -> str:
    if source is Source.CLICKHOUSE:
        return "ClickHouse (motcua.dossier_periods, motcua.open_dossiers)"
    return ", ".join(str(p) for p in events or [])


def _no_data(rows: ReportSource, what: str, settings: Settings) -> Problem:
    """Nothing to report for a period: say where the data is."""
    if isinstance(rows, FileSource) and (span := rows.span()):
        first, last = (working_calendar(settings).local(t) for t in span)
        way_out = (
            f"sự kiện trong tệp nằm trong khoảng {first:%d/%m/%Y} – {last:%d/%m/%Y}; "
            "chọn kỳ trong khoảng đó"
        )
    else:
        way_out = (
            "kiểm tra kỳ; nếu vừa nạp số liệu thì chờ worker lưu xong "
            "(`motcua replay TỆP --wait` hoặc `motcua ingest file … --wait`)"
        )
    return Problem(f"không có hồ sơ nào {what}", way_out)


def _check_unit(rows: ReportSource, unit: str) -> str:
    """The agency's name; a Problem if the data has no such agency."""
    known = rows.agencies()
    if unit in known:
        return known[unit] or unit
    listed = ", ".join(sorted(known)[:12]) + (" …" if len(known) > 12 else "")
    raise Problem(
        f"không có cơ quan mã {unit!r} trong số liệu",
        f"dùng một mã có thật ({len(known)} mã: {listed})"
        if known
        else "số liệu chưa có cơ quan nào",
    )


# -- report, alerts, reconcile ------------------------------------------------------------


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
            help="Nhóm theo: agency (cơ quan), field (lĩnh vực), district (huyện), "
            "level (cấp), procedure (thủ tục), province (toàn tỉnh)."
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
) -> None:
    """Period report (Biểu II.06a) for [from, to) from event files or ClickHouse."""
    settings = Settings()
    start, end = _period(from_, to, working_calendar(settings).tz)
    _check_xlsx(fmt, output)
    chosen = _choose(source, events)
    rows_source = _source(settings, chosen, events)
    rows = rows_source.rows(start, end, by)
    if not rows:
        raise _no_data(rows_source, f"trong kỳ {from_} đến trước {to}", settings)
    title = f"Biểu II.06a — {from_} đến trước {to} — {BY_TITLE[by]}"
    spec = TableSpec(
        title,
        TABLE_COLUMNS,
        unit_labels(by),
        [r.as_record() for r in rows],
        total_row(rows).as_record() if len(rows) > 1 else None,
        drop_order=REPORT_DROP_ORDER,
    )
    _emit(spec, CSV_COLUMNS, fmt, output, "Biểu II.06a")
    _say(
        f"{len(rows)} dòng {BY_TITLE[by]} · kỳ {from_} đến trước {to} · "
        f"nguồn: {_source_name(chosen, events)}"
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
    start, end = _period(from_, to, cal.tz)
    chosen = _choose(source, events)
    rows_source = _source(settings, chosen, events)
    if unit is not None:
        _check_unit(rows_source, unit)
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
    _write_records(ALERT_COLUMNS, records, table, output)
    _say(f"{len(records)} cảnh báo · nguồn: {_source_name(chosen, events)}")


def _write_records(
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
    start, end = _period(from_, to, cal.tz)
    if fmt is FindingsFormat.XLSX and output is None:
        raise Problem("--format xlsx cần nơi ghi tệp", "thêm --output TỆP.xlsx", USAGE)
    chosen = _choose(source, events)
    rows_source = _source(settings, chosen, events)
    if unit is not None:
        _check_unit(rows_source, unit)
    records = [finding_record(f, cal) for f in rows_source.findings(start, end, unit)]
    title = f"Dấu hiệu sửa hồ sơ sau khi đã ghi nhận — {from_} đến trước {to}"
    title += f" — {unit}" if unit else ""
    if fmt is FindingsFormat.XLSX:
        assert output is not None
        rows = [vietnamese(r) for r in records]
        write_records_xlsx(FINDING_COLUMNS, FINDING_LABELS_VI, rows, output, title, "Dấu hiệu")
        _say(f"đã ghi {output}")
    else:
        table = findings_table(records, title) if fmt is FindingsFormat.TABLE else None
        _write_records(FINDING_COLUMNS, records, table, output)
    _say(f"{len(records)} dấu hiệu · nguồn: {_source_name(chosen, events)}")


def _emit(
    spec: TableSpec,
    csv_columns: Sequence[str],
    fmt: ReportFormat,
    output: Path | None,
    sheet: str,
) -> None:
    """Records as CSV (all columns), a table for people, or an xlsx sheet."""
    if fmt is ReportFormat.XLSX:
        assert output is not None  # _check_xlsx
        write_records_xlsx(csv_columns, spec.labels, spec.records, output, spec.title, sheet)
        _say(f"Đã ghi {output} ({sheet}, {len(spec.records)} dòng).")
    elif fmt is ReportFormat.TABLE:
        if output is not None:
            output.write_text(plain_table(spec), encoding="utf-8")
            _say(f"Đã ghi bảng vào {output}.")
            return
        console = Console()
        if console.is_terminal:
            console.print(terminal_table(spec, console.width))
        else:  # a pipe or a log: a plain table, whatever the width
            sys.stdout.write(plain_table(spec))
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_records_csv(csv_columns, spec.records, out)
        _say(f"Đã ghi {output} (CSV, {len(spec.records)} dòng).")
    else:
        write_records_csv(csv_columns, spec.records, sys.stdout)


def _check_xlsx(fmt: ReportFormat, output: Path | None) -> None:
    if fmt is ReportFormat.XLSX and output is None:
        raise Problem("--format xlsx cần --output TỆP.xlsx", "thêm --output TỆP.xlsx", USAGE)


PORTAL_EXPECTED = (
    "cần tệp «Tiến độ giải quyết» (dvc-progress-tree) của Cổng Dịch vụ công quốc gia: "
    '{"data": {"parent": {…}, "children": [{"departmentCode", "totalReceived", '
    '"totalOnTime", …}]}}, ví dụ ../shared/data/portal-766/dvc-progress-tree.month.sample.json'
)


@app.command(
    help="Đối chiếu số liệu tiến độ 766 của hệ thống với Cổng Dịch vụ công quốc gia, "
    "từng đơn vị, kèm chênh lệch.",
)
def reconcile(
    portal_json: Annotated[
        Path,
        typer.Argument(
            help="Tệp JSON «Tiến độ giải quyết» (dvc-progress-tree) tải từ Cổng, một tháng."
        ),
    ],
    month: Annotated[str, typer.Option(help="Tháng của tệp Cổng, YYYY-MM.")],
    source: SourceOption = None,
    events: EventsOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="table (bảng), csv hoặc xlsx (cần --output).")
    ] = ReportFormat.TABLE,
    output: OutputOption = None,
) -> None:
    """Our 766 progress figures per unit beside the national portal's, with differences."""
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
    year, number = _month(month)
    _check_xlsx(fmt, output)
    _check_files([portal_json], "tệp của Cổng")
    chosen = _choose(source, events)
    try:
        parent, children = load_portal_progress(portal_json.read_bytes())
    except PortalFormatError as exc:
        raise Problem(
            f"{portal_json} không dùng được để đối chiếu: {exc}", PORTAL_EXPECTED
        ) from None
    start, end = month_bounds(year, number, working_calendar(settings))
    rows = _source(settings, chosen, events)
    agencies = rows.rows(start, end, UnitKind.AGENCY)
    if not agencies:
        raise _no_data(rows, f"trong tháng {month}", settings)
    province = rows.rows(start, end, UnitKind.PROVINCE)
    province = [replace(r, unit_code=parent.code) for r in province]
    lines = compare([parent], province) + compare(children, agencies)
    records = [line.record() for line in lines]
    title = f"Đối chiếu với Cổng Dịch vụ công quốc gia — tháng {month}"
    columns = RECONCILE_TABLE_COLUMNS
    spec = TableSpec(title, columns, RECONCILE_LABELS_VI, records, drop_order=RECONCILE_DROP_ORDER)
    _emit(spec, RECONCILE_COLUMNS, fmt, output, "Đối chiếu 766")
    counts = {status: sum(line.status is status for line in lines) for status in Status}
    _say(
        f"Tháng {month}: {len(lines)} dòng đối chiếu — "
        + ", ".join(f"{status.value}: {n}" for status, n in counts.items())
        + f" · nguồn: {_source_name(chosen, events)}"
    )


RECONCILE_DROP_ORDER = ("judged_difference", "unit_code", "portal_ratio", "our_ratio")


# -- getting data in ------------------------------------------------------------------------

ingest_app = typer.Typer(help="Nạp số liệu hồ sơ (bản ghi đồng bộ, tệp, HTTP, hỏi định kỳ).")
app.add_typer(ingest_app, name="ingest")


class _RateColumn(ProgressColumn):
    """Records per second of a rich progress task."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} hồ sơ/giây")


StateOption = Annotated[Path, typer.Option(help="Nơi lưu bản ghi cuối của mỗi hồ sơ (SQLite).")]
UnitsOption = Annotated[
    Path, typer.Option(help="Danh mục đơn vị (JSON), ví dụ deploy/ingest/units.example.json.")
]


@ingest_app.command(
    "file",
    help="Bản ghi đồng bộ của Cổng (JSON hoặc JSON lines) hoặc bảng hồ sơ (.csv/.xlsx) "
    "→ sự kiện hồ sơ trên broker. Bản ghi lỗi được liệt kê (số dòng và lý do) và chuyển "
    "sang hàng đợi lỗi; mã thoát 3 nếu có bản ghi bị từ chối.",
)
def ingest_file(
    paths: Annotated[list[Path], typer.Argument(help="Các tệp cần nạp.")],
    units: UnitsOption,
    state: StateOption = Path(".data/ingest/records.sqlite"),
    seen_at: Annotated[
        str | None,
        typer.Option(help="Thời điểm xuất tệp (ISO 8601); mặc định: thời điểm sửa tệp."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Ánh xạ cột (TOML) cho bảng .csv/.xlsx.")
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Chỉ kết thúc khi ClickHouse đã lưu mọi sự kiện.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Số giây tối đa chờ với --wait.")] = 600.0,
) -> None:
    """National-portal sync records or dossier tables → dossier events."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.file_import import import_file
    from ingest.publish import ImportSummary, RecordPublisher
    from ingest.record_history import SqliteRecords
    from streams.kafka.clients import make_producer

    settings = Settings()
    _check_files(paths)
    directory = _unit_directory(units)
    if mapping is not None:
        _check_files([mapping], "tệp ánh xạ cột")
    observed = _seen_at(seen_at)
    check_broker(settings)
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
    total = ImportSummary()
    empty: list[Path] = []
    try:
        with Progress(*columns, console=err, disable=not err.is_terminal) as progress:
            for path in paths:
                when = observed or datetime.fromtimestamp(
                    path.stat().st_mtime, working_calendar(settings).tz
                )
                task = progress.add_task(path.name, total=None, errors=0)

                def tick(records: int, rejected: int, task=task) -> None:
                    progress.advance(task, records)
                    errors = progress.tasks[task].fields["errors"] + rejected
                    progress.update(task, errors=errors)

                try:
                    summary = import_file(path, publisher, when, tick, mapping=mapping)
                except ValueError as exc:  # a file or mapping that cannot be read at all
                    raise Problem(f"{path}: không đọc được tệp — {exc}") from None
                _list_rejections(summary)
                _say(
                    f"{path}: {summary.records} bản ghi, {summary.events} sự kiện, "
                    f"{summary.rejected} lỗi (đã chuyển sang hàng đợi lỗi)"
                )
                if summary.records + summary.rejected == 0:
                    _say(f"{path}: tệp không có bản ghi nào.", "yellow")
                    empty.append(path)
                total.records += summary.records
                total.events += summary.events
                total.rejected += summary.rejected
    finally:
        producer.close()
        store.close()
    if len(paths) > 1:
        _say(
            f"Tổng cộng {len(paths)} tệp: {total.records} bản ghi, {total.events} sự kiện, "
            f"{total.rejected} lỗi."
        )
    if wait and publisher.offsets:
        _wait_stored(settings, publisher.offsets, timeout)
        _say("Mọi sự kiện đã được lưu vào ClickHouse.")
    if total.records == 0:
        raise Problem(
            "không có bản ghi hợp lệ nào để nạp"
            + (f" ({total.rejected} bản ghi bị từ chối)" if total.rejected else " (tệp trống)"),
            "kiểm tra định dạng tệp (bản ghi DongBoHoSoMC, EVENTS.md §2; bảng cần --mapping)",
        )
    if total.rejected or empty:
        raise typer.Exit(REJECTED)


def _unit_directory(path: Path):
    """The unit directory (JSON); a Problem naming the file if it cannot be read."""
    from ingest.sync import UnitDirectory

    _check_files([path], "danh mục đơn vị")
    try:
        return UnitDirectory.from_file(path)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise Problem(
            f"{path}: không đọc được danh mục đơn vị ({exc})",
            "cần tệp JSON như deploy/ingest/units.example.json "
            "(hoặc tệp của `motcua simulate --units`)",
        ) from None


def _seen_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Problem(
            f"--seen-at không hợp lệ: {text!r}",
            "viết thời điểm dạng ISO 8601, ví dụ 2026-05-06T16:00:00+07:00",
            USAGE,
        ) from None


def _list_rejections(summary) -> None:
    for where, reason in summary.rejections:
        _say(f"{where}: bị từ chối — {reason}", "yellow")
    if summary.rejected > len(summary.rejections):
        _say(
            f"… và {summary.rejected - len(summary.rejections)} bản ghi bị từ chối khác "
            "(đủ trong bảng motcua.dead_letters)",
            "yellow",
        )


@ingest_app.command(
    "serve",
    help="Điểm nhận HTTP: POST /v1/records (bản ghi đồng bộ) → sự kiện hồ sơ. "
    "Mã bí mật (bearer) lấy từ MOTCUA_INGEST_TOKEN.",
)
def ingest_serve(
    units: UnitsOption,
    state: StateOption = Path(".data/ingest/records.sqlite"),
    host: Annotated[str, typer.Option(help="Địa chỉ lắng nghe.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Cổng lắng nghe.")] = 8088,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Kích thước tối đa của một yêu cầu (byte).")
    ] = 5_000_000,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Số giây cho cả thân một yêu cầu (quá thì trả 408); MOTCUA_INGEST_BODY_TIMEOUT.",
        ),
    ] = None,
) -> None:
    """HTTP push endpoint: POST /v1/records (sync records) → dossier events."""
    from ingest.serve import RECORDS_PATH, ServeSettings, run, token_problem

    serve_settings = ServeSettings()
    token = serve_settings.ingest_token.get_secret_value()
    problem = token_problem(token)
    if problem:
        _say(
            "Không thể khởi động: cần đặt MOTCUA_INGEST_TOKEN (mã bí mật ít nhất 16 ký tự, "
            "ví dụ tạo bằng `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
            f"({problem}).",
            "red",
        )
        raise typer.Exit(USAGE)
    _unit_directory(units)
    settings = Settings()
    check_broker(settings)
    _say(f"Đang nhận bản ghi đồng bộ tại http://{host}:{port}{RECORDS_PATH} (Ctrl-C để dừng)")
    timeout = body_timeout or serve_settings.ingest_body_timeout
    run(settings, units, state, host, port, max_body_bytes, token, timeout)


@ingest_app.command(
    "poll",
    help="Hỏi định kỳ một nguồn REST của tỉnh các hồ sơ thay đổi, từng trang → sự kiện hồ sơ. "
    "Mã bí mật (tùy chọn): MOTCUA_POLL_TOKEN.",
)
def ingest_poll(
    url: Annotated[str, typer.Option(help="Địa chỉ danh sách thay đổi của nguồn.")],
    units: UnitsOption,
    state: Annotated[Path, typer.Option(help="Nơi lưu bản ghi cuối và con trỏ (SQLite).")] = Path(
        ".data/ingest/records.sqlite"
    ),
    source_name: Annotated[
        str, typer.Option(help="Tên nguồn (khóa của con trỏ, nguồn của sự kiện).")
    ] = "poll",
    interval: Annotated[float, typer.Option(min=0, help="Số giây giữa hai lần hỏi.")] = 60.0,
    once: Annotated[bool, typer.Option(help="Dừng khi đã lấy hết thay đổi.")] = False,
    page_size: Annotated[int, typer.Option(min=1, help="Số bản ghi mỗi trang.")] = 500,
    since_param: Annotated[str, typer.Option(help="Tên tham số con trỏ.")] = "since",
    limit_param: Annotated[str, typer.Option(help="Tên tham số cỡ trang.")] = "limit",
) -> None:
    """Changed dossiers from a provincial REST source, page by page → dossier events."""
    import asyncio

    from rich.markup import escape

    from ingest.poll import PageReport, Poller, PollError, PollSettings, PollSource, RetryNotice
    from ingest.publish import RecordPublisher
    from ingest.record_history import SqliteRecords
    from streams.kafka.clients import make_producer

    settings, secrets = Settings(), PollSettings()
    directory = _unit_directory(units)
    check_broker(settings)
    source = PollSource(
        url=url,
        name=source_name,
        since_param=since_param,
        limit_param=limit_param,
        page_size=page_size,
        token=secrets.poll_token.get_secret_value() or None,
        token_header=secrets.poll_token_header or None,
    )
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
        return datetime.now(working_calendar(settings).tz)

    poller = Poller(source, publisher, clock=clock, on_page=page, on_retry=retry)
    err.print(f"Đang lấy hồ sơ thay đổi từ {escape(url)} (nguồn {escape(source_name)})")
    try:
        asyncio.run(poller.run(interval=interval, once=once, on_error=failed))
    except PollError as e:
        raise Problem(
            f"dừng lấy dữ liệu: {e}",
            "sửa nguồn (hoặc --url, mã bí mật) rồi chạy lại: lần sau tiếp tục từ con trỏ đã lưu",
        ) from None
    except KeyboardInterrupt:
        err.print("Đã dừng; lần sau tiếp tục từ con trỏ đã lưu.")
    finally:
        producer.close()
        store.close()


# -- boards, exports ----------------------------------------------------------------------

dashboards_app = typer.Typer(help="Bảng Grafana dưới dạng mã nguồn.")
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command(
    "render", help="Ghi JSON của các bảng vào dashboards/json/ (được commit, cấp qua tệp)."
)
def dashboards_render() -> None:
    """Write the boards' JSON under dashboards/json/, in the configured
    timezone and working day."""
    from dashboards.boards import write_all

    for path in write_all(settings=Settings()):
        _say(f"Đã ghi {path}")


@dashboards_app.command(
    "push",
    help="Tạo hoặc cập nhật các bảng trên một Grafana có sẵn (GRAFANA_URL, GRAFANA_TOKEN).",
)
def dashboards_push(
    folder_uid: Annotated[str | None, typer.Option(help="uid thư mục Grafana.")] = None,
) -> None:
    """Create or update the boards in an existing Grafana."""
    import os

    from dashboards.push import push_all

    url, token = os.environ.get("GRAFANA_URL"), os.environ.get("GRAFANA_TOKEN")
    if not url or not token:
        raise Problem(
            "chưa đặt GRAFANA_URL và GRAFANA_TOKEN",
            "đặt địa chỉ Grafana và mã của một service account (quyền Editor) rồi chạy lại",
            USAGE,
        )
    for uid in push_all(url, token, folder_uid, Settings()):
        _say(f"Đã cập nhật bảng {uid}")


export_app = typer.Typer(help="Xuất hồ sơ minh chứng (sổ tính Excel, CSV tiếng Việt).")
app.add_typer(export_app, name="export")


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@export_app.command(
    "monthly",
    help="Biểu II.06a của tháng theo cơ quan, lĩnh vực và huyện, kèm tỷ lệ 766, biểu đồ "
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
) -> None:
    """The month's Biểu II.06a per agency, field and district, with a cover sheet."""
    from rich.progress import Progress

    from reports.export import SHEETS, MonthlyEvidence, write_monthly_workbook
    from reports.integrity import finding_record
    from streams.clickhouse.rollups import month_bounds

    settings = Settings()
    year, number = _month(month)
    chosen = _choose(source, events)
    start, end = month_bounds(year, number, working_calendar(settings))
    rows = _source(settings, chosen, events)
    unit_name = _check_unit(rows, unit) if unit is not None else None
    months = [
        ((year * 12 + number - 1 - back) // 12, (year * 12 + number - 1 - back) % 12 + 1)
        for back in range(11, -1, -1)
    ]
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("Tổng hợp số liệu", total=len(SHEETS) + 1 + len(months))
        tables = {}
        for kind in SHEETS:
            tables[kind] = rows.rows(start, end, kind, unit)
            progress.advance(task)
        province = _total(rows.rows(start, end, UnitKind.PROVINCE, unit), settings)
        progress.advance(task)
        trend = []
        for y, m in months:
            bounds = month_bounds(y, m, working_calendar(settings))
            total = _total(rows.rows(*bounds, UnitKind.PROVINCE, unit), settings)
            trend.append((f"{y:04d}-{m:02d}", total))
            progress.advance(task)
    if not any(tables.values()):
        what = f"của cơ quan {unit} " if unit else ""
        raise _no_data(rows, f"{what}trong tháng {month}", settings)
    if unit is not None:
        province = replace(province, unit_code=unit, unit_name=unit_name or unit)
    evidence = MonthlyEvidence(
        month=f"{year:04d}-{number:02d}",
        province=province,
        tables=tables,
        trend=trend,
        cut_off=datetime.now(working_calendar(settings).tz).replace(microsecond=0),
        source=_source_name(chosen, events),
        findings=[
            finding_record(f, working_calendar(settings)) for f in rows.findings(start, end, unit)
        ],
    )
    if fmt is ExportFormat.XLSX:
        write_monthly_workbook(evidence, output)
    else:
        # UTF-8 with a BOM: spreadsheet software then reads the diacritics right
        with output.open("w", encoding="utf-8-sig", newline="") as out:
            records = [r.as_record() for r in [*tables[UnitKind.AGENCY], province]]
            write_records_csv(CSV_COLUMNS, records, out)
    counts = ", ".join(f"{len(tables[k])} {BY_TITLE[k].removeprefix('theo ')}" for k in SHEETS)
    rate = "—" if province.on_time_rate is None else f"{province.on_time_rate}%"
    _say(
        f"Đã ghi {output}: tháng {evidence.month}"
        + (f", cơ quan {unit}" if unit else "")
        + f" — {counts}; {province.received_total} hồ sơ tiếp nhận, "
        f"{province.finished_total} đã giải quyết, tỷ lệ đúng hạn {rate} · "
        f"nguồn: {evidence.source}"
    )


def _total(rows: list[PeriodRow], settings: Settings) -> PeriodRow:
    """The province row; an empty one for a period with no dossiers."""
    return rows[0] if rows else PeriodRow(*settings.province)


def _engine(settings: Settings, role: str):
    """A ClickHouse connection as the admin, writer or reader user."""
    from streams.clickhouse.engines import connect

    return connect(settings, role)


# -- the simulated province ---------------------------------------------------------------


@app.command(
    help="Một tỉnh mô phỏng như thật (cùng seed, cùng kết quả): sự kiện chuẩn hoặc bản ghi "
    "đồng bộ, danh mục đơn vị và số liệu đúng để đối chiếu.",
)
def simulate(
    seed: Annotated[int, typer.Option(help="Cùng seed thì cùng tỉnh, cùng hồ sơ.")] = 1,
    from_: Annotated[
        str | None, typer.Option("--from", help="Ngày đầu, YYYY-MM-DD; mặc định: tháng trước.")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(help="Ngày sau ngày cuối (không tính); mặc định: ngày 1 tháng sau."),
    ] = None,
    scale: Annotated[float, typer.Option(help="Tỷ lệ so với khối lượng thực tế.")] = 0.05,
    fmt: Annotated[
        str, typer.Option("--format", help="events (sự kiện chuẩn) hoặc sync (bản ghi đồng bộ).")
    ] = "events",
    output: Annotated[
        Path | None, typer.Option(help="Tệp JSON lines; mặc định in ra màn hình.")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Số liệu đúng của từng hồ sơ (JSON lines).")
    ] = None,
    totals: Annotated[
        Path | None, typer.Option(help="Biểu II.06a đúng theo cơ quan cho khoảng này (CSV).")
    ] = None,
    units: Annotated[Path | None, typer.Option(help="Ghi danh mục đơn vị (JSON).")] = None,
    live: Annotated[
        bool, typer.Option("--live/--backfill", help="Phát theo đồng hồ (live) hay một lần.")
    ] = False,
    speed: Annotated[float, typer.Option(help="Live: số giây mô phỏng mỗi giây thực.")] = 60.0,
    publish: Annotated[bool, typer.Option(help="Gửi lên broker.")] = False,
    online_share: Annotated[float, typer.Option(help="Tỷ lệ hồ sơ nộp trực tuyến.")] = 0.99,
    land_hotspot: Annotated[
        list[str] | None,
        typer.Option(help="Mã huyện có hồ sơ đất đai hay trễ hạn (lặp lại cho nhiều huyện)."),
    ] = None,
    personal_data: Annotated[
        bool, typer.Option(help="Cài dữ liệu cá nhân giả vào bản ghi đồng bộ (để kiểm thử).")
    ] = True,
    state: Annotated[
        Path, typer.Option(help="Với sync --publish: bản ghi cuối của mỗi hồ sơ (SQLite).")
    ] = Path(".data/simulate/records.sqlite"),
) -> None:
    """A realistic simulated province (deterministic per seed)."""
    from ingest.simulator.command import Request, run
    from ingest.simulator.knobs import Knobs
    from ingest.simulator.province import check_hotspots
    from ingest.simulator.simulation import Format

    if fmt not in ("events", "sync"):
        raise Problem(f"--format không hợp lệ: {fmt!r}", "dùng events hoặc sync", USAGE)
    today = date.today()
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    start = _day(from_) if from_ else last_month
    end = _day(to) if to else date(start.year + start.month // 12, start.month % 12 + 1, 1)
    if end <= start:
        raise Problem(f"--to ({end}) phải sau --from ({start})", "đổi --to hoặc --from", USAGE)
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
        raise Problem(
            f"tham số mô phỏng không hợp lệ: {exc}", "xem `motcua simulate --help`", USAGE
        ) from None
    if publish:
        check_broker(Settings())
    request = Request(
        start, end, knobs, Format(fmt), output, truth, totals, units, live, speed, publish, state
    )
    run(request, err)


# -- the local services, the worker, the pipeline ------------------------------------------

services_app = typer.Typer(
    help="Broker và ClickHouse cục bộ chạy nền (cho các lệnh ingest, replay, report …).",
)
app.add_typer(services_app, name="services")

DataDirOption = Annotated[Path, typer.Option(help="Thư mục dữ liệu của dịch vụ cục bộ.")]


@services_app.command(
    "up",
    help="Khởi động broker và ClickHouse cục bộ chạy nền; in các biến MOTCUA_* để dùng chúng: "
    'eval "$(motcua services up)".',
)
def services_up(data_dir: DataDirOption = Path(".data")) -> None:
    """Start the local broker and ClickHouse in the background; print their settings."""
    from streams.services import STATE_FILE
    from streams.services import services_up as up

    state = data_dir / STATE_FILE
    if state.exists():
        raise Problem(
            f"dịch vụ cục bộ đã chạy (xem {state})",
            f"dùng các biến trong tệp đó, hoặc `motcua services down --data-dir {data_dir}` "
            "rồi chạy lại",
        )
    _say("Đang khởi động broker và ClickHouse cục bộ…")
    store = data_dir.resolve()
    env = up(store)
    for name, value in env.items():
        print(f"export {name}={value}")
    _say(
        f"Dịch vụ đã chạy: broker {env['MOTCUA_BOOTSTRAP_SERVERS']}, ClickHouse "
        f"{env['MOTCUA_CLICKHOUSE_HOST']}:{env['MOTCUA_CLICKHOUSE_PORT']}. Các lệnh khác "
        f'dùng chúng khi có các biến trên (eval "$(motcua services up)"); tạo bảng: '
        f"`motcua migrate`; dừng: `motcua services down --data-dir {data_dir}`."
    )


@services_app.command("down", help="Dừng những gì `motcua services up` đã khởi động.")
def services_down(data_dir: DataDirOption = Path(".data")) -> None:
    """Stop what `motcua services up` started."""
    from streams.services import services_down as down

    _say(f"Đã dừng {down(data_dir.resolve())} tiến trình dịch vụ.")


@app.command(help="Tạo hoặc nâng cấp các bảng ClickHouse (chạy lại nhiều lần cũng không sao).")
def migrate() -> None:
    """Create or upgrade the ClickHouse schema (idempotent)."""
    from streams.clickhouse.migrations import migrate as apply

    applied = apply(_engine(Settings(), "admin"))
    if applied:
        _say(f"Đã áp dụng các bản nâng cấp: {', '.join(f'{n:04d}' for n in applied)}")
    else:
        _say("Các bảng đã ở phiên bản mới nhất.")


@app.command(
    help="Chạy một worker xử lý luồng (faust) cho đến khi bị dừng; chạy thêm worker để chia tải."
)
def worker() -> None:
    """Run one stream worker (faust) until stopped; scale by running more.
    Connects as the writer; migrates first only with MOTCUA_WORKER_MIGRATE=true."""
    from faust.worker import Worker

    from streams.clickhouse.migrations import migrate as apply
    from streams.clickhouse.migrations import pending_migrations
    from streams.kafka.topics import ensure_topics
    from streams.logs import logging_config
    from streams.worker import make_app

    settings = Settings()
    if settings.worker_migrate:
        apply(_engine(settings, "admin"))
    else:  # the writer's credentials only: the schema must already be there
        missing = pending_migrations(_engine(settings, "writer"))
        if missing:
            raise Problem(
                f"các bảng ClickHouse chưa được nâng cấp (bản {missing} chưa chạy)",
                "chạy `motcua migrate` với tài khoản quản trị trước, hoặc đặt "
                "MOTCUA_WORKER_MIGRATE=true cùng tài khoản quản trị",
                USAGE,
            )
    check_broker(settings)
    partitions = ensure_topics(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    faust_app = make_app(settings.model_copy(update={"topic_partitions": partitions}))
    config = logging_config(settings.log_level)
    runner = Worker(faust_app, loglevel=settings.log_level, quiet=True, logging_config=config)
    # faust's startup spinner writes cursor escape codes (and backspaces) into the
    # log even when it is a file: a service's log is JSON lines only
    runner.spinner = None
    runner.execute_from_commandline()


@app.command(
    help="Gửi sự kiện chuẩn (JSON lines) lên topic dossier-events; dòng lỗi được liệt kê và "
    "chuyển sang hàng đợi lỗi (mã thoát 3).",
)
def replay(
    files: Annotated[list[Path], typer.Argument(help="Các tệp sự kiện chuẩn.")],
    wait: Annotated[
        bool, typer.Option(help="Chỉ kết thúc khi ClickHouse đã lưu mọi sự kiện.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Số giây tối đa chờ với --wait.")] = 600.0,
) -> None:
    """Publish canonical events (JSON lines) to the dossier-events topic."""
    from ingest.replay import replay_files
    from streams.kafka.clients import make_producer

    settings = Settings()
    _check_files(files, "tệp sự kiện")
    check_broker(settings)
    producer = make_producer(settings)

    def on_reject(path: str, line: int, reason: str) -> None:
        nonlocal listed
        listed += 1
        if listed <= MAX_LISTED:
            _say(f"{path}:{line}: bị từ chối (đã chuyển sang hàng đợi lỗi) — {reason}", "yellow")

    listed = 0
    try:
        result = replay_files(files, settings, producer, on_reject)
    finally:
        producer.close()
    if result.rejected > MAX_LISTED:
        _say(f"… và {result.rejected - MAX_LISTED} dòng bị từ chối khác", "yellow")
    _say(f"Đã gửi {result.published} sự kiện, {result.rejected} dòng bị từ chối.")
    if result.published == 0:
        raise Problem(
            "không có sự kiện hợp lệ nào để gửi"
            + (f" ({result.rejected} dòng bị từ chối)" if result.rejected else " (tệp trống)"),
            "mỗi dòng phải là một sự kiện JSON (EVENTS.md §1); bản ghi đồng bộ của Cổng thì "
            "nạp bằng `motcua ingest file`",
        )
    if wait:
        _wait_stored(settings, result.offsets, timeout)
        _say("Mọi sự kiện đã gửi đều đã được lưu vào ClickHouse.")
    if result.rejected:
        raise typer.Exit(REJECTED)


def _wait_stored(settings: Settings, offsets: dict[int, int], timeout: float) -> None:
    """Block until the workers' stored progress covers the acknowledged `offsets`;
    a ClickHouse outage meanwhile is waited out until `timeout`."""
    from clickhouse_driver.errors import NetworkError, SocketTimeoutError

    from streams.progress import NotStoredInTime, wait_until_stored

    _say(f"Đang chờ worker lưu vào ClickHouse (tối đa {timeout:g} giây)…")
    try:
        wait_until_stored(
            _engine(settings, "reader"),
            settings,
            offsets,
            timeout,
            tolerate=(NetworkError, SocketTimeoutError),
        )
    except NotStoredInTime as exc:
        where = f"{settings.clickhouse_host}:{settings.clickhouse_port}"
        if exc.unreachable is not None:
            raise Problem(
                f"sau {timeout:g} giây vẫn không kết nối được ClickHouse tại {where}",
                "các sự kiện đã nằm trên broker và worker sẽ lưu khi ClickHouse chạy lại; "
                "kiểm tra dịch vụ rồi xem lại bằng `motcua report --from … --to …`",
            ) from None
        behind = "; ".join(
            f"phân vùng {p}: đã lưu đến {stored}, cần {wanted}"
            for p, (stored, wanted) in sorted(exc.behind.items())
        )
        raise Problem(
            f"sau {timeout:g} giây worker vẫn chưa lưu hết ({behind or 'tiến độ thuộc log khác'})",
            "worker có đang chạy không? (`motcua worker`, hoặc `motcua run`); "
            "tăng --timeout nếu khối lượng lớn",
        ) from None


@app.command(
    help="Tính lại số liệu của mọi hồ sơ có sự kiện trong [--from, --to) từ sự kiện gốc đã lưu."
)
def recompute(from_: FromOption, to: ToOption) -> None:
    """Rebuild the facts of every dossier with an event in [from, to) from raw events."""
    from streams.clickhouse.recompute import recompute_facts
    from streams.clickhouse.rollups import months_between, refresh_rollups

    settings = Settings()
    start, end = _period(from_, to, working_calendar(settings).tz)
    engine = _engine(settings, "writer")
    written = recompute_facts(engine, start, end, working_calendar(settings))
    _say(f"Đã tính lại số liệu của {written} hồ sơ.")
    for month_start, month_end in months_between(start, end, working_calendar(settings)):
        refresh_rollups(
            engine, month_start, month_end, working_calendar(settings), settings.province
        )
        _say(f"Đã làm mới số liệu tổng hợp tháng {month_start:%Y-%m}.")


@app.command(help="Lưu các dòng Biểu II.06a của tháng theo từng đơn vị (cho bảng và báo cáo).")
def rollup(month: Annotated[str, typer.Option(help="Tháng, YYYY-MM.")]) -> None:
    """Store the month's II.06a rows per unit (for boards and exports)."""
    from streams.clickhouse.rollups import month_bounds, refresh_rollups

    settings = Settings()
    start, end = month_bounds(*_month(month), working_calendar(settings))
    rows = refresh_rollups(
        _engine(settings, "writer"), start, end, working_calendar(settings), settings.province
    )
    _say(f"Đã lưu {rows} dòng tổng hợp của tháng {month}.")


@app.command(
    help="Việc chính: broker + ClickHouse cục bộ + một worker, nhận hồ sơ của một tỉnh mô "
    "phỏng theo đồng hồ tăng tốc, kèm màn hình tỷ lệ của tháng (Ctrl-C để dừng).",
)
def run(
    speed: Annotated[
        float, typer.Option(help="Số giây mô phỏng mỗi giây thực (3600: một giờ mỗi giây).")
    ] = 3600.0,
    days_back: Annotated[int, typer.Option(help="Mô phỏng bắt đầu từ chừng ấy ngày trước.")] = 20,
    data_dir: DataDirOption = Path(".data"),
    every: Annotated[
        float,
        typer.Option(help="Khi không có màn hình: số giây giữa hai dòng tóm tắt trạng thái."),
    ] = 10.0,
) -> None:
    """The main job: local broker + ClickHouse + a worker, fed by a simulated province."""
    from streams.live import run_live

    run_live(Settings(), data_dir.resolve(), speed, days_back, summary_every=every)


if __name__ == "__main__":
    app()
