"""The offline period report: canonical events from JSON-lines files → II.06a rows.

No server involved; an analyst with an export file gets the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingest.lines import numbered_lines
from schemas.events import DossierEvent, InvalidEvent, parse_event
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import DossierState, dossier_state


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input line that was not accepted, and why."""

    path: str
    line: int
    reason: str


def read_events(
    paths: Iterable[Path], on_reject: Callable[[Rejected], None]
) -> Iterator[DossierEvent]:
    """Valid, scrubbed events from JSON-lines files; blank lines are skipped."""
    for path, number, raw in numbered_lines(paths):
        try:
            yield parse_event(raw)
        except InvalidEvent as exc:
            on_reject(Rejected(str(path), number, exc.reason))


def states_at(
    events: Iterable[DossierEvent], as_of: datetime, calendar: WorkingCalendar
) -> list[DossierState]:
    """Every dossier's state just before `as_of`."""
    by_dossier: dict[str, list[DossierEvent]] = defaultdict(list)
    for event in events:
        by_dossier[event.dossier_id].append(event)
    states = (dossier_state(history, as_of, calendar) for history in by_dossier.values())
    return [s for s in states if s is not None]
