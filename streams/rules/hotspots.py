"""Late-dossier hotspots per field × district, area or commune (METRICS.md §5, §8).

Pure rules: counting a cell's dossiers over a rolling window, the province
baseline per field, the Wilson test, and a tracker that turns successive
evaluations into "opened" / "closed" records.

Decisions (the spec is silent on these):

- A cell is (field_code, district_code) of the dossier's `received` event;
  with `CellKind.AREA` or `CellKind.COMMUNE` (METRICS.md §8) the second code
  is the dossier's area or commune as `streams.rules.units.UnitView` names
  it (as recorded by default). Those cells' hotspot ids carry the kind, so
  they never collide with a district cell of the same code (an area is by
  default its former district, and keeps its code).
- "Finished in W" means the end moment lies in [window_start, as_of); its
  lateness is the final classification (§3), so a dossier that finished
  while waiting for supplement is judged at the request, as in the rates.
- "In progress at T" is the §3 standing just before T: WITHIN_DUE or
  OVERDUE (a dossier paused for payment is in progress). Dossiers waiting
  for supplement at T are *not* counted: the spec says "in progress", and
  the hotspot board's SQL (dashboards/hotspots.py, `cell_late_share`) leaves
  them out too, so the board and the alerts agree.
- The window is W calendar days (`timedelta(days=window_days)`) ending at T.
- The baseline is the field's plain late share over every district,
  the cell itself included (the province's ratio, not a Wilson bound); a
  field with no dossiers has no baseline and no hotspot.
- "Above baseline" is strict: lower bound > baseline.
- The live watch runs several kinds at once (`HotspotWatch`); every change
  says its `cell_kind`, and a kind's tracker is restored from its own
  records only (stored rows before migration 0012 are district cells).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from schemas.events import DossierEvent
from streams.rules.facts import DossierFacts, standing_at
from streams.rules.lifecycle import Standing
from streams.rules.units import AS_RECORDED, UnitView

Z95 = 1.959963984540054  # two-sided 95% normal quantile

Cell = tuple[str, str]  # (field_code, district_code | area_code | commune_code)


class CellKind(StrEnum):
    """What the second code of a cell is."""

    DISTRICT = "district"
    AREA = "area"  # khu vực (METRICS.md §8)
    COMMUNE = "commune"  # xã/phường

    def place(self, received: DossierEvent, units: UnitView = AS_RECORDED) -> str:
        """The dossier's place in a cell of this kind."""
        match self:
            case CellKind.DISTRICT:
                return received.district_code or ""
            case CellKind.AREA:
                return units.area(received)[0]
            case CellKind.COMMUNE:
                return units.commune(received)[0]


_IN_PROGRESS = (Standing.WITHIN_DUE, Standing.OVERDUE)


def wilson_lower_bound(successes: int, total: int, z: float = Z95) -> float:
    """Lower end of the Wilson score interval for successes/total (0.0 when total is 0)."""
    if total <= 0:
        return 0.0
    if not 0 <= successes <= total:
        raise ValueError(f"successes {successes} not within 0..{total}")
    n = total
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # clamp: at p = 0 the two terms cancel up to rounding
    return max(0.0, (centre - spread) / (1 + z2 / n))


@dataclass(frozen=True, slots=True)
class CellCounts:
    field_code: str
    district_code: str
    total: int  # finished in the window + in progress at its end
    late: int  # of those: finished late + in progress overdue

    @property
    def cell(self) -> Cell:
        return (self.field_code, self.district_code)


@dataclass(frozen=True, slots=True)
class HotspotConfig:
    window_days: int = 30
    min_total: int = 20
    z: float = Z95
    by: CellKind = CellKind.DISTRICT

    def window_start(self, as_of: datetime) -> datetime:
        return as_of - timedelta(days=self.window_days)


def _counted(facts: DossierFacts, window_start: datetime, as_of: datetime) -> bool | None:
    """None if the dossier is not in its cell's window, else whether it counts as late."""
    standing = standing_at(facts, as_of)
    if standing is None:  # not received yet
        return None
    kind, late = standing
    if kind.finished:
        # standing_at says finished only when end_at < as_of
        assert facts.end_at is not None
        return late if facts.end_at >= window_start else None
    if kind in _IN_PROGRESS:
        return kind is Standing.OVERDUE
    return None  # waiting for supplement: neither finished nor in progress


def cell_counts(
    facts: Iterable[DossierFacts],
    window_start: datetime,
    as_of: datetime,
    by: CellKind = CellKind.DISTRICT,
    units: UnitView = AS_RECORDED,
) -> dict[Cell, CellCounts]:
    """Per (field, district/area/commune): dossiers finished in [window_start,
    as_of) + in progress at as_of."""
    totals: dict[Cell, list[int]] = {}
    for f in facts:
        late = _counted(f, window_start, as_of)
        if late is None:
            continue
        cell = (f.received.field_code or "", by.place(f.received, units))
        counts = totals.setdefault(cell, [0, 0])
        counts[0] += 1
        counts[1] += late
    return {cell: CellCounts(*cell, total, late) for cell, (total, late) in totals.items()}


def field_baselines(cells: Mapping[Cell, CellCounts] | Iterable[CellCounts]) -> dict[str, float]:
    """The late share of each field over the whole province (all its districts)."""
    values = cells.values() if isinstance(cells, Mapping) else cells
    sums: dict[str, list[int]] = {}
    for c in values:
        s = sums.setdefault(c.field_code, [0, 0])
        s[0] += c.total
        s[1] += c.late
    return {field: late / total for field, (total, late) in sums.items() if total > 0}


