"""Units across the 2025 reorganisation (METRICS.md §8): pure rules over the
versioned unit directory (`schemas.units`).

Decisions (the spec is silent on these):

- Instants are judged by their local calendar date (Asia/Ho_Chi_Minh), as
  the directory's validity is by date; a naive datetime is local time.
- `successor_at` follows successors from the version that ended last before
  the instant; it stops (None) at a unit that ended with no successor, at a
  code the directory lacks, at a cycle, and for an instant before the unit
  existed (a mapping goes forward in time only).
- The area of a dossier received before 1 July 2025 is its district (the
  received event's district fields), whatever the directory says. After it:
  the directory's area of its commune (the version valid at receipt; a
  commune already merged by then is followed to its successor), else the
  directory's area of its agency (a commune's own dossier without a
  commune_code, or a department given an area), else the received event's
  district fields: ingest and the simulator fill them from the unit's area,
  so an incomplete directory still groups a dossier where its source put it.
- A dossier's commune: its commune_code; else, for a commune-level agency,
  that agency (a commune's own dossiers, as old sources send them); else
  none: it is shown under `NO_COMMUNE` (a department's dossier of no commune).
- "As today's units" maps agency and commune through successors to the unit
  valid at the chosen instant; a unit that cannot be mapped stays as
  recorded (so no dossier ever drops out of a report). Its area is the
  mapped commune's (else agency's) area at that instant, else as recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, Self, TypeVar

from schemas.events import LOCAL_TZ, DossierEvent, Level
from schemas.units import UnitDirectory, UnitRecord

REFORM_DATE = date(2025, 7, 1)  # two-tier local government from this day
NO_COMMUNE = ("", "Không thuộc xã/phường")
NO_AREA = ("", "Chưa xác định khu vực")

Unit = tuple[str, str]  # (code, name), as a report row names a unit


def local_day(when: datetime | date) -> date:
    """The local calendar date of an instant (a date stays as it is)."""
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=LOCAL_TZ)).astimezone(LOCAL_TZ).date()
    return when


def unit_as_of(directory: UnitDirectory, code: str, when: datetime | date) -> UnitRecord | None:
    """The version of unit `code` valid at `when`, or None (not yet, no longer, unknown)."""
    day = local_day(when)
    return next((r for r in directory.versions(code) if r.valid_on(day)), None)


def successor_at(directory: UnitDirectory, code: str, when: datetime | date) -> UnitRecord | None:
    """The unit that `code` became by `when`: itself if still valid, else its
    successor's, following the chain (cycle-safe); None when the chain breaks."""
    day = local_day(when)
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        seen.add(current)
        valid = unit_as_of(directory, current, day)
        if valid is not None:
            return valid
        ended = [r for r in directory.versions(current) if r.valid_to and r.valid_to <= day]
        current = ended[-1].successor if ended else None
    return None


def is_two_tier(when: datetime | date) -> bool:
    """From 1 July 2025 provinces have departments and communes, no districts."""
    return local_day(when) >= REFORM_DATE


def _area(record: UnitRecord | None) -> Unit | None:
    return None if record is None or record.area is None else (record.area.code, record.area.name)


def _valid_or_successor(
    directory: UnitDirectory, code: str | None, when: datetime | date
) -> UnitRecord | None:
    if not code:
        return None
    return unit_as_of(directory, code, when) or successor_at(directory, code, when)


def commune_of(received: DossierEvent) -> Unit:
    """The commune a dossier belongs to, as recorded (see the module's decisions)."""
    if received.commune_code:
        return received.commune_code, received.commune_name or received.commune_code
    if received.level is Level.COMMUNE and received.agency_code:
        return received.agency_code, received.agency_name or received.agency_code
    return NO_COMMUNE


def recorded_area(received: DossierEvent) -> Unit:
    """What the source itself put: the received event's district fields."""
    if received.district_code:
        return received.district_code, received.district_name or received.district_code
    return NO_AREA


def area_of(received: DossierEvent, directory: UnitDirectory | None = None) -> Unit:
    """The dossier's area: its district before 1 July 2025, after it the
    directory's area of its commune (fallbacks in the module's decisions)."""
    if directory is None or not is_two_tier(received.at):
        return recorded_area(received)
    commune = commune_of(received)[0]
    for code in (commune, received.agency_code):
        area = _area(_valid_or_successor(directory, code, received.at))
        if area is not None:
            return area
    return recorded_area(received)


