"""`services`, `migrate`, `worker`, `backfill`, `replay`, `recompute`, `rollup`, `run`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from motcua.console import MAX_LISTED, say
from motcua.options import (
    FromOption,
    ToOption,
    WaitOption,
    WaitTimeoutOption,
    check_files,
    parse_month,
    parse_period,
)
from motcua.root import engine_for, wait_stored
from schemas.settings import Settings
from streams.problems import REJECTED, USAGE, Problem, check_broker
from streams.rules.calendar import working_calendar

app = typer.Typer()


services_app = typer.Typer(
    help="Broker và ClickHouse cục bộ chạy nền (cho các lệnh ingest, replay, report …).",
)

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
    say("Đang khởi động broker và ClickHouse cục bộ…")
    store = data_dir.resolve()
    env = up(store)
    for name, value in env.items():
        print(f"export {name}={value}")
    say(
        f"Dịch vụ đã chạy: broker {env['MOTCUA_BOOTSTRAP_SERVERS']}, ClickHouse "
        f"{env['MOTCUA_CLICKHOUSE_HOST']}:{env['MOTCUA_CLICKHOUSE_PORT']}. Các lệnh khác "
        f'dùng chúng khi có các biến trên (eval "$(motcua services up)"); tạo bảng: '
        f"`motcua migrate`; dừng: `motcua services down --data-dir {data_dir}`."
    )


@services_app.command("down", help="Dừng những gì `motcua services up` đã khởi động.")
def services_down(data_dir: DataDirOption = Path(".data")) -> None:
    """Stop what `motcua services up` started."""
    from streams.services import services_down as down

    say(f"Đã dừng {down(data_dir.resolve())} tiến trình dịch vụ.")


@app.command(help="Tạo hoặc nâng cấp các bảng ClickHouse (chạy lại nhiều lần cũng không sao).")
def migrate() -> None:
    """Create or upgrade the ClickHouse schema (idempotent)."""
    from streams.clickhouse.migrations import migrate as apply

    applied = apply(engine_for(Settings(), "admin"))
    if applied:
        say(f"Đã áp dụng các bản nâng cấp: {', '.join(f'{n:04d}' for n in applied)}")
    else:
        say("Các bảng đã ở phiên bản mới nhất.")


@app.command(
    help="Chạy một worker xử lý luồng (faust) cho đến khi bị dừng; chạy thêm worker để chia tải."
)
def worker() -> None:
    """Run one stream worker (faust) until stopped; scale by running more.
    Connects as the writer; migrates first only with MOTCUA_WORKER_MIGRATE=true."""
    from faust.worker import Worker

    from streams.collector import tune_collector
    from streams.logs import logging_config
    from streams.worker import make_app

    settings = _ready_to_consume(Settings())
    tune_collector()
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    faust_app = make_app(settings)
    config = logging_config(settings.log_level)
    runner = Worker(faust_app, loglevel=settings.log_level, quiet=True, logging_config=config)
    # faust's startup spinner writes cursor escape codes (and backspaces) into the
    # log even when it is a file: a service's log is JSON lines only
    runner.spinner = None
    runner.execute_from_commandline()


@app.command(
    help="Nạp nhanh phần tồn đọng của topic sự kiện vào ClickHouse theo lô lớn (cùng quy tắc, "
    "cùng tiến độ với worker), rồi dừng khi đã lưu hết; chạy khi các worker đang dừng.",
)
def backfill(
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Không dừng khi đã hết tồn đọng; dừng bằng Ctrl-C."),
    ] = False,
) -> None:
    """Store the events topic's backlog in large batches (aiokafka, outside faust's
    per-event stream) and stop once caught up; run it while the workers are stopped."""
    import logging
    import logging.config

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from streams.backfill import run_backfill
    from streams.logs import logging_config

    settings = _ready_to_consume(Settings())
    logging.config.dictConfig(logging_config(settings.log_level))
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
    ) as progress:
        task = progress.add_task("Đang nạp…")

        def shown(result) -> None:
            rate = result.events / max(progress.tasks[task].elapsed or 1e-9, 1e-9)
            progress.update(
                task, description=f"Đã lưu {result.events:,} sự kiện ({rate:,.0f} sự kiện/giây)"
            )

        result = run_backfill(settings, follow=follow, on_batch=shown)
    say(
        f"Đã nạp {result.events:,} sự kiện ({result.new_events:,} mới, "
        f"{result.duplicates:,} lặp lại, {result.dead_letters:,} sang hàng đợi lỗi) và "
        f"{result.letters_stored:,} thư lỗi trong {result.seconds:.1f} giây."
    )


def _ready_to_consume(settings: Settings) -> Settings:
    """The checks a consumer starts with (schema, broker, topics); the settings
    with the topics' real partition count."""
    from streams.clickhouse.migrations import migrate as apply
    from streams.clickhouse.migrations import pending_migrations
    from streams.kafka.topics import ensure_topics

    if settings.worker_migrate:
        apply(engine_for(settings, "admin"))
    else:  # the writer's credentials only: the schema must already be there
        missing = pending_migrations(engine_for(settings, "writer"))
        if missing:
            raise Problem(
                f"các bảng ClickHouse chưa được nâng cấp (bản {missing} chưa chạy)",
                "chạy `motcua migrate` với tài khoản quản trị trước, hoặc đặt "
                "MOTCUA_WORKER_MIGRATE=true cùng tài khoản quản trị",
                USAGE,
            )
    check_broker(settings)
    partitions = ensure_topics(settings)
    return settings.model_copy(update={"topic_partitions": partitions})