def is_hot(counts: CellCounts, baseline: float | None, config: HotspotConfig) -> bool:
    if baseline is None or counts.total < config.min_total:
        return False
    return wilson_lower_bound(counts.late, counts.total, config.z) > baseline


def evaluate_hotspots(
    cells: Mapping[Cell, CellCounts], baselines: Mapping[str, float], config: HotspotConfig
) -> set[Cell]:
    """The hot cells: enough dossiers and a Wilson lower bound above the field's baseline."""
    return {
        cell for cell, counts in cells.items() if is_hot(counts, baselines.get(cell[0]), config)
    }


@dataclass(frozen=True, slots=True)
class HotspotChange:
    kind: Literal["opened", "closed"]
    field_code: str
    district_code: str
    at: datetime
    total: int
    late: int
    wilson_lower: float
    baseline: float
    hotspot_id: str  # shared by an "opened" record and the "closed" that ends it
    cell_kind: CellKind = CellKind.DISTRICT  # what district_code holds (area, commune)


def hotspot_id(cell: Cell, opened_at: datetime, by: CellKind = CellKind.DISTRICT) -> str:
    """Deterministic id: re-evaluating the same instant after a restart gives the same id.

    The instant is written in UTC so that one instant has one spelling; an
    area or commune cell's id starts with its kind (district ids as before).
    """
    prefix = "" if by is CellKind.DISTRICT else f"{by.value}:"
    return f"{prefix}{cell[0]}|{cell[1]}|{opened_at.astimezone(UTC).isoformat()}"


class HotspotTracker:
    """The open hotspots, and the records emitted when the hot set changes.

    Restore it after a restart from the cells still open (with their
    opened_at, e.g. the latest "opened" record of each cell not followed by a
    "closed"): a restored tracker does not re-open them.
    """

    def __init__(
        self,
        open_cells: Mapping[Cell, datetime] | None = None,
        config: HotspotConfig | None = None,
        units: UnitView = AS_RECORDED,
    ) -> None:
        self.config = config or HotspotConfig()
        self.units = units  # how area and commune cells name a dossier's place
        self._open: dict[Cell, datetime] = dict(open_cells or {})

    @classmethod
    def from_changes(
        cls, changes: Iterable[HotspotChange], config: HotspotConfig | None = None
    ) -> HotspotTracker:
        """Rebuild from stored records: a cell is open if its latest record is "opened"."""
        config = config or HotspotConfig()
        latest: dict[Cell, HotspotChange] = {}
        for c in sorted(changes, key=lambda c: (c.at, c.kind == "closed")):
            if c.cell_kind is config.by:
                latest[(c.field_code, c.district_code)] = c
        return cls({cell: c.at for cell, c in latest.items() if c.kind == "opened"}, config)

    @property
    def open_cells(self) -> dict[Cell, datetime]:
        return dict(self._open)

    def evaluate(
        self,
        cells: Mapping[Cell, CellCounts],
        baselines: Mapping[str, float],
        at: datetime,
    ) -> list[HotspotChange]:
        """Compare the hot set at `at` with the open one; open and close cells accordingly."""
        hot = evaluate_hotspots(cells, baselines, self.config)
        changes = []
        for cell in sorted(hot | self._open.keys()):
            if (cell in hot) == (cell in self._open):
                continue  # no transition: never two "opened" in a row
            opened = cell in hot
            if opened:
                self._open[cell] = at
                ident = hotspot_id(cell, at, self.config.by)
            else:
                ident = hotspot_id(cell, self._open.pop(cell), self.config.by)
            counts = cells.get(cell, CellCounts(*cell, 0, 0))
            changes.append(
                HotspotChange(
                    kind="opened" if opened else "closed",
                    field_code=cell[0],
                    district_code=cell[1],
                    at=at,
                    total=counts.total,
                    late=counts.late,
                    wilson_lower=wilson_lower_bound(counts.late, counts.total, self.config.z),
                    baseline=baselines.get(cell[0], 0.0),
                    hotspot_id=ident,
                    cell_kind=self.config.by,
                )
            )
        return changes

    def update(self, facts: Iterable[DossierFacts], as_of: datetime) -> list[HotspotChange]:
        """Count the window ending at as_of, then evaluate (the usual periodic call)."""
        start = self.config.window_start(as_of)
        cells = cell_counts(facts, start, as_of, self.config.by, self.units)
        return self.evaluate(cells, field_baselines(cells), as_of)


class HotspotWatch:
    """One tracker per cell kind the watch runs (METRICS.md §8: by default
    district and commune cells; see `streams.rules.watch.watch_config`), as
    one tracker: `update` gives every kind's changes, district first."""

    def __init__(self, trackers: Iterable[HotspotTracker]) -> None:
        self.trackers = tuple(trackers)

    @classmethod
    def from_changes(
        cls,
        changes: Iterable[HotspotChange],
        config: HotspotConfig | None = None,
        kinds: Iterable[CellKind] = (CellKind.DISTRICT,),
    ) -> HotspotWatch:
        config, stored = config or HotspotConfig(), list(changes)
        return cls(HotspotTracker.from_changes(stored, replace(config, by=kind)) for kind in kinds)

    @classmethod
    def of(
        cls, config: HotspotConfig | None = None, kinds: Iterable[CellKind] = (CellKind.DISTRICT,)
    ) -> HotspotWatch:
        return cls.from_changes((), config, kinds)

    def update(self, facts: Iterable[DossierFacts], as_of: datetime) -> list[HotspotChange]:
        kept = list(facts)
        return [c for tracker in self.trackers for c in tracker.update(kept, as_of)]
