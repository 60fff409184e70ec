"""Where report rows come from: event files (no server) or the pipeline's ClickHouse.

Both answer the same question — the II.06a rows of a period by a unit kind,
optionally for one agency — so every report, export and reconciliation works
on either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from reports.alerts import facts_of_events
from reports.offline import Rejected, read_events, states_at
from schemas.events import DossierEvent
from streams.clickhouse.findings import read_findings
from streams.clickhouse.queries import report_rows
from streams.clickhouse.sql import DATABASE, Engine
from streams.rules.calendar import WorkingCalendar
from streams.rules.integrity import Finding
from streams.rules.lifecycle import DossierState
from streams.rules.period import PeriodRow, UnitKind, period_report


class ReportSource(Protocol):
    def rows(
        self, start: datetime, end: datetime, by: UnitKind, agency: str | None = None
    ) -> list[PeriodRow]: ...

    def findings(
        self, start: datetime, end: datetime, agency: str | None = None
    ) -> list[Finding]: ...

    def agencies(self) -> dict[str, str]:
        """code → name of every agency the source knows (any time)."""
        ...


class FileSource:
    """Events read once from JSON-lines files; states folded once per period end."""

    def __init__(
        self,
        paths: Iterable[Path],
        calendar: WorkingCalendar,
        province: tuple[str, str],
        on_reject: Callable[[Rejected], None],
        events: list[DossierEvent] | None = None,  # already read (then `paths` is not read)
    ) -> None:
        self.events: list[DossierEvent] = (
            events if events is not None else list(read_events(paths, on_reject))
        )
        self.calendar = calendar
        self.province = province
        self._states: dict[datetime, list[DossierState]] = {}

    def rows(
        self, start: datetime, end: datetime, by: UnitKind, agency: str | None = None
    ) -> list[PeriodRow]:
        if end not in self._states:
            self._states[end] = states_at(self.events, end, self.calendar)
        states = [s for s in self._states[end] if agency in (None, s.received.agency_code)]
        return period_report(states, start, end, by, self.calendar, self.province)

    def findings(self, start: datetime, end: datetime, agency: str | None = None) -> list[Finding]:
        """Integrity findings observed in [start, end) and by now (METRICS.md §9:
        a dossier still open is found late at its due only once that has passed)."""
        end = min(end, datetime.now(UTC))
        found = [f for facts in facts_of_events(self.events, self.calendar) for f in facts.findings]
        return sorted(
            (f for f in found if start <= f.observed_at < end and agency in (None, f.agency_code)),
            key=lambda f: (f.observed_at, f.dossier_id, f.kind),
        )

    def agencies(self) -> dict[str, str]:
        return {
            e.agency_code: e.agency_name or ""
            for e in self.events
            if e.type == "received" and e.agency_code
        }

    def span(self) -> tuple[datetime, datetime] | None:
        """The first and the last event's time, or None without events."""
        if not self.events:
            return None
        times = [e.at for e in self.events]
        return min(times), max(times)


class ClickHouseSource:
    def __init__(
        self, engine: Engine, calendar: WorkingCalendar, province: tuple[str, str]
    ) -> None:
        self.engine = engine
        self.calendar = calendar
        self.province = province

    def rows(
        self, start: datetime, end: datetime, by: UnitKind, agency: str | None = None
    ) -> list[PeriodRow]:
        return report_rows(self.engine, start, end, by, self.calendar, self.province, agency)

    def findings(self, start: datetime, end: datetime, agency: str | None = None) -> list[Finding]:
        return read_findings(self.engine, start, min(end, datetime.now(UTC)), agency)

    def agencies(self) -> dict[str, str]:
        sql = f"SELECT code, argMax(name, seen_at) FROM {DATABASE}.units WHERE kind = 'agency'"
        return dict(self.engine.rows(sql + " GROUP BY code"))
