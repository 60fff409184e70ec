"""The 766 scorecard's configuration table (METRICS.md §7).

Points and targets change when the national rule sheet does, so they live in
data an operator can override, not in the rules. Two lists:

- `DEFAULT_SCORING`: the indicators the dossier data decides (computed by
  streams/rules/scorecard.py), in the order of METRICS.md §7's table;
- `PORTAL_INDICATORS`: those only the national procedure database or the
  feedback system can decide, taken from the portal's published figures.

Names and maxima follow the portal's formula sheet "Mô tả công thức tính chỉ
số 766". Together the two lists give the six groups 18 / 20 / 12 / 10 / 22 /
18 = 100 points. "3.F" (full-online share) and "4.C" (certified electronic
copies) have no number on the sheet; these ids are ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

Points = Annotated[Decimal, Field(ge=0, le=100)]
Target = Annotated[Decimal, Field(gt=0, le=100)]


class Group(StrEnum):
    """The six groups of Decision 766 (their default totals in the comments)."""

    PUBLICITY = "publicity"  # công khai, minh bạch: 18
    PROGRESS = "progress"  # tiến độ giải quyết: 20
    ONLINE = "online"  # dịch vụ công trực tuyến: 12
    PAYMENT = "payment"  # thanh toán trực tuyến: 10
    DIGITIZATION = "digitization"  # số hóa hồ sơ: 22
    SATISFACTION = "satisfaction"  # mức độ hài lòng: 18


class Indicator(BaseModel):
    """One indicator: `max_points` None means shown, not scored (3.3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=20)]
    name: Annotated[str, Field(min_length=1, max_length=300)]  # Vietnamese, for people
    group: Group
    max_points: Points | None
    target: Target | None = None  # percent; None for the portal's figures (points only)

    @property
    def scored(self) -> bool:
        return self.max_points is not None


def _indicator(
    id_: str, name: str, group: Group, max_points: int | None, target: int | None = None
) -> Indicator:
    return Indicator(
        id=id_,
        name=name,
        group=group,
        max_points=None if max_points is None else Decimal(max_points),
        target=None if target is None else Decimal(target),
    )


# METRICS.md §7's table, in its order (the scorecard's row order).
COMPUTED_IDS = ("2.1", "3.3", "3.F", "3.6", "4.1", "4.2", "4.3", "4.4", "4.5b", "5.4")

_DEFAULT_COMPUTED = (
    _indicator("2.1", "Hồ sơ xử lý trước hạn, đúng hạn", Group.PROGRESS, 20, 100),
    _indicator("3.3", "Hồ sơ nộp trực tuyến", Group.ONLINE, None, 50),
    _indicator(
        "3.F",
        "Hồ sơ trực tuyến toàn trình trên tổng hồ sơ TTHC đủ điều kiện toàn trình",
        Group.ONLINE,
        12,
        100,
    ),
    _indicator("3.6", "Hồ sơ thanh toán trực tuyến", Group.PAYMENT, 6, 100),
    _indicator("4.1", "Hồ sơ có kết quả giải quyết điện tử", Group.DIGITIZATION, 6, 100),
    _indicator("4.2", "Hồ sơ thực hiện số hóa thành phần", Group.DIGITIZATION, 4, 80),
    _indicator("4.3", "Hồ sơ khai thác, sử dụng lại dữ liệu số hóa", Group.DIGITIZATION, 2, 80),
    _indicator("4.4", "Hồ sơ số hóa kết nối, chia sẻ để tái sử dụng", Group.DIGITIZATION, 4, 100),
    _indicator("4.5b", "Hồ sơ sử dụng thông tin từ CSDL dân cư", Group.DIGITIZATION, 2, 100),
    _indicator("5.4", "Hài lòng trong tiếp nhận, giải quyết TTHC", Group.SATISFACTION, 6, 90),
)

