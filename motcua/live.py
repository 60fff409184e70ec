"""`motcua run`: the whole system on one machine, fed by the simulated province.

Starts the local broker and ClickHouse (project-local data under .data/),
applies the migrations, starts a worker process, publishes the simulated
province's events as its accelerated clock passes, and shows the month's
per-agency rates until Ctrl-C (or SIGTERM), which stops everything.

It says what it is doing wherever its output goes. On a terminal: rich's
live view, first the startup steps, then the month's table fitted to the
terminal (the caption with the simulated time, the events sent and the
Ctrl-C hint always on screen; units that do not fit are counted). Anywhere
else (a pipe, a log, a service manager): plain timestamped lines, the
startup steps and then a summary every `summary_every` seconds. A stop
is announced at once ("Đang dừng…"), and every service started is
stopped, whenever the stop comes, startup included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ingest.replay import acknowledged
from ingest.simulator.knobs import Knobs
from ingest.simulator.pacing import paced
from ingest.simulator.simulation import Format, Simulation
from reports.tables import TableSpec, column_widths, fit_columns, total_row
from schemas.events import event_json
from schemas.settings import Settings
from streams.clickhouse.engines import DriverEngine
from streams.clickhouse.migrations import migrate
from streams.clickhouse.queries import report_rows, stored_positions
from streams.kafka.clients import make_producer
from streams.rules.calendar import working_calendar
from streams.rules.period import PeriodRow, UnitKind
from streams.services import Broker, ClickHouseServer, interrupts_deferred

Say = Callable[[str], None]


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
    feed_error: BaseException | None = None


class _Stopped(Exception):
    """The feed was told to stop while it waited for the simulated clock."""


def _feed(sim: Simulation, clock: SimulatedClock, run: LocalRun) -> None:
    def nap(seconds: float) -> None:
        if run.stop.wait(seconds):
            raise _Stopped

    producer = make_producer(run.settings)
    try:
        for item in paced(sim.stream(Format.EVENTS), lambda item: item.at, clock, sleep=nap):
            if run.stop.is_set():
                break
            sent = producer.send(
                run.settings.events_topic,
                key=item.dossier_id.encode(),
                value=event_json(item.payload),
            )
            sent.add_callback(partial(acknowledged, run.acknowledged))
            run.published += 1
        producer.flush()
    except _Stopped:
        producer.flush()
    except Exception as exc:  # shown in the view and the status lines
        run.feed_error = exc
    finally:
        producer.close()


# -- the view ------------------------------------------------------------------------------

VIEW_COLUMNS = (
    "unit_name",
    "received_total",
    "finished_total",
    "finished_late",
    "in_progress_overdue",
    "on_time_rate",
    "progress_ratio_766",
    "online_rate",
)
VIEW_LABELS = {
    "unit_name": "Đơn vị",
    "received_total": "Tiếp nhận",
    "finished_total": "Đã giải quyết",
    "finished_late": "Quá hạn",
    "in_progress_overdue": "Đang xử lý quá hạn",
    "on_time_rate": "Tỷ lệ đúng hạn",
    "progress_ratio_766": "Tiến độ 766",
    "online_rate": "Tỷ lệ trực tuyến",
}
VIEW_DROP_ORDER = ("online_rate", "in_progress_overdue", "finished_late")


def _percent(value: object) -> str:
    return "—" if value is None else f"{value}%"


def _view_records(rows: list[PeriodRow]) -> list[dict[str, object]]:
    worst_first = sorted(rows, key=lambda r: (r.on_time_rate is None, r.on_time_rate or 0))
    return [_view_record(r) for r in worst_first]


def _view_record(r: PeriodRow) -> dict[str, object]:
    record: dict[str, object] = r.as_record()
    for rate in ("on_time_rate", "progress_ratio_766", "online_rate"):
        record[rate] = _percent(record[rate])
    return record


def caption(now: datetime, published: int, stored: int | None, settings: Settings) -> str:
    local = working_calendar(settings).local(now)
    saved = "" if stored is None else f" · đã lưu {stored}"
    return (
        f"Giờ mô phỏng: {local:%d/%m/%Y %H:%M} · đã gửi {published} sự kiện{saved} · Ctrl-C để dừng"
    )


def _view(
    rows: list[PeriodRow],
    now: datetime,
    published: int,
    settings: Settings,
    width: int = 100,
    height: int = 40,
    stored: int | None = None,
    note: str = "",
) -> RenderableType:
    """The month's table, worst on-time rate first, with its caption, in at most
    `height` lines of `width` cells: the units that do not fit are counted in
    a last row ("… và N đơn vị khác"); the caption is always the last line."""
    local = working_calendar(settings).local(now)
    title = f"Tình hình giải quyết hồ sơ tháng {local:%m/%Y} (theo cơ quan)"
    records = _view_records(rows)
    total = _view_record(total_row(rows)) if rows else None
    bottom = [Text(caption(now, published, stored, settings), style="dim")]
    if note:
        bottom.insert(0, Text(note, style="yellow"))
    if not rows:
        waiting = Text("Chưa có hồ sơ nào của tháng này được lưu (worker đang xử lý…).")
        return Group(Text(title, style="italic"), waiting, *bottom)
    spec = TableSpec(title, VIEW_COLUMNS, VIEW_LABELS, records, total, VIEW_DROP_ORDER)
    columns = fit_columns(spec, width)
    widths = column_widths(spec, columns, width)
    console = Console(width=width, height=height, force_terminal=True, color_system=None)
    room = height - sum(len(console.render_lines(b, pad=False)) for b in bottom)

    def lines(shown: int) -> tuple[Table, int]:
        table = _table(spec, columns, widths, shown)
        return table, len(console.render_lines(table, pad=False))

    shown = len(records)
    table, used = lines(shown)
    if used > room:  # one line per unit (names do not wrap), plus the "… và" row
        shown = max(0, shown - (used - room) - 1)
        table, used = lines(shown)
        while used > room and shown > 0:
            shown -= 1
            table, used = lines(shown)
    return Group(table, *bottom)


def _table(spec: TableSpec, columns: list[str], widths: dict[str, int], shown: int) -> Table:
    table = Table(title=spec.title, header_style="bold", box=box.SIMPLE_HEAD, show_edge=False)
    for name in columns:
        justify = "left" if name == "unit_name" else "right"
        # a unit on one line (ellipsized), so the fit counts lines; headers may wrap
        table.add_column(
            spec.labels[name], justify=justify, width=widths[name], no_wrap=name == "unit_name"
        )
    for record in spec.records[:shown]:
        table.add_row(*(str(record[c]) for c in columns))
    hidden = len(spec.records) - shown
    if hidden:
        more = [f"… và {hidden} đơn vị khác"] + [""] * (len(columns) - 1)
        table.add_row(*more, style="dim")
    if spec.total is not None:
        table.add_row(*(str(spec.total[c]) for c in columns), style="bold")
    return table


# -- status: a live list on a terminal, timestamped lines elsewhere ------------------------


def _stamp() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")


class PlainStatus:
    """Timestamped lines for a pipe, a log file or a service manager."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def say(self, text: str) -> None:
        print(f"{_stamp()} {text}", file=self.out, flush=True)


