"""Small loopback helpers shared by integration tests: read a whole topic,
and a webhook receiver that records what Alertmanager posts to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

from kafka import KafkaConsumer


def topic_values(bootstrap: str, topic: str, expected: int = 0, seconds: float = 20) -> list[bytes]:
    """Every message value of `topic`: reads until `expected` came and a poll is empty."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    values: list[bytes] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = [r.value for rs in consumer.poll(timeout_ms=1000).values() for r in rs]
        values += got
        if len(values) >= expected and not got:
            break
    consumer.close()
    return values


@contextmanager
def webhook() -> Iterator[tuple[int, list[tuple[str, dict]]]]:
    """(port, received): a loopback HTTP receiver; `received` gets (path, JSON body)."""
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port, received
    finally:
        server.shutdown()