# Only the portal can score these; 3.1 and 5.1 carry no points on the sheet.
PORTAL_IDS = ("1.1", "1.2", "1.3", "1.4", "3.1", "3.5", "3.5b", "4.5a", "4.C", "5.1", "5.2", "5.3")

PORTAL_INDICATORS = (
    _indicator("1.1", "TTHC công bố đúng hạn", Group.PUBLICITY, 6),
    _indicator("1.2", "TTHC cập nhật, công khai đúng hạn", Group.PUBLICITY, 4),
    _indicator("1.3", "TTHC công khai đầy đủ nội dung", Group.PUBLICITY, 2),
    _indicator("1.4", "Hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia", Group.PUBLICITY, 6),
    _indicator("3.1", "TTHC cung cấp dịch vụ công trực tuyến", Group.ONLINE, None),
    _indicator(
        "3.5",
        "TTHC có nghĩa vụ tài chính được cung cấp trên Cổng Dịch vụ công quốc gia",
        Group.PAYMENT,
        2,
    ),
    _indicator("3.5b", "TTHC có giao dịch thanh toán trực tuyến", Group.PAYMENT, 2),
    _indicator("4.5a", "TTHC kết nối, chia sẻ dữ liệu dân cư", Group.DIGITIZATION, 2),
    _indicator(
        "4.C", "Cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính", Group.DIGITIZATION, 2
    ),
    _indicator(
        "5.1", "Hài lòng về cắt giảm, phân cấp, đơn giản hóa TTHC", Group.SATISFACTION, None
    ),
    _indicator("5.2", "Phản ánh, kiến nghị xử lý đúng hạn", Group.SATISFACTION, 6),
    _indicator("5.3", "Hài lòng trong xử lý phản ánh, kiến nghị", Group.SATISFACTION, 6),
)


class ScoringTable(BaseModel):
    """Every indicator of the scorecard: the computed ones (each with a target)
    and the portal's. Validation keeps the ids the rules rely on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    computed: tuple[Indicator, ...]
    portal: tuple[Indicator, ...]

    @model_validator(mode="after")
    def _ids_are_the_rules(self) -> ScoringTable:
        ids = [i.id for i in self.computed]
        if sorted(ids) != sorted(COMPUTED_IDS):
            raise ValueError(f"computed indicators must be exactly {', '.join(COMPUTED_IDS)}")
        if any(i.target is None for i in self.computed):
            raise ValueError("every computed indicator needs a target")
        portal = [i.id for i in self.portal]
        if len(set(portal)) != len(portal) or set(portal) & set(ids):
            raise ValueError("portal indicator ids must be unique and not computed ones")
        return self

    def __getitem__(self, indicator_id: str) -> Indicator:
        for indicator in (*self.computed, *self.portal):
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    def ordered_computed(self) -> tuple[Indicator, ...]:
        """The computed indicators in METRICS.md §7's order, whatever the config's order."""
        return tuple(self[i] for i in COMPUTED_IDS)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> ScoringTable:
        """This table with some indicators' fields replaced, e.g. `{"4.2": {"target": 70}}`.

        An unknown id is an error (a typo would otherwise change nothing silently).
        """
        known = {i.id for i in (*self.computed, *self.portal)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown indicator: {', '.join(unknown)}")

        def changed(indicator: Indicator) -> Indicator:
            update = overrides.get(indicator.id)
            if not update:
                return indicator
            return Indicator.model_validate(indicator.model_dump() | dict(update))

        return ScoringTable(
            computed=tuple(changed(i) for i in self.computed),
            portal=tuple(changed(i) for i in self.portal),
        )


DEFAULT_SCORING = ScoringTable(computed=_DEFAULT_COMPUTED, portal=PORTAL_INDICATORS)


def scoring_from_json(text: str | bytes) -> ScoringTable:
    """An operator's overrides, a JSON object of id → fields, applied to the defaults."""
    data = orjson.loads(text)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object of indicator id → fields")
    return DEFAULT_SCORING.with_overrides(data)
