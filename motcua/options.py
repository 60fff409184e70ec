"""Options and arguments several commands share, and how they are checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from motcua.console import MAX_LISTED, say
from reports.offline import Rejected
from reports.sources import FileSource, ReportSource
from schemas.settings import Settings
from streams.problems import USAGE, Problem
from streams.rules.calendar import working_calendar


class Source(StrEnum):
    FILES = "files"
    CLICKHOUSE = "clickhouse"


class UnitsAs(StrEnum):
    RECORDED = "recorded"  # the units of the time
    TODAY = "today"  # mapped through successors to the units valid at the period's end


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
WaitOption = Annotated[bool, typer.Option(help="Chỉ kết thúc khi ClickHouse đã lưu mọi sự kiện.")]
WaitTimeoutOption = Annotated[float, typer.Option(help="Số giây tối đa chờ với --wait.")]
OutputOption = Annotated[Path | None, typer.Option(help="Ghi vào tệp này thay vì in ra màn hình.")]
UnitsOption = Annotated[
    UnitsAs,
    typer.Option(
        "--units",
        help="Đơn vị như đã ghi nhận (recorded) hoặc theo đơn vị hiện nay (today: hồ sơ của "
        "đơn vị đã sáp nhập cộng vào đơn vị kế thừa còn hiệu lực ở cuối kỳ; cần --directory).",
    ),
]
DirectoryOption = Annotated[
    Path | None,
    typer.Option(
        "--directory",
        help="Danh mục đơn vị có hiệu lực và đơn vị kế thừa (JSON hoặc CSV), "
        "ví dụ deploy/ingest/units-history.example.json.",
    ),
]


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(
            f"ngày không hợp lệ: {text!r}", "viết ngày dạng YYYY-MM-DD, ví dụ 2026-05-01", USAGE
        ) from None


def parse_month(text: str) -> tuple[int, int]:
    try:
        year, number = (int(x) for x in text.split("-"))
        if not 1 <= number <= 12:
            raise ValueError
    except ValueError:
        raise Problem(
            f"tháng không hợp lệ: {text!r}", "viết tháng dạng YYYY-MM, ví dụ 2026-05", USAGE
        ) from None
    return year, number


def parse_period(from_: str, to: str, tz: tzinfo) -> tuple[datetime, datetime]:
    start, end = (datetime.combine(parse_day(d), datetime.min.time(), tz) for d in (from_, to))
    if end <= start:
        raise Problem(
            f"--to ({to}) phải sau --from ({from_})",
            "--to là ngày sau ngày cuối kỳ, ví dụ --from 2026-05-01 --to 2026-06-01",
            USAGE,
        )
    return start, end


def check_files(paths: Sequence[Path], what: str = "tệp") -> None:
    for path in paths:
        if not path.exists():
            raise Problem(f"không tìm thấy {what} {path}", "kiểm tra lại đường dẫn", USAGE)
        if path.is_dir():
            raise Problem(f"{path} là thư mục, không phải {what}", "chỉ định một tệp", USAGE)


def choose_source(source: Source | None, events: list[Path] | None) -> Source:
    """The source follows the arguments: --events means files."""
    if events:
        if source is Source.CLICKHOUSE:
            raise Problem(
                "--events và --source clickhouse mâu thuẫn nhau",
                "bỏ --events để đọc từ ClickHouse, hoặc bỏ --source để đọc từ tệp",
                USAGE,
            )
        check_files(events, "tệp sự kiện")
        return Source.FILES
    if source is Source.FILES:
        raise Problem(
            "--source files cần ít nhất một --events TỆP.jsonl",
            "thêm --events TỆP.jsonl (sự kiện chuẩn, mỗi dòng một sự kiện JSON)",
            USAGE,
        )
    return Source.CLICKHOUSE


def read_events(settings: Settings, paths: list[Path]) -> FileSource:
    """Valid events from JSON-lines files; invalid lines listed on stderr.

    No valid event at all (an empty or all-garbage file) is a Problem.
    """
    rejected = 0

    def on_reject(r: Rejected) -> None:
        nonlocal rejected
        rejected += 1
        if rejected <= MAX_LISTED:
            say(f"{r.path}:{r.line}: dòng không hợp lệ, đã bỏ qua: {r.reason}", "yellow")

    files = FileSource(paths, working_calendar(settings), settings.province, on_reject)
    if rejected > MAX_LISTED:
        say(f"… và {rejected - MAX_LISTED} dòng không hợp lệ khác", "yellow")
    if rejected:
        say(f"Đã bỏ qua {rejected} dòng không hợp lệ.", "yellow")
    if not files.events:
        names = ", ".join(str(p) for p in paths)
        raise Problem(
            f"{names}: không có sự kiện hợp lệ nào"
            + (f" ({rejected} dòng không hợp lệ)" if rejected else " (tệp trống)"),
            "mỗi dòng phải là một sự kiện JSON (EVENTS.md §1), ví dụ tệp của `motcua simulate`; "
            "bản ghi đồng bộ của Cổng thì nạp bằng `motcua ingest file`",
        )
    return files


FROM_FILES = "hoặc lấy số liệu từ tệp: thêm --events TỆP.jsonl"


def source_name(source: Source, events: list[Path] | None) -> str:
    if source is Source.CLICKHOUSE:
        return "ClickHouse (motcua.dossier_periods, motcua.open_dossiers)"
    return ", ".join(str(p) for p in events or [])


def no_data(rows: ReportSource, what: str, settings: Settings) -> Problem:
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


def check_unit(rows: ReportSource, unit: str) -> str:
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
