"""The 766 scorecard (METRICS.md §7): every indicator a dossier's own data decides,
per unit, plus the portal's published figures for the rest.

Pure: dossier states and period rows in, scores out. The population of every
dossier indicator is R, the dossiers received in [start, end), judged with
their state at `end` (a flag holds if any event before `end` said so). 2.1 is
§4's progress ratio, taken from the period rows so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from schemas.catalogue import CatalogueEntry, ProcedureCatalogue
from schemas.events import Channel, OnlineLevel
from schemas.scoring import DEFAULT_SCORING, Indicator, ScoringTable
from streams.rules.lifecycle import DossierState
from streams.rules.period import PeriodRow, UnitKind, two_decimals, unit_of

SCORECARD_COLUMNS = (
    "unit_code",
    "unit_name",
    "indicator",
    "numerator",
    "denominator",
    "rate",
    "points",
    "max",
    "target",
    "source",
)

# (unit_code, indicator id) → points the portal published; None = not published
PortalFigures = Mapping[tuple[str, str], Decimal | None]


class Source(StrEnum):
    """Where a figure came from; a missing one is never read as zero."""

    COMPUTED = "computed"
    PORTAL = "portal"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    indicator: Indicator
    numerator: int | None
    denominator: int | None
    rate: Decimal | None  # percent, two decimals; None where undefined
    points: Decimal | None  # None: not scored, undefined rate, or missing
    source: Source

    @property
    def points_lost(self) -> Decimal | None:
        if self.points is None or self.indicator.max_points is None:
            return None
        return self.indicator.max_points - self.points


@dataclass(frozen=True, slots=True)
class UnitScorecard:
    unit_code: str
    unit_name: str
    scores: tuple[IndicatorScore, ...]  # computed in §7's order, then the portal's

    @property
    def total(self) -> Decimal:
        """Sum of the points there are (a missing or undefined figure adds nothing)."""
        return sum((s.points for s in self.scores if s.points is not None), Decimal(0))

    @property
    def total_max(self) -> Decimal:
        """The maximum of the indicators that have points, i.e. what `total` is out of."""
        return sum(
            (s.indicator.max_points or Decimal(0) for s in self.scores if s.points is not None),
            Decimal(0),
        )

    def score(self, indicator_id: str) -> IndicatorScore:
        for s in self.scores:
            if s.indicator.id == indicator_id:
                return s
        raise KeyError(indicator_id)


def exact_points(rate: Fraction, indicator: Indicator) -> Fraction | None:
    """min(max, rate / target × max), unrounded; None for an indicator not scored."""
    if indicator.max_points is None:
        return None
    assert indicator.target is not None  # ScoringTable guarantees it for computed ones
    top = Fraction(indicator.max_points)
    return min(top, rate / Fraction(indicator.target) * top)


def points_of(rate: Fraction, indicator: Indicator) -> Decimal | None:
    """The points of an unrounded rate, then rounded to two decimals half-up (§7)."""
    exact = exact_points(rate, indicator)
    return None if exact is None else two_decimals(exact)


def _computed(indicator: Indicator, num: int, den: int) -> IndicatorScore:
    if not den:
        return IndicatorScore(indicator, num, den, None, None, Source.COMPUTED)
    rate = Fraction(100 * num, den)
    return IndicatorScore(
        indicator, num, den, two_decimals(rate), points_of(rate, indicator), Source.COMPUTED
    )


class _Procedures:
    """What the catalogue says of a dossier's procedure, or §7's stand-in without it.

    A procedure missing from a given catalogue gets the stand-in too: its
    dossiers still count, as they would with no catalogue at all.
    """

    def __init__(self, catalogue: ProcedureCatalogue | None) -> None:
        self.catalogue = catalogue

    def paper_result(self, s: DossierState) -> bool:
        entry = self._entry(s)
        return True if entry is None else entry.paper_result  # stand-in: all R

    def full_online_eligible(self, s: DossierState) -> bool:
        entry = self._entry(s)
        if entry is None:  # stand-in: offered as full online service
            return s.received.online_level is OnlineLevel.FULL
        return entry.full_online_eligible

    def _entry(self, s: DossierState) -> CatalogueEntry | None:
        code = s.received.procedure_code
        return None if self.catalogue is None or code is None else self.catalogue.get(code)


def _online(s: DossierState) -> bool:
    return s.received.channel is Channel.ONLINE


def _dossier_indicators(
    procs: _Procedures,
) -> dict[str, tuple[Callable[[DossierState], bool], Callable[[DossierState], bool]]]:
    """id → (in the denominator, in the numerator) for the indicators counted over R."""

    def everyone(s: DossierState) -> bool:
        return True

    def result_ok(s: DossierState) -> bool:
        """A procedure with a paper result must also have issued an electronic one."""
        return not procs.paper_result(s) or s.electronic_result

    return {
        "3.3": (everyone, lambda s: _online(s) and result_ok(s)),
        "3.F": (
            procs.full_online_eligible,
            lambda s: _online(s) and s.received.online_level is OnlineLevel.FULL,
        ),
        "3.6": (lambda s: s.fee_due, lambda s: s.paid_online),
        "4.1": (procs.paper_result, lambda s: s.electronic_result),
        "4.2": (everyone, lambda s: s.components_digitized and result_ok(s)),
        "4.3": (everyone, lambda s: s.reused_digitized_data),
        "4.4": (everyone, lambda s: s.from_personal_store),
        "4.5b": (everyone, lambda s: s.vneid_verified),
    }


@dataclass(frozen=True, slots=True)
class DossierCounts:
    """A unit's dossiers of R, counted for the indicators computed over R.

    What a store can count without the states (streams.clickhouse.scorecard
    does it in SQL): `counts` is indicator id → (numerator, denominator),
    `complaints` the dossiers of R with a complaint (5.4)."""

    received: int = 0
    complaints: int = 0
    counts: Mapping[str, tuple[int, int]] = field(default_factory=dict)


DOSSIER_INDICATORS = ("3.3", "3.F", "3.6", "4.1", "4.2", "4.3", "4.4", "4.5b")


def dossier_counts(
    received: Iterable[DossierState], catalogue: ProcedureCatalogue | None = None
) -> DossierCounts:
    """The counts of some dossiers of R (one unit's, as a rule)."""
    counted = _dossier_indicators(_Procedures(catalogue))
    states = list(received)
    counts = {}
    for indicator_id in DOSSIER_INDICATORS:
        in_den, in_num = counted[indicator_id]
        den = [s for s in states if in_den(s)]
        counts[indicator_id] = (sum(bool(in_num(s)) for s in den), len(den))
    return DossierCounts(len(states), sum(s.complaint for s in states), counts)


def _satisfaction(
    indicator: Indicator, progress: tuple[int, int], received: int, complaints: int
) -> IndicatorScore:
    """5.4: 2.1's ratio less the complaint share of R, not below 0.

    With no dossier received the complaint share is 0 (nothing could be
    complained about), so the rate is 2.1's; with no 2.1 ratio it is undefined.
    """
    num, den = progress
    if not den:
        return IndicatorScore(indicator, None, None, None, None, Source.COMPUTED)
    share = Fraction(100 * complaints, received) if received else Fraction(0)
    rate = max(Fraction(0), Fraction(100 * num, den) - share)
    return IndicatorScore(
        indicator, None, None, two_decimals(rate), points_of(rate, indicator), Source.COMPUTED
    )


def _portal(indicator: Indicator, figure: Decimal | None) -> IndicatorScore:
    source = Source.MISSING if figure is None else Source.PORTAL
    return IndicatorScore(indicator, None, None, None, figure, source)


def scorecard(
    states: Iterable[DossierState],
    rows: Iterable[PeriodRow],
    start: datetime,
    end: datetime,
    by: UnitKind,
    *,
    table: ScoringTable = DEFAULT_SCORING,
    catalogue: ProcedureCatalogue | None = None,
    portal: PortalFigures | None = None,
    province: tuple[str, str] = ("ALL", "Toàn tỉnh"),
) -> list[UnitScorecard]:
    """One scorecard per unit, in unit code order.

    `states` are taken at `end`; those not received in [start, end) are
    skipped, so the states given to `period_report` may be passed as they are.
    `rows` is `period_report`'s output for the same period and `by` (2.1).
    Portal indicators without points on the sheet (3.1, 5.1) get no row.
    """
    received: dict[str, list[DossierState]] = {}
    for s in states:
        if s.as_of != end:
            raise ValueError(f"dossier {s.dossier_id} is judged at {s.as_of}, not at {end}")
        if start <= s.received_at < end:
            received.setdefault(unit_of(s, by, province)[0], []).append(s)
    counts = {code: dossier_counts(of_unit, catalogue) for code, of_unit in received.items()}
    return unit_scorecards(rows, counts, table=table, portal=portal)


def unit_scorecards(
    rows: Iterable[PeriodRow],
    counts: Mapping[str, DossierCounts],
    *,
    table: ScoringTable = DEFAULT_SCORING,
    portal: PortalFigures | None = None,
) -> list[UnitScorecard]:
    """The scorecards of the units of `rows` (the period report of [start, end)
    by some unit kind: 2.1 and the units' names) from their R `counts`.

    Every unit with dossiers of R has a period row (it holds them in its
    received_total), so a unit counted without a row means the two were not
    taken for the same period or kind.
    """
    progress = {row.unit_code: row for row in rows}
    unmatched = sorted(code for code, c in counts.items() if c.received and code not in progress)
    if unmatched:
        raise ValueError(f"no period row for {', '.join(unmatched)} (another period or kind?)")
    figures = portal or {}
    cards = []
    for code in sorted(progress):
        row = progress[code]
        of_unit = counts.get(code, DossierCounts())
        two_one = row.progress_766_counts()
        scores = []
        for indicator in table.ordered_computed():
            if indicator.id == "2.1":
                scores.append(_computed(indicator, *two_one))
            elif indicator.id == "5.4":
                scores.append(
                    _satisfaction(indicator, two_one, of_unit.received, of_unit.complaints)
                )
            else:
                scores.append(_computed(indicator, *of_unit.counts.get(indicator.id, (0, 0))))
        scores += [
            _portal(indicator, figures.get((code, indicator.id)))
            for indicator in table.portal
            if indicator.scored
        ]
        cards.append(UnitScorecard(code, row.unit_name, tuple(scores)))
    return cards


def scorecard_records(cards: Sequence[UnitScorecard]) -> list[dict[str, object]]:
    """The CSV rows of METRICS.md §7, in its column order (None → empty cell)."""
    return [
        {
            "unit_code": card.unit_code,
            "unit_name": card.unit_name,
            "indicator": s.indicator.id,
            "numerator": s.numerator,
            "denominator": s.denominator,
            "rate": s.rate,
            "points": s.points,
            "max": s.indicator.max_points,
            "target": s.indicator.target,
            "source": s.source.value,
        }
        for card in cards
        for s in card.scores
    ]
