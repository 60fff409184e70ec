"""Pushing the boards to an existing Grafana over its HTTP API (grafana-client)."""

from __future__ import annotations

import json

from dashboards.boards import render_all
from schemas.settings import Settings


def push_all(
    url: str, token: str, folder_uid: str | None = None, settings: Settings | None = None
) -> list[str]:
    """Create or overwrite every board, rendered for `settings` (default:
    Settings()); returns their uids."""
    from grafana_client import GrafanaApi

    api = GrafanaApi.from_url(url, credential=token)
    pushed = []
    for text in render_all(settings).values():
        board = json.loads(text)
        body = {"dashboard": board, "overwrite": True, "message": "motcua dashboards push"}
        if folder_uid:
            body["folderUid"] = folder_uid
        api.dashboard.update_dashboard(body)
        pushed.append(board["uid"])
    return pushed