class LiveStatus:
    """The startup steps on a terminal: done ones ticked, the current one spinning."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.current: str | None = None
        self.began = time.monotonic()

    def say(self, text: str) -> None:
        if self.current is not None:
            self.done.append(self.current)
        self.current = text

    def renderable(self) -> RenderableType:
        lines: list[RenderableType] = [Text(f"✓ {line}", style="green") for line in self.done]
        if self.current is not None:
            lines.append(Spinner("dots", Text(self.current)))
        elapsed = time.monotonic() - self.began
        lines.append(Text(f"Đang khởi động ({elapsed:.0f} giây) · Ctrl-C để dừng", style="dim"))
        return Group(*lines)


class _StopShield:
    """Once a stop begins: say so at once, and let a second Ctrl-C (or a SIGTERM)
    not cut the stop short, which would leave services running."""

    def __init__(self, say: Say, before: Callable[[], None]) -> None:
        self.say, self.before = say, before
        self.saved: list[tuple[int, object]] = []

    def engage(self) -> None:
        self.before()
        self.say("Đang dừng… (worker, ClickHouse, broker)")
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.saved.append((signum, signal.getsignal(signum)))
                signal.signal(signum, lambda *_: self.say("Đang dừng, xin chờ…"))

    def release(self) -> None:
        for signum, handler in self.saved:
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self.saved.clear()


# -- the run --------------------------------------------------------------------------------


def _timed(start: Callable[[], object]) -> float:
    began = time.monotonic()
    start()
    return time.monotonic() - began


@contextmanager
def local_run(
    settings: Settings,
    data_dir: Path,
    speed: float,
    days_back: int,
    say: Say = lambda text: None,
    before_stop: Callable[[], None] = lambda: None,
) -> Iterator[LocalRun]:
    """Broker, ClickHouse (data kept in `data_dir`), a worker and the simulated
    province's feed; all stopped on exit, also when interrupted while starting
    (each service's stop is registered before it starts). `say` hears each
    step (Vietnamese, for people); `before_stop` runs first when stopping."""
    shield = _StopShield(say, before_stop)
    try:
        with ExitStack() as stack:
            stack.callback(say, "Đã dừng tất cả.")  # last: after every stop below
            try:
                yield from _start(stack, settings, data_dir, speed, days_back, say)
            finally:
                shield.engage()
    finally:
        shield.release()


def _start(
    stack: ExitStack, settings: Settings, data_dir: Path, speed: float, days_back: int, say: Say
) -> Iterator[LocalRun]:
    broker = Broker(data_dir / "broker")
    stack.callback(_stopping, say, "broker", broker.stop)
    say("Đang khởi động broker (Tansu)…")
    took = _timed(broker.start)
    say(f"Broker sẵn sàng tại {broker.bootstrap} ({took:.1f} giây).")
    clickhouse = ClickHouseServer(data_dir / "clickhouse")
    stack.callback(_stopping, say, "ClickHouse", clickhouse.stop)
    say(f"Đang khởi động ClickHouse (dữ liệu ở {data_dir / 'clickhouse'})…")
    took = _timed(clickhouse.start)
    say(f"ClickHouse sẵn sàng tại {clickhouse.host}:{clickhouse.tcp_port} ({took:.1f} giây).")
    update = {"bootstrap_servers": broker.bootstrap} | clickhouse.settings("writer", "reader")
    settings = settings.model_copy(update=update)
    # this process owns the local server: it migrates as the administrator,
    # and the worker gets the writer's credentials only (as in production)
    engine = clickhouse.engine()
    stack.callback(engine.close)
    say("Đang tạo/nâng cấp các bảng ClickHouse…")
    applied = migrate(engine)
    say(f"Các bảng đã sẵn sàng ({len(applied)} bản nâng cấp mới).")
    env = {
        # a first group join takes about half the session timeout: 5 s rather than 30 s
        "MOTCUA_BROKER_SESSION_TIMEOUT": "10",
        "MOTCUA_BROKER_REBALANCE_TIMEOUT": "10",
    }
    env |= os.environ | {
        "MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "MOTCUA_DATA_DIR": str(data_dir / "worker"),
        "MOTCUA_WORKER_MIGRATE": "false",
    }
    env |= clickhouse.env("writer", "reader")
    log_path = data_dir / "worker.log"
    log = stack.enter_context(log_path.open("ab"))
    say(f"Đang khởi động worker (nhật ký: {log_path})…")
    with interrupts_deferred():  # recorded for the stop before any Ctrl-C acts
        worker = subprocess.Popen(
            [sys.executable, "-m", "motcua", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only: we stop it first, in order
        )
        stack.callback(_stopping, say, "worker", partial(_stop_process, worker))
    start = datetime.now(UTC) - timedelta(days=days_back)
    clock = SimulatedClock(start, speed)
    first = working_calendar(settings).local(start).date()
    sim = Simulation(
        first, first + timedelta(days=days_back + 60), Knobs(), working_calendar(settings)
    )
    run = LocalRun(settings, engine, clock)
    feeder = threading.Thread(target=_feed, args=(sim, clock, run), daemon=True)
    feeder.start()
    stack.callback(feeder.join, 5)
    stack.callback(run.stop.set)
    say(
        f"Đang gửi sự kiện của tỉnh mô phỏng từ {first:%d/%m/%Y}, "
        f"nhanh gấp {speed:g} lần thời gian thực."
    )
    yield run


def _stopping(say: Say, name: str, stop: Callable[[], None]) -> None:
    began = time.monotonic()
    stop()
    say(f"Đã dừng {name} ({time.monotonic() - began:.1f} giây).")


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def stored_count(run: LocalRun) -> int | None:
    """Events of this run the workers have stored (per partition, up to what this
    run's feed had acknowledged); None when ClickHouse does not answer."""
    try:
        positions = stored_positions(run.engine, run.settings.events_topic)
    except Exception:
        return None
    acked = dict(run.acknowledged)
    return sum(min(positions.get(p, (0, -1, ""))[1], o) + 1 for p, o in acked.items())


def _month_rows(run: LocalRun, now: datetime) -> list[PeriodRow] | None:
    """This month's rows so far; None when ClickHouse does not answer."""
    cal = working_calendar(run.settings)
    month = cal.local(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    try:
        return report_rows(run.engine, month, now, UnitKind.AGENCY, cal)
    except Exception:
        return None


def summary_line(run: LocalRun, now: datetime, rows: list[PeriodRow], stored: int | None) -> str:
    """One status line: the simulated time, the feed, and the month so far."""
    local = working_calendar(run.settings).local(now)
    line = f"Giờ mô phỏng {local:%d/%m/%Y %H:%M} · đã gửi {run.published} sự kiện"
    line += "" if stored is None else f" · đã lưu {stored}"
    if rows:
        t = total_row(rows)
        line += (
            f" · tháng {local:%m/%Y}: {len(rows)} đơn vị, tiếp nhận {t.received_total}, "
            f"đã giải quyết {t.finished_total}, quá hạn {t.finished_late}, "
            f"đúng hạn {_percent(t.on_time_rate)}"
        )
    if run.feed_error is not None:
        line += f" · LỖI khi gửi sự kiện: {run.feed_error!r}"
    return line


def run_live(
    settings: Settings,
    data_dir: Path,
    speed: float,
    days_back: int,
    summary_every: float = 10.0,
    out: TextIO | None = None,
) -> None:
    """`motcua run` until Ctrl-C or SIGTERM: the live view on a terminal, status
    lines anywhere else. Both stops are clean (and return normally)."""
    console = Console(file=out)
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a service manager's stop: the same clean stop

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if console.is_terminal:
            _on_terminal(console, settings, data_dir, speed, days_back)
        else:
            _plain(console.file, settings, data_dir, speed, days_back, summary_every)
    except KeyboardInterrupt:
        pass  # everything started was stopped, and said so
    finally:
        signal.signal(signal.SIGTERM, previous)


def _plain(
    out: TextIO, settings: Settings, data_dir: Path, speed: float, days_back: int, every: float
) -> None:
    status = PlainStatus(out)
    with local_run(settings, data_dir, speed, days_back, status.say) as run:
        storing = False
        while True:
            time.sleep(every)
            now = run.clock.now()
            stored = stored_count(run)
            if stored and not storing:
                status.say("Worker đã bắt đầu lưu sự kiện vào ClickHouse.")
                storing = True
            status.say(summary_line(run, now, _month_rows(run, now) or [], stored))


def _on_terminal(
    console: Console, settings: Settings, data_dir: Path, speed: float, days_back: int
) -> None:
    status = LiveStatus()
    shown: list[RenderableType] = []  # the table, once running

    def current() -> RenderableType:
        return shown[-1] if shown else status.renderable()

    live = Live(
        console=console,
        get_renderable=current,
        refresh_per_second=4,
        vertical_overflow="crop",
        redirect_stderr=False,
    )

    def say(text: str) -> None:
        if live.is_started:
            status.say(text)
        else:  # stopping: plain lines under the last view
            console.print(Text(text), soft_wrap=True)

    with live, local_run(settings, data_dir, speed, days_back, say, before_stop=live.stop) as run:
        rows: list[PeriodRow] = []
        while True:
            now = run.clock.now()
            fresh = _month_rows(run, now)
            rows = rows if fresh is None else fresh
            stored = stored_count(run)
            note = ""
            if fresh is None:
                note = "ClickHouse không trả lời; đang hiển thị số liệu cũ."
            elif run.published and not stored:
                note = "Worker đang tham gia nhóm tiêu thụ; sự kiện sẽ được lưu sau vài giây…"
            if run.feed_error is not None:
                note = f"Lỗi khi gửi sự kiện: {run.feed_error!r}"
            width, height = console.size
            view = _view(rows, now, run.published, run.settings, width, height - 1, stored, note)
            shown[:] = [view]
            live.refresh()
            time.sleep(1.0)
