"""Where a simulation goes: JSON lines, the broker, the ground truth files.

Canonical events go to the events topic keyed by dossier_id; sync records
take the one path every sync record takes to the broker (`RecordPublisher`:
parse, scrub, convert against the last records, send, confirm, commit), each
with its own observation time.
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import orjson

from ingest.simulator.dossiers import Dossier, Refused
from ingest.simulator.simulation import Emitted, Simulation
from ingest.simulator.truth import Totals, judge, write_totals_csv
from schemas.events import DossierEvent
from schemas.units import directory_json

BATCH = 2000  # sends between delivery checks
CONFIRM_EVERY_S = 1.0  # live mode: confirm at least this often


def _create(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def line_of(item: Emitted) -> bytes:
    payload = item.payload
    if isinstance(payload, DossierEvent):
        return payload.model_dump_json(exclude_none=True).encode()
    return orjson.dumps(payload)


class JsonLines(AbstractContextManager["JsonLines"]):
    """JSON lines to a file, or to stdout without a path."""

    def __init__(self, path: Path | None) -> None:
        self.out: IO[bytes] = _create(path).open("wb") if path else sys.stdout.buffer

    def write(self, item: Emitted) -> None:
        self.out.write(line_of(item) + b"\n")

    def __exit__(self, *exc: object) -> None:
        if self.out is not sys.stdout.buffer:
            self.out.close()
        else:
            self.out.flush()


class EventProducer:
    """Canonical events to the events topic; delivery checked in batches."""

    def __init__(self, settings: Any, producer: Any) -> None:
        self.settings, self.producer = settings, producer
        self.pending: list[Any] = []

    def write(self, item: Emitted) -> None:
        key = item.dossier_id.encode()
        self.pending.append(
            self.producer.send(self.settings.events_topic, key=key, value=line_of(item))
        )
        if len(self.pending) >= BATCH:
            self.confirm()

    def confirm(self) -> None:
        self.producer.flush()
        for future in self.pending:
            future.get(timeout=30)  # raises if the broker refused it
        self.pending.clear()


class RecordProducer:
    """Sync records through `RecordPublisher`, confirmed in batches (and often when live)."""

    def __init__(self, publisher: Any, live: bool) -> None:
        self.publisher, self.live = publisher, live
        self.unconfirmed, self.last = 0, time.monotonic()

    def write(self, item: Emitted) -> None:
        self.publisher.submit(f"simulate:{item.dossier_id}", item.payload, item.at)
        self.unconfirmed += 1
        stale = self.live and time.monotonic() - self.last >= CONFIRM_EVERY_S
        if self.unconfirmed >= BATCH or stale:
            self.confirm()

    def confirm(self) -> None:
        self.publisher.confirm()
        self.unconfirmed, self.last = 0, time.monotonic()


class TruthWriter:
    """Each dossier's truth at the window's end (JSON lines) and the agencies' totals."""

    def __init__(self, sim: Simulation, path: Path | None, province: tuple[str, str]) -> None:
        self.sim = sim
        self.out = _create(path).open("wb") if path else None
        self.totals = Totals(sim.start_at, sim.end_at, sim.cal.day_length, "agency", province)
        self.dossiers = self.refused = 0

    def __call__(self, item: Dossier | Refused) -> None:
        if isinstance(item, Refused):
            self.refused += 1
            return
        truth = judge(item, self.sim.end_at)
        self.dossiers += 1
        self.totals.add(truth)
        if self.out is not None and truth is not None:
            self.out.write(orjson.dumps(truth.as_json()) + b"\n")

    def close(self, totals_path: Path | None) -> None:
        if self.out is not None:
            self.out.close()
        if totals_path is not None:
            with _create(totals_path).open("w", encoding="utf-8", newline="") as out:
                write_totals_csv(self.totals.rows(), out)


def history_path(units: Path) -> Path:
    """Where the versioned directory goes: beside the units file (`units-history.json`)."""
    return units.with_name(f"{units.stem}-history{units.suffix or '.json'}")


def write_units(path: Path, sim: Simulation) -> None:
    """The unit directory in the old shape, as `ingest.sync.read_unit_directory` reads it (every
    unit of either shape), and beside it the versioned directory with validity and
    successors (`schemas.units.parse_unit_directory` reads it; METRICS.md §8)."""
    _create(path).write_bytes(orjson.dumps(sim.province.directory(), option=orjson.OPT_INDENT_2))
    history_path(path).write_bytes(directory_json(sim.province.unit_history()))
