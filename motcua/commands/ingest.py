"""`ingest file|serve|poll`: sync records and dossier tables in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import ProgressColumn, Task
from rich.text import Text

from motcua.console import err, say
from motcua.options import (
    WaitOption,
    WaitTimeoutOption,
    check_files,
)
from motcua.root import record_publisher, unit_directory, wait_stored
from schemas.settings import Settings
from streams.problems import REJECTED, USAGE, Problem, check_broker
from streams.rules.calendar import working_calendar

ingest_app = typer.Typer(help="Nạp số liệu hồ sơ (bản ghi đồng bộ, tệp, HTTP, hỏi định kỳ).")


class _RateColumn(ProgressColumn):
    """Records per second of a rich progress task."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} hồ sơ/giây")


StateOption = Annotated[Path, typer.Option(help="Nơi lưu bản ghi cuối của mỗi hồ sơ (SQLite).")]
UnitsOption = Annotated[
    Path,
    typer.Option(
        help="Danh mục đơn vị (JSON hoặc CSV), ví dụ deploy/ingest/units.example.json, hoặc "
        "có hiệu lực và đơn vị kế thừa: deploy/ingest/units-history.example.json."
    ),
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
    wait: WaitOption = False,
    timeout: WaitTimeoutOption = 600.0,
) -> None:
    """National-portal sync records or dossier tables → dossier events."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.file_import import import_file
    from ingest.publish import ImportSummary

    settings = Settings()
    check_files(paths)
    directory = unit_directory(units)
    if mapping is not None:
        check_files([mapping], "tệp ánh xạ cột")
    observed = _seen_at(seen_at)
    check_broker(settings)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} hồ sơ · {task.fields[errors]} lỗi"),
        _RateColumn(),
        TimeElapsedColumn(),
    )
    total = ImportSummary()
    empty: list[Path] = []
    with (
        record_publisher(settings, state, directory, "ingest file", bulk=True) as publisher,
        Progress(*columns, console=err, disable=not err.is_terminal) as progress,
    ):
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
            say(
                f"{path}: {summary.records} bản ghi, {summary.events} sự kiện, "
                f"{summary.rejected} lỗi (đã chuyển sang hàng đợi lỗi)"
            )
            if summary.records + summary.rejected == 0:
                say(f"{path}: tệp không có bản ghi nào.", "yellow")
                empty.append(path)
            total.records += summary.records
            total.events += summary.events
            total.rejected += summary.rejected
    if len(paths) > 1:
        say(
            f"Tổng cộng {len(paths)} tệp: {total.records} bản ghi, {total.events} sự kiện, "
            f"{total.rejected} lỗi."
        )
    if wait and publisher.offsets:
        wait_stored(settings, publisher.offsets, timeout)
        say("Mọi sự kiện đã được lưu vào ClickHouse.")
    if total.records == 0:
        raise Problem(
            "không có bản ghi hợp lệ nào để nạp"
            + (f" ({total.rejected} bản ghi bị từ chối)" if total.rejected else " (tệp trống)"),
            "kiểm tra định dạng tệp (bản ghi DongBoHoSoMC, EVENTS.md §2; bảng cần --mapping)",
        )
    if total.rejected or empty:
        raise typer.Exit(REJECTED)


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
        say(f"{where}: bị từ chối — {reason}", "yellow")
    if summary.rejected > len(summary.rejections):
        say(
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
    from ingest.serve import (
        PRODUCER_TIMEOUTS,
        RECORDS_PATH,
        STAGE,
        ServeSettings,
        publisher_thread,
        run,
        token_problem,
    )
    from streams.collector import fewer_collections

    serve_settings = ServeSettings()
    token = serve_settings.ingest_token.get_secret_value()
    problem = token_problem(token)
    if problem:
        say(
            "Không thể khởi động: cần đặt MOTCUA_INGEST_TOKEN (mã bí mật ít nhất 16 ký tự, "
            "ví dụ tạo bằng `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
            f"({problem}).",
            "red",
        )
        raise typer.Exit(USAGE)
    directory = unit_directory(units)
    settings = Settings()
    check_broker(settings)
    say(f"Đang nhận bản ghi đồng bộ tại http://{host}:{port}{RECORDS_PATH} (Ctrl-C để dừng)")
    timeout = body_timeout or serve_settings.ingest_body_timeout
    pool = publisher_thread()  # the record store's one thread

    def in_pool(fn, *args):
        return pool.submit(fn, *args).result()

    # rare collections while serving, as in the workers (streams.collector)
    try:
        with (
            fewer_collections(),
            record_publisher(
                settings, state, directory, STAGE, in_thread=in_pool, **PRODUCER_TIMEOUTS
            ) as publisher,
        ):
            run(settings, publisher, pool, host, port, max_body_bytes, token, timeout)
    finally:
        pool.shutdown()


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
    from streams.collector import fewer_collections

    settings, secrets = Settings(), PollSettings()
    directory = unit_directory(units)
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

    err.print(f"Đang lấy hồ sơ thay đổi từ {escape(url)} (nguồn {escape(source_name)})")
    try:
        with (
            fewer_collections(),  # rare collections, as in the workers (streams.collector)
            record_publisher(settings, state, directory, "ingest poll", source_name) as publisher,
        ):
            poller = Poller(source, publisher, clock=clock, on_page=page, on_retry=retry)
            asyncio.run(poller.run(interval=interval, once=once, on_error=failed))
    except PollError as e:
        raise Problem(
            f"dừng lấy dữ liệu: {e}",
            "sửa nguồn (hoặc --url, mã bí mật) rồi chạy lại: lần sau tiếp tục từ con trỏ đã lưu",
        ) from None
    except KeyboardInterrupt:
        err.print("Đã dừng; lần sau tiếp tục từ con trỏ đã lưu.")
