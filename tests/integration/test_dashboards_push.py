"""`motcua dashboards push` over real HTTP. No Grafana can be installed on these
machines, so a small loopback HTTP server records what Grafana would receive."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from dashboards.boards import BOARDS
from dashboards.panels import Local
from motcua import app
from schemas.settings import Settings

pytestmark = pytest.mark.integration


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, self.headers.get("Authorization", ""), body))
        answer = json.dumps({"status": "success", "uid": body["dashboard"]["uid"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


def test_push_sends_every_board_with_the_token() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"GRAFANA_URL": f"http://127.0.0.1:{server.server_port}", "GRAFANA_TOKEN": "tok-1"}
        result = CliRunner().invoke(app, ["dashboards", "push", "--folder-uid", "f1"], env=env)
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    paths = {path for path, _, _ in _Recorder.received}
    assert paths == {"/api/dashboards/db"}
    assert {auth for _, auth, _ in _Recorder.received} == {"Bearer tok-1"}
    local = Local.of(Settings())
    uids = [body["dashboard"]["uid"] for _, _, body in _Recorder.received]
    assert sorted(uids) == sorted(build(local)["uid"] for build in BOARDS.values())
    assert all(body["overwrite"] and body["folderUid"] == "f1" for _, _, body in _Recorder.received)


def test_push_without_settings_says_what_is_missing() -> None:
    result = CliRunner().invoke(app, ["dashboards", "push"], env={"GRAFANA_URL": ""})
    assert result.exit_code != 0
    assert "GRAFANA_TOKEN" in result.output
