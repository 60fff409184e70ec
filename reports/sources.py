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
from reports.scorecard import forecast_window, month_forecast
from schemas.catalogue import ProcedureCatalogue
from schemas.events import DossierEvent
from schemas.scoring import DEFAULT_SCORING, ScoringTable
from streams.clickhouse.findings import read_findings
from streams.clickhouse.queries import recorded_units_rows, report_rows
from streams.clickhouse.scorecard import CatalogueSql, active_payloads, read_scorecard
from streams.clickhouse.sql import DATABASE, Engine
from streams.rules.calendar import WorkingCalendar
from streams.rules.forecast import Forecast
from streams.rules.integrity import Finding
from streams.rules.lifecycle import DossierState
from streams.rules.period import PeriodRow, UnitKind, period_report
from streams.rules.scorecard import PortalFigures, UnitScorecard, scorecard
from streams.rules.units import AS_RECORDED, RecordedUnits, Unit, UnitView, rows_as_units

# which recorded unit "as today's units" maps, per report kind (the others
# name no unit of the directory and stay as recorded)
TODAY_PICK: dict[UnitKind, Callable[[RecordedUnits], Unit]] = {
    UnitKind.AGENCY: lambda u: u.agency,
    UnitKind.COMMUNE: lambda u: u.commune,
    UnitKind.AREA: lambda u: u.area,
}


class ReportSource(Protocol):
    def rows(
        self,
        start: datetime,
        end: datetime,
        by: UnitKind,
        agency: str | None = None,
        units: UnitView = AS_RECORDED,
    ) -> list[PeriodRow]:
        """II.06a rows; `units`: as recorded, or as the units valid at an instant
        (METRICS.md §8; changes only the agency, commune and area views)."""
        ...

    def findings(
        self, start: datetime, end: datetime, agency: str | None = None
    ) -> list[Finding]: ...

    def agencies(self) -> dict[str, str]:
        """code → name of every agency the source knows (any time)."""
        ...

    def scorecard(
        self,
        start: datetime,
        end: datetime,
        by: UnitKind,
        catalogue: ProcedureCatalogue | None = None,
        table: ScoringTable = DEFAULT_SCORING,
        portal: PortalFigures | None = None,
    ) -> list[UnitScorecard]:
        """The 766 scorecards of [start, end) (METRICS.md §7), one per unit."""
        ...

    def forecast(
        self, now: datetime, by: UnitKind, table: ScoringTable = DEFAULT_SCORING
    ) -> Forecast:
        """The 2.1 forecast of the month of `now` and its at-risk dossiers (§7)."""
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

    def _at(self, end: datetime) -> list[DossierState]:
        if end not in self._states:
            self._states[end] = states_at(self.events, end, self.calendar)
        return self._states[end]

    def rows(
        self,
        start: datetime,
        end: datetime,
        by: UnitKind,
        agency: str | None = None,
        units: UnitView = AS_RECORDED,
    ) -> list[PeriodRow]:
        states = [s for s in self._at(end) if agency in (None, s.received.agency_code)]
        return period_report(states, start, end, by, self.calendar, self.province, units)

    def scorecard(
        self,
        start: datetime,
        end: datetime,
        by: UnitKind,
        catalogue: ProcedureCatalogue | None = None,
        table: ScoringTable = DEFAULT_SCORING,
        portal: PortalFigures | None = None,
    ) -> list[UnitScorecard]:
        states = self._at(end)
        rows = period_report(states, start, end, by, self.calendar, self.province)
        return scorecard(
            states,
            rows,
            start,
            end,
            by,
            table=table,
            catalogue=catalogue,
            portal=portal,
            province=self.province,
        )

    def forecast(
        self, now: datetime, by: UnitKind, table: ScoringTable = DEFAULT_SCORING
    ) -> Forecast:
        return month_forecast(
            self._at(now), now, by, self.calendar, table=table, province=self.province
        )

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
        self,
        start: datetime,
        end: datetime,
        by: UnitKind,
        agency: str | None = None,
        units: UnitView = AS_RECORDED,
    ) -> list[PeriodRow]:
        if units.at is None or by not in TODAY_PICK:
            return report_rows(self.engine, start, end, by, self.calendar, self.province, agency)
        recorded = recorded_units_rows(self.engine, start, end, self.calendar, agency)
        return rows_as_units(recorded, units, TODAY_PICK[by])

    def findings(self, start: datetime, end: datetime, agency: str | None = None) -> list[Finding]:
        return read_findings(self.engine, start, min(end, datetime.now(UTC)), agency)

    def agencies(self) -> dict[str, str]:
        sql = f"SELECT code, argMax(name, seen_at) FROM {DATABASE}.units WHERE kind = 'agency'"
        return dict(self.engine.rows(sql + " GROUP BY code"))

    def scorecard(
        self,
        start: datetime,
        end: datetime,
        by: UnitKind,
        catalogue: ProcedureCatalogue | CatalogueSql | None = None,
        table: ScoringTable = DEFAULT_SCORING,
        portal: PortalFigures | None = None,
    ) -> list[UnitScorecard]:
        return read_scorecard(
            self.engine,
            start,
            end,
            by,
            self.calendar,
            table=table,
            catalogue=catalogue,
            portal=portal,
            province=self.province,
        )

    def forecast(
        self, now: datetime, by: UnitKind, table: ScoringTable = DEFAULT_SCORING
    ) -> Forecast:
        """Folded from the stored events of the dossiers active in the month and the
        last 90 days, as from a file (exact at any instant, `--at` included)."""
        start, end = forecast_window(now, self.calendar)
        events = [
            DossierEvent.model_validate_json(p) for p in active_payloads(self.engine, start, end)
        ]
        states = states_at(events, now, self.calendar)
        return month_forecast(states, now, by, self.calendar, table=table, province=self.province)
