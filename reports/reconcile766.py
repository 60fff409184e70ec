"""Reconciling our whole 766 scorecard with the portal's published figures.

One line per unit and per indicator or group the portal published (for any
unit) that we compute ourselves: the computed indicators of METRICS.md §7
(2.1, 3.3, 3.F, 3.6, 4.1–4.4, 4.5b, 5.4) and the groups the portal gives a
total for (e.g. the online group from its online tree). Indicators only the
portal decides (1.1, 3.5, …) are not reconciled: our scorecard takes them
from the portal as they are; they enter a group's total, though.

The judgement, ours against the portal's, per line:

- *Không có trên Cổng*: the portal has no number for it (not listed, or null);
- *Không có trong hệ thống*: we have no scorecard for the unit;
- *Chưa đủ số liệu*: a group whose total we cannot form (an indicator of it
  has no points: missing at the portal, or undefined here);
- *Lệch số liệu*: a count differs (numerator, denominator), the maximum
  differs (the rule sheet changed?), or the rate or points differ by more
  than the tolerance (0.01: both sides round to two decimals, the portal's
  points from its rounded ratio, ours from the unrounded rate);
- *Khớp (làm tròn)*: equal but for a rounding difference within the tolerance;
- *Khớp*: equal.

As in the progress reconciliation, the portal writes 0 where there is no
denominator; that 0 matches our undefined (blank) rate or points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from reports.offline import states_at
from reports.portal766 import GROUP_NAMES_VI, PROVINCE_TOTAL, PortalFigure, portal_points
from reports.sources import FileSource
from schemas.catalogue import ProcedureCatalogue
from schemas.scoring import DEFAULT_SCORING, Group, ScoringTable
from streams.rules.period import UnitKind, two_decimals
from streams.rules.scorecard import UnitScorecard, scorecard

TOLERANCE = Decimal("0.01")


class Verdict(StrEnum):
    MATCH = "Khớp"
    ROUNDING = "Khớp (làm tròn)"
    DIFFERS = "Lệch số liệu"
    INCOMPLETE = "Chưa đủ số liệu"
    MISSING_AT_PORTAL = "Không có trên Cổng"
    MISSING_HERE = "Không có trong hệ thống"


@dataclass(frozen=True, slots=True)
class Figures:
    """Our side of one line (an indicator's score, or a group's total)."""

    numerator: int | None
    denominator: int | None
    rate: Decimal | None
    points: Decimal | None
    max: Decimal | None
    missing: tuple[str, ...] = ()  # a group's indicators without points


@dataclass
class ScoreLine:
    unit_code: str
    unit_name: str
    indicator: str  # an indicator id, or a Group value
    name: str  # Vietnamese
    portal: PortalFigure | None
    ours: Figures | None
    verdict: Verdict
    differences: list[str] = field(default_factory=list)

    def record(self) -> dict[str, object]:
        p, o = self.portal, self.ours

        def diff(a: Decimal | int | None, b: Decimal | int | None) -> Decimal | int | None:
            return None if a is None or b is None else b - a

        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "indicator": self.indicator,
            "indicator_name": self.name,
            "status": self.verdict.value,
            "portal_numerator": p.numerator if p else None,
            "our_numerator": o.numerator if o else None,
            "portal_denominator": p.denominator if p else None,
            "our_denominator": o.denominator if o else None,
            "portal_rate": p.rate if p else None,
            "our_rate": o.rate if o else None,
            "rate_difference": diff(p.rate if p else None, o.rate if o else None),
            "portal_points": p.points if p else None,
            "our_points": o.points if o else None,
            "points_difference": diff(p.points if p else None, o.points if o else None),
            "portal_max": p.max if p else None,
            "our_max": o.max if o else None,
            "portal_source": p.source if p else None,
            "differences": "; ".join(self.differences),
        }


SCORE_RECONCILE_COLUMNS = tuple(ScoreLine("", "", "", "", None, None, Verdict.MATCH).record())
# the columns a terminal has room for; CSV and xlsx carry all
SCORE_RECONCILE_TABLE_COLUMNS = (
    "unit_code",
    "unit_name",
    "indicator",
    "status",
    "portal_rate",
    "our_rate",
    "portal_points",
    "our_points",
    "differences",
)
SCORE_RECONCILE_LABELS_VI = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "indicator": "Chỉ số",
    "indicator_name": "Tên chỉ số",
    "status": "Kết quả đối chiếu",
    "portal_numerator": "Tử số (Cổng)",
    "our_numerator": "Tử số (hệ thống)",
    "portal_denominator": "Mẫu số (Cổng)",
    "our_denominator": "Mẫu số (hệ thống)",
    "portal_rate": "Tỷ lệ (Cổng, %)",
    "our_rate": "Tỷ lệ (hệ thống, %)",
    "rate_difference": "Chênh lệch tỷ lệ",
    "portal_points": "Điểm (Cổng)",
    "our_points": "Điểm (hệ thống)",
    "points_difference": "Chênh lệch điểm",
    "portal_max": "Điểm tối đa (Cổng)",
    "our_max": "Điểm tối đa (hệ thống)",
    "portal_source": "Nguồn số liệu Cổng",
    "differences": "Chi tiết chênh lệch",
}


def _ours_of_indicator(card: UnitScorecard, indicator_id: str) -> Figures:
    s = card.score(indicator_id)
    return Figures(s.numerator, s.denominator, s.rate, s.points, s.indicator.max_points)


def _ours_of_group(card: UnitScorecard, group: Group) -> Figures:
    """A group's points: the sum over its scored indicators, all of them present."""
    scored = [s for s in card.scores if s.indicator.group is group and s.indicator.scored]
    top = sum((s.indicator.max_points or Decimal(0) for s in scored), Decimal(0))
    missing = tuple(s.indicator.id for s in scored if s.points is None)
    if missing or not scored:
        return Figures(None, None, None, None, top, missing)
    points = sum((s.points for s in scored if s.points is not None), Decimal(0))
    rate = two_decimals(Fraction(points) / Fraction(top) * 100) if top else None
    return Figures(None, None, rate, points, top)


