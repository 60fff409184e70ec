"""`motcua simulate`: the wiring behind the command (options → outputs, with progress)."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.simulator.knobs import Knobs
from ingest.simulator.outputs import (
    EventProducer,
    JsonLines,
    RecordProducer,
    TruthWriter,
    write_units,
)
from ingest.simulator.pacing import paced
from ingest.simulator.simulation import Emitted, Format, Simulation
from motcua.root import record_publisher
from schemas.settings import Settings
from streams.rules.calendar import working_calendar


@dataclass(frozen=True)
class Request:
    start: date
    end: date
    knobs: Knobs
    fmt: Format
    output: Path | None
    truth: Path | None
    totals: Path | None
    units: Path | None
    live: bool
    speed: float
    publish: bool
    state: Path


def _sinks(req: Request, sim: Simulation, settings: Settings, stack: ExitStack) -> list[Any]:
    sinks: list[Any] = []
    if req.output is not None or not req.publish:
        sinks.append(stack.enter_context(JsonLines(req.output)))
    if req.publish and req.fmt is Format.EVENTS:
        from streams.kafka.clients import make_producer

        producer = make_producer(settings)
        stack.callback(producer.close)
        sinks.append(EventProducer(settings, producer))
    elif req.publish:
        directory = sim.province.unit_history()
        publisher = record_publisher(settings, req.state, directory, "simulate")
        sinks.append(RecordProducer(stack.enter_context(publisher), req.live))
    return sinks


def _clock(sim: Simulation, speed: float, console: Console) -> Any:
    from motcua.live import SimulatedClock

    if sim.start_at > datetime.now(UTC):
        console.print("[yellow]Cửa sổ mô phỏng ở tương lai: đồng hồ chờ đến giờ thực.[/yellow]")
    return SimulatedClock(sim.start_at, speed)


def run(req: Request, console: Console) -> None:
    settings = Settings()
    sim = Simulation(req.start, req.end, req.knobs, working_calendar(settings))
    if req.units is not None:
        write_units(req.units, sim)
    truth = TruthWriter(sim, req.truth, settings.province)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[dossiers]} hồ sơ · {task.fields[items]} {task.fields[noun]}"),
        TimeElapsedColumn(),
    )
    noun = "sự kiện" if req.fmt is Format.EVENTS else "bản ghi đồng bộ"
    emitted = 0
    with ExitStack() as stack:
        sinks = _sinks(req, sim, settings, stack)
        progress = stack.enter_context(
            Progress(*columns, console=console, disable=not console.is_terminal)
        )
        task = progress.add_task("Mô phỏng", total=len(sim.days()), dossiers=0, items=0, noun=noun)

        def day_done(day: date) -> None:
            progress.update(task, advance=1, dossiers=truth.dossiers, items=emitted)

        items = sim.stream(req.fmt, on_item=truth, on_day=day_done)
        if req.live:
            items = paced(items, _at, _clock(sim, req.speed, console))
        for item in items:
            for sink in sinks:
                sink.write(item)
            emitted += 1
            if req.live:
                progress.update(task, description=f"{item.at:%Y-%m-%d %H:%M}", items=emitted)
        for sink in sinks:
            if hasattr(sink, "confirm"):
                sink.confirm()
    truth.close(req.totals)
    console.print(
        f"Đã mô phỏng {truth.dossiers} hồ sơ ({truth.refused} bị từ chối tiếp nhận), "
        f"{emitted} {noun}, từ {req.start} đến trước {req.end}.",
        soft_wrap=True,  # one line in a log
    )


def _at(item: Emitted) -> datetime:
    return item.at