@app.command(
    help="Gửi sự kiện chuẩn (JSON lines) lên topic dossier-events; dòng lỗi được liệt kê và "
    "chuyển sang hàng đợi lỗi (mã thoát 3).",
)
def replay(
    files: Annotated[list[Path], typer.Argument(help="Các tệp sự kiện chuẩn.")],
    wait: WaitOption = False,
    timeout: WaitTimeoutOption = 600.0,
) -> None:
    """Publish canonical events (JSON lines) to the dossier-events topic."""
    from ingest.replay import replay_files
    from streams.kafka.bulk import BulkProducer

    settings = Settings()
    check_files(files, "tệp sự kiện")
    check_broker(settings)
    producer = BulkProducer(settings)

    def on_reject(path: str, line: int, reason: str) -> None:
        nonlocal listed
        listed += 1
        if listed <= MAX_LISTED:
            say(f"{path}:{line}: bị từ chối (đã chuyển sang hàng đợi lỗi) — {reason}", "yellow")

    listed = 0
    try:
        result = replay_files(files, settings, producer, on_reject)
    finally:
        producer.close()
    if result.rejected > MAX_LISTED:
        say(f"… và {result.rejected - MAX_LISTED} dòng bị từ chối khác", "yellow")
    say(f"Đã gửi {result.published} sự kiện, {result.rejected} dòng bị từ chối.")
    if result.published == 0:
        raise Problem(
            "không có sự kiện hợp lệ nào để gửi"
            + (f" ({result.rejected} dòng bị từ chối)" if result.rejected else " (tệp trống)"),
            "mỗi dòng phải là một sự kiện JSON (EVENTS.md §1); bản ghi đồng bộ của Cổng thì "
            "nạp bằng `motcua ingest file`",
        )
    if wait:
        wait_stored(settings, result.offsets, timeout)
        say("Mọi sự kiện đã gửi đều đã được lưu vào ClickHouse.")
    if result.rejected:
        raise typer.Exit(REJECTED)


@app.command(
    help="Tính lại số liệu của mọi hồ sơ có sự kiện trong [--from, --to) từ sự kiện gốc đã lưu."
)
def recompute(from_: FromOption, to: ToOption) -> None:
    """Rebuild the facts of every dossier with an event in [from, to) from raw events."""
    from streams.clickhouse.recompute import recompute_facts
    from streams.clickhouse.rollups import months_between, refresh_rollups

    settings = Settings()
    start, end = parse_period(from_, to, working_calendar(settings).tz)
    engine = engine_for(settings, "writer")
    written = recompute_facts(engine, start, end, working_calendar(settings))
    say(f"Đã tính lại số liệu của {written} hồ sơ.")
    for month_start, month_end in months_between(start, end, working_calendar(settings)):
        refresh_rollups(
            engine, month_start, month_end, working_calendar(settings), settings.province
        )
        say(f"Đã làm mới số liệu tổng hợp tháng {month_start:%Y-%m}.")


@app.command(help="Lưu các dòng Biểu II.06a của tháng theo từng đơn vị (cho bảng và báo cáo).")
def rollup(month: Annotated[str, typer.Option(help="Tháng, YYYY-MM.")]) -> None:
    """Store the month's II.06a rows per unit (for boards and exports)."""
    from streams.clickhouse.rollups import month_bounds, refresh_rollups

    settings = Settings()
    start, end = month_bounds(*parse_month(month), working_calendar(settings))
    rows = refresh_rollups(
        engine_for(settings, "writer"), start, end, working_calendar(settings), settings.province
    )
    say(f"Đã lưu {rows} dòng tổng hợp của tháng {month}.")


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
    from motcua.live import run_live

    run_live(Settings(), data_dir.resolve(), speed, days_back, summary_every=every)


if __name__ == "__main__":
    app()
