"""`motcua run` with its output in a pipe (a log, a service manager): plain
timestamped status lines, a summary every few seconds, and Ctrl-C answered at
once with "Đang dừng…" and a clean stop of everything it started, startup
included. The real command, as a process, with its real services."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from streams.clickhouse.migrations import load_migrations

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$")


class Run:
    """`motcua run` in a pipe; its lines (without stamps) as they come."""

    def __init__(self, data: Path, every: float = 2.0) -> None:
        argv = [sys.executable, "-m", "motcua", "run", "--data-dir", str(data)]
        argv += ["--every", str(every), "--days-back", "2"]
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=os.environ | {"MOTCUA_WATCH_INTERVAL": "3600"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def until(self, pattern: str, timeout: float) -> tuple[float, re.Match]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            stamped = STAMP.match(line)
            assert stamped, f"not a timestamped status line: {line!r}"
            found = re.search(pattern, stamped.group(1))
            if found:
                return at, found
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s; saw:\n" + self.text())

    def rest(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        time.sleep(0.2)
        while not self.lines.empty():
            self.seen.append(self.lines.get()[1])
        return code

    def text(self) -> str:
        return "\n".join(self.seen)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def test_status_lines_in_a_pipe_then_ctrl_c_stops_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = Run(data)
    try:
        run.until(r"^Đang khởi động broker \(Tansu\)…$", 30)
        _, broker = run.until(r"^Broker sẵn sàng tại 127\.0\.0\.1:(\d+) \(", 60)
        run.until(r"^Đang khởi động ClickHouse \(dữ liệu ở .*\)…$", 10)
        _, clickhouse = run.until(r"^ClickHouse sẵn sàng tại 127\.0\.0\.1:(\d+) \(", 90)
        every = len(load_migrations())  # a fresh data directory: all of them
        run.until(rf"^Các bảng đã sẵn sàng \({every} bản nâng cấp mới\)\.$", 60)
        run.until(r"^Đang khởi động worker \(nhật ký: .*worker\.log\)…$", 10)
        run.until(r"^Đang gửi sự kiện của tỉnh mô phỏng từ \d\d/\d\d/\d{4}, nhanh gấp 3600", 10)
        # a summary every 2 s, from the start; the worker's first stores within a minute
        run.until(r"^Giờ mô phỏng \d\d/\d\d/\d{4} \d\d:\d\d · đã gửi \d+ sự kiện", 10)
        run.until(r"^Worker đã bắt đầu lưu sự kiện vào ClickHouse\.$", 120)
        _, summary = run.until(r"đã gửi (\d+) sự kiện · đã lưu (\d+) · tháng \d\d/\d{4}: ", 30)
        assert int(summary.group(1)) > 0 and int(summary.group(2)) > 0
        ports = int(broker.group(1)), int(clickhouse.group(1))
        assert all(_listening(p) for p in ports)

        sent = time.monotonic()
        run.process.send_signal(signal.SIGINT)
        said, _ = run.until(r"^Đang dừng… \(worker, ClickHouse, broker\)$", 5)
        assert said - sent < 2, "the stop was not announced at once"
        assert run.rest(timeout=60) == 0
    finally:
        run.kill()
    text = run.text()
    for name in ("worker", "ClickHouse", "broker"):
        assert re.search(rf"Đã dừng {name} \(\d+\.\d giây\)\.", text), text
    assert run.seen[-1].endswith("Đã dừng tất cả.")
    assert not any(_listening(p) for p in ports)
    assert not _processes_mentioning(str(data))


def test_ctrl_c_while_starting_leaves_nothing_running(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = Run(data)
    try:
        _, broker = run.until(r"^Broker sẵn sàng tại 127\.0\.0\.1:(\d+) \(", 60)
        run.until(r"^Đang khởi động ClickHouse", 10)
        run.process.send_signal(signal.SIGINT)  # while ClickHouse starts (or just after)
        run.until(r"^Đang dừng…", 5)
        assert run.rest(timeout=60) == 0
    finally:
        run.kill()
    text = run.text()
    assert "Đã dừng broker" in text and run.seen[-1].endswith("Đã dừng tất cả."), text
    assert not _listening(int(broker.group(1)))
    assert not _processes_mentioning(str(data)), "ClickHouse left running"
