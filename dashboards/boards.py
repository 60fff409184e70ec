"""The Grafana boards' registry: name → builder. `python -m dashboards.boards`
writes the JSON committed under dashboards/json/ (the default settings'
rendering), which Grafana provisions from deploy/grafana/. Shared builders
are in dashboards.panels, each board in its own module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboards.agency import agency_board
from dashboards.alerts import alerts_board
from dashboards.hotspots import hotspot_board
from dashboards.panels import VARIABLES, Local
from dashboards.province import province_board
from dashboards.scorecard import scorecard_board
from schemas.settings import Settings

__all__ = ["BOARDS", "JSON_DIR", "VARIABLES", "Local", "render_all", "write_all"]

JSON_DIR = Path(__file__).resolve().parent / "json"

BOARDS: dict[str, Callable[[Local], dict[str, Any]]] = {
    "toan-tinh": province_board,
    "don-vi": agency_board,
    "diem-nong": hotspot_board,
    "canh-bao": alerts_board,
    "chi-so-766": scorecard_board,
}


def render_all(settings: Settings | None = None) -> dict[str, str]:
    """Board file name → JSON text for `settings` (default: Settings()), as committed."""
    local = Local.of(settings if settings is not None else Settings())
    return {
        f"{name}.json": json.dumps(build(local), ensure_ascii=False, indent=2) + "\n"
        for name, build in BOARDS.items()
    }


def write_all(directory: Path = JSON_DIR, settings: Settings | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all(settings).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path)
