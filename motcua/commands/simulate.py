"""`simulate`: the simulated province."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from motcua.console import err
from motcua.options import (
    parse_day,
)
from schemas.settings import Settings
from streams.problems import USAGE, Problem, check_broker

app = typer.Typer()


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
    from ingest.simulator.knobs import Knobs
    from ingest.simulator.province import check_hotspots
    from ingest.simulator.simulation import Format
    from motcua.simulation import Request, run

    if fmt not in ("events", "sync"):
        raise Problem(f"--format không hợp lệ: {fmt!r}", "dùng events hoặc sync", USAGE)
    today = date.today()
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    start = parse_day(from_) if from_ else last_month
    end = parse_day(to) if to else date(start.year + start.month // 12, start.month % 12 + 1, 1)
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
