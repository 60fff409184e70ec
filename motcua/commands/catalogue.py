"""`catalogue load`: store the procedure catalogue (EVENTS.md §4) in ClickHouse,
where the board "Chỉ số 766", `export monthly` and `scorecard --source
clickhouse` read it (streams.clickhouse.scorecard.STORED_CATALOGUE)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from motcua.commands.scorecard import read_catalogue
from motcua.console import say
from motcua.root import engine_for
from schemas.settings import Settings

catalogue_app = typer.Typer(help="Danh mục thủ tục hành chính dùng cho bảng điểm 766.")


@catalogue_app.command(
    "load",
    help="Lưu danh mục thủ tục (JSON hoặc CSV, EVENTS.md §4) vào ClickHouse: thủ tục nào trả "
    "kết quả giấy, đủ điều kiện trực tuyến toàn trình, có phí. Thủ tục đã có được thay bằng "
    "bản mới; thủ tục không có trong danh mục dùng giá trị thay thế của METRICS.md §7.",
)
def load(
    file: Annotated[Path, typer.Argument(help="Tệp danh mục thủ tục (JSON hoặc CSV).")],
) -> None:
    """Store (or supersede) the catalogue's procedures in the `procedures` table."""
    from streams.clickhouse.scorecard import store_catalogue

    catalogue = read_catalogue(file)
    assert catalogue is not None  # a path was given
    stored = store_catalogue(engine_for(Settings(), "writer"), catalogue)
    say(f"Đã lưu {stored} thủ tục của {file} vào ClickHouse (bảng procedures).")