@dataclass(frozen=True, slots=True)
class UnitView:
    """How a report names a dossier's agency, commune and area.

    `UnitView()` or `as_recorded(directory)`: the units of the time.
    `as_units_at(directory, when)`: every dossier mapped through successors to
    the units valid at `when` (the period's end, or a trend's last month), so
    that a merged unit's dossiers add up under the unit that took over.
    """

    directory: UnitDirectory | None = None
    at: datetime | date | None = None  # None: as recorded

    @classmethod
    def as_recorded(cls, directory: UnitDirectory | None = None) -> UnitView:
        return cls(directory)

    @classmethod
    def as_units_at(cls, directory: UnitDirectory, when: datetime | date) -> UnitView:
        return cls(directory, when)

    def _today(self, code: str) -> UnitRecord | None:
        if self.directory is None or self.at is None or not code:
            return None
        return successor_at(self.directory, code, self.at)

    def agency(self, received: DossierEvent) -> Unit:
        recorded = (received.agency_code or "", received.agency_name or "")
        today = self._today(recorded[0])
        return recorded if today is None else (today.code, today.name)

    def commune(self, received: DossierEvent) -> Unit:
        recorded = commune_of(received)
        today = self._today(recorded[0])
        return recorded if today is None else (today.code, today.name)

    def area(self, received: DossierEvent) -> Unit:
        if self.directory is None or self.at is None:
            return area_of(received, self.directory)
        return self._today_area(commune_of(received)[0], received.agency_code or "") or area_of(
            received, self.directory
        )

    def _today_area(self, commune: str, agency: str) -> Unit | None:
        for code in (commune, agency):
            area = _area(self._today(code))
            if area is not None:
                return area
        return None

    def units(self, recorded: RecordedUnits) -> RecordedUnits:
        """A stored row's recorded agency, commune and area as this view names
        them (the same rule as `agency`, `commune` and `area` of an event; an
        area not mappable stays the recorded one, the district columns)."""
        if self.directory is None or self.at is None:
            return recorded
        agency, commune = recorded.agency, recorded.commune
        today_agency, today_commune = self._today(agency[0]), self._today(commune[0])
        return RecordedUnits(
            agency if today_agency is None else (today_agency.code, today_agency.name),
            commune if today_commune is None else (today_commune.code, today_commune.name),
            self._today_area(commune[0], agency[0]) or recorded.area,
            recorded.latest,
        )


AS_RECORDED = UnitView()


@dataclass(frozen=True, slots=True)
class RecordedUnits:
    """The agency, commune and area a group of dossiers was recorded under
    (as a stored fact row names them: `commune_of`, `recorded_area`), and the
    group's latest receipt (a unit is named as on its latest receipt)."""

    agency: Unit
    commune: Unit
    area: Unit
    latest: datetime | None = None


class _Row(Protocol):
    unit_code: str
    unit_name: str

    def add(self, other: Self) -> None: ...


R = TypeVar("R", bound=_Row)


def regroup(rows: Iterable[tuple[Unit, R, datetime | None]]) -> list[R]:
    """Rows renamed to their new unit, the rows of one unit summed into the
    first (`add`) and named as the row of the latest receipt (else the first),
    ordered by unit code as a period report is."""
    out: dict[str, R] = {}
    named_at: dict[str, datetime] = {}
    for (code, name), row, latest in rows:
        if code in out:
            out[code].add(row)
        else:
            out[code] = row
            row.unit_code, row.unit_name = code, name
        if latest is not None and (code not in named_at or latest > named_at[code]):
            out[code].unit_name, named_at[code] = name, latest
    return [out[code] for code in sorted(out)]


def rows_as_units(
    rows: Iterable[tuple[RecordedUnits, R]],
    view: UnitView,
    pick: Callable[[RecordedUnits], Unit],
) -> list[R]:
    """Report rows counted per recorded (agency, commune, area) → the rows of
    the units `view` names (today's units: counts of merged units summed under
    the unit that took over), `pick` choosing agency, commune or area."""
    return regroup((pick(view.units(recorded)), row, recorded.latest) for recorded, row in rows)
