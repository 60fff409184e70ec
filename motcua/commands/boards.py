"""`dashboards render|push`: the Grafana boards as code."""

from __future__ import annotations

from typing import Annotated

import typer

from motcua.console import say
from schemas.settings import Settings
from streams.problems import USAGE, Problem

dashboards_app = typer.Typer(help="Bảng Grafana dưới dạng mã nguồn.")


@dashboards_app.command(
    "render", help="Ghi JSON của các bảng vào dashboards/json/ (được commit, cấp qua tệp)."
)
def dashboards_render() -> None:
    """Write the boards' JSON under dashboards/json/, in the configured
    timezone and working day."""
    from dashboards.boards import write_all

    for path in write_all(settings=Settings()):
        say(f"Đã ghi {path}")


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
        say(f"Đã cập nhật bảng {uid}")