def _same(portal: Decimal | int | None, ours: Decimal | int | None) -> bool:
    """The portal's 0 where we have none (no denominator) is the same."""
    return Decimal(portal or 0) == Decimal(ours or 0) if ours is None else portal == ours


def _judge(
    portal: PortalFigure, ours: Figures, group: bool, tolerance: Decimal
) -> tuple[Verdict, list[str]]:
    if ours.missing or (group and ours.points is None):
        missing = ", ".join(ours.missing) or "không có chỉ số có điểm"
        return Verdict.INCOMPLETE, [f"hệ thống thiếu điểm: {missing}"]
    exact: list[tuple[str, Decimal | int | None, Decimal | int | None]] = [
        ("tử số", portal.numerator, ours.numerator),
        ("mẫu số", portal.denominator, ours.denominator),
        ("điểm tối đa", portal.max, ours.max),
    ]
    rounded = [("tỷ lệ", portal.rate, ours.rate), ("điểm", portal.points, ours.points)]
    if group:  # a group's rate is its points over its maximum: the points say it
        rounded = rounded[1:]
    differences, verdict = [], Verdict.MATCH
    for what, a, b in exact:
        if a is not None and not _same(a, b):
            differences.append(f"{what}: Cổng {a}, hệ thống {'—' if b is None else b}")
            verdict = Verdict.DIFFERS
    for what, a, b in rounded:
        if a is None or _same(a, b):
            continue
        shown = f"{what}: Cổng {a}, hệ thống {'—' if b is None else b}"
        if b is not None and abs(Decimal(b) - Decimal(a)) <= tolerance:
            differences.append(shown + " (làm tròn)")
            if verdict is Verdict.MATCH:
                verdict = Verdict.ROUNDING
        else:
            differences.append(shown)
            verdict = Verdict.DIFFERS
    return verdict, differences


def _name(indicator_id: str, table: ScoringTable) -> str:
    if indicator_id in set(Group):
        return GROUP_NAMES_VI[Group(indicator_id)]
    return table[indicator_id].name


def reconcile_scorecard(
    cards: Sequence[UnitScorecard],
    figures: Mapping[tuple[str, str], PortalFigure],
    *,
    table: ScoringTable = DEFAULT_SCORING,
    tolerance: Decimal = TOLERANCE,
) -> list[ScoreLine]:
    """Our scorecards beside the portal's figures (see the module docstring).

    Lines for the ids the portal published for some unit (a computed
    indicator or a group), for every unit on either side; units in the
    portal's order, then ours in code order; per unit, §7's indicator order,
    then the groups in the rule sheet's order.
    """
    computed = [i.id for i in table.ordered_computed()]
    published = {key[1] for key in figures}
    ids = [i for i in computed if i in published] + [g.value for g in Group if g in published]
    ours = {card.unit_code: card for card in cards}
    units: dict[str, str] = {}
    for (code, indicator), figure in figures.items():
        if indicator in ids:
            units.setdefault(code, figure.unit_name)
    for card in sorted(cards, key=lambda c: c.unit_code):
        units.setdefault(card.unit_code, card.unit_name)
    lines = []
    for code, portal_name in units.items():
        card = ours.get(code)
        for indicator in ids:
            portal = figures.get((code, indicator))
            group = indicator in set(Group)
            mine = None
            if card is not None:
                mine = (
                    _ours_of_group(card, Group(indicator))
                    if group
                    else _ours_of_indicator(card, indicator)
                )
            if card is None and portal is None:
                continue
            if portal is None or not portal.published:
                verdict, differences = Verdict.MISSING_AT_PORTAL, []
            elif mine is None:
                verdict, differences = Verdict.MISSING_HERE, []
            else:
                verdict, differences = _judge(portal, mine, group, tolerance)
            name = card.unit_name if card is not None else portal_name
            lines.append(
                ScoreLine(
                    code,
                    name,
                    indicator,
                    _name(indicator, table),
                    portal,
                    mine,
                    verdict,
                    differences,
                )
            )
    return lines


def province_code(figures: Iterable[PortalFigure], default: str) -> str:
    """The province's code as the portal writes it (its trees' parent), else `default`."""
    return next((f.unit_code for f in figures if f.level == PROVINCE_TOTAL), default)


def month_scorecards(
    source: FileSource,
    start: datetime,
    end: datetime,
    figures: Mapping[tuple[str, str], PortalFigure],
    *,
    table: ScoringTable = DEFAULT_SCORING,
    catalogue: ProcedureCatalogue | None = None,
) -> list[UnitScorecard]:
    """The province's scorecard, then the agencies', for [start, end) from event
    files, the portal-only indicators filled from `figures`. The province is
    coded as the portal's parent row, so it lines up with it."""
    province = (province_code(figures.values(), source.province[0]), source.province[1])
    states = states_at(source.events, end, source.calendar)
    portal = portal_points(figures, table)
    cards = []
    for by in (UnitKind.PROVINCE, UnitKind.AGENCY):
        rows = source.rows(start, end, by)
        if by is UnitKind.PROVINCE:
            rows = [replace(r, unit_code=province[0]) for r in rows]
        cards += scorecard(
            states,
            rows,
            start,
            end,
            by,
            table=table,
            catalogue=catalogue,
            portal=portal,
            province=province,
        )
    return cards
