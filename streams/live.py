"""`motcua run`: the whole system on one machine, fed by the simulated province.

Starts the local broker and ClickHouse (project-local data under .data/),
applies the migrations, starts a worker process, publishes the simulated
province's events as its accelerated clock passes, and shows the month's
per-agency rates live until Ctrl-C, which stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ingest.simulator.knobs import Knobs
from ingest.simulator.pacing import paced
from ingest.simulator.simulation import Format, Simulation
from reports.period import PeriodRow, UnitKind
from schemas.settings import Settings
from streams.engines import DriverEngine
from streams.replay import acknowledged, make_producer
from streams.services import Broker, ClickHouseServer
from streams.store import migrate, report_rows


class SimulatedClock:
    """Runs `speed` times faster than the wall clock, never past it."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed, self.began = start, speed, time.monotonic()

    def now(self) -> datetime:
        simulated = self.start + timedelta(seconds=(time.monotonic() - self.began) * self.speed)
        return min(simulated, datetime.now(UTC))


@dataclass
class LocalRun:
    """A running local system: what `run_live` shows and tests look into."""

    settings: Settings  # pointing at this run's broker and ClickHouse
    engine: DriverEngine
    clock: SimulatedClock
    stop: threading.Event = field(default_factory=threading.Event)
    published: int = 0
    acknowledged: dict[int, int] = field(default_factory=dict)  # partition → highest offset


def _feed(sim: Simulation, clock: SimulatedClock, run: LocalRun) -> None:
    producer = make_producer(run.settings)
    try:
        for item in paced(sim.stream(Format.EVENTS), lambda item: item.at, clock):
            if run.stop.is_set():
                break
            sent = producer.send(
                run.settings.events_topic,
                key=item.dossier_id.encode(),
                value=item.payload.model_dump_json(exclude_none=True).encode(),
            )
            sent.add_callback(partial(acknowledged, run.acknowledged))
            run.published += 1
        producer.flush()
    finally:
        producer.close()


def _percent(value: object) -> str:
    return "—" if value is None else f"{value}%"


def _view(rows: list[PeriodRow], now: datetime, published: int, settings: Settings) -> Group:
    table = Table(title="Tình hình giải quyết hồ sơ tháng này (theo đơn vị)", header_style="bold")
    for header in (
        "Đơn vị",
        "Tiếp nhận",
        "Đã giải quyết",
        "Quá hạn",
        "Đang xử lý quá hạn",
        "Tỷ lệ đúng hạn",
        "Tiến độ 766",
        "Tỷ lệ trực tuyến",
    ):
        table.add_column(header, justify="left" if header == "Đơn vị" else "right")
    worst_first = sorted(rows, key=lambda r: (r.on_time_rate is None, r.on_time_rate or 0))
    for r in worst_first:
        table.add_row(
            r.unit_name,
            str(r.received_total),
            str(r.finished_total),
            str(r.finished_late),
            str(r.in_progress_overdue),
            _percent(r.on_time_rate),
            _percent(r.progress_ratio_766),
            _percent(r.online_rate),
        )
    local = settings.calendar.local(now)
    caption = Text(
        f"Giờ mô phỏng: {local:%d/%m/%Y %H:%M} · đã gửi {published} sự kiện · Ctrl-C để dừng",
        style="dim",
    )
    return Group(table, caption)


@contextmanager
def local_run(
    settings: Settings, data_dir: Path, speed: float, days_back: int
) -> Iterator[LocalRun]:
    """Broker, ClickHouse (data kept in `data_dir`), a worker and the simulated
    province's feed; all stopped on exit."""
    with ExitStack() as stack:
        broker = stack.enter_context(Broker(data_dir / "broker"))
        clickhouse = stack.enter_context(ClickHouseServer(data_dir / "clickhouse"))
        update = {"bootstrap_servers": broker.bootstrap} | clickhouse.settings("writer", "reader")
        settings = settings.model_copy(update=update)
        # this process owns the local server: it migrates as the administrator,
        # and the worker gets the writer's credentials only (as in production)
        engine = clickhouse.engine()
        migrate(engine)
        env = os.environ | {
            "MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "MOTCUA_DATA_DIR": str(data_dir / "worker"),
            "MOTCUA_WORKER_MIGRATE": "false",
        }
        env |= clickhouse.env("writer", "reader")
        log = (data_dir / "worker.log").open("ab")
        worker = subprocess.Popen(
            [sys.executable, "-m", "motcua", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop_process, worker)
        start = datetime.now(UTC) - timedelta(days=days_back)
        clock = SimulatedClock(start, speed)
        first = settings.calendar.local(start).date()
        sim = Simulation(first, first + timedelta(days=days_back + 60), Knobs(), settings.calendar)
        run = LocalRun(settings, engine, clock)
        feeder = threading.Thread(target=_feed, args=(sim, clock, run), daemon=True)
        feeder.start()
        stack.callback(feeder.join, 5)
        stack.callback(run.stop.set)
        yield run


def run_live(settings: Settings, data_dir: Path, speed: float, days_back: int) -> None:
    with local_run(settings, data_dir, speed, days_back) as run:
        try:
            with Live(refresh_per_second=1, screen=False) as live:
                while True:
                    now = run.clock.now()
                    month = run.settings.calendar.local(now).replace(
                        day=1, hour=0, minute=0, second=0, microsecond=0
                    )
                    cal = run.settings.calendar
                    rows = report_rows(run.engine, month, now, UnitKind.AGENCY, cal)
                    live.update(_view(rows, now, run.published, run.settings))
                    time.sleep(1.0)
        except KeyboardInterrupt:
            pass


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
