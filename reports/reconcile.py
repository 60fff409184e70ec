"""Reconciling our figures with the national portal's 766 statistics (EVENTS.md §3).

The portal's "Tiến độ giải quyết" counts, per unit, the dossiers it judges
(`totalReceived`: finished + in progress + waiting for supplement) and those
on time (`totalOnTime`: finished early/on time + in progress within due +
waiting on time); ratio = on time / judged. Ours are the same quantities of
the II.06a row, so the two line up unit by unit. Differences in the judged
count are usually sync gaps (dossiers the portal never received).

Since 1 July 2025 the portal's units are departments (level PROVINCE) and
communes (level COMMUNE); with the unit directory (`through_directory`) our
rows of merged units count under the portal unit that took them over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson

from schemas.units import UnitDirectory
from streams.rules.period import PeriodRow
from streams.rules.units import regroup


class PortalFormatError(ValueError):
    """The portal file is not the 766 progress shape; says what is missing (Vietnamese)."""


# what the portal's online-provision statistics carry (EVENTS.md §3), never the progress tree
_ONLINE_FIELDS = frozenset({"channelOnlineSum", "channelTotalSum", "onlineServiceTotal"})


@dataclass(frozen=True)
class PortalUnit:
    code: str
    name: str
    level: str
    judged: int  # totalReceived
    on_time: int  # totalOnTime
    avg_processing_days: Decimal
    ratio: Decimal
    score: Decimal


def _unit(item: Mapping[str, Any], where: str) -> PortalUnit:
    try:
        return PortalUnit(
            code=str(item["departmentCode"]),
            name=str(item.get("departmentName", "")),
            level=str(item.get("level", "PROVINCE_TOTAL" if where == "parent" else "")),
            judged=int(item["totalReceived"]),
            on_time=int(item["totalOnTime"]),
            avg_processing_days=Decimal(str(item.get("avgProcessingDays", 0))),
            ratio=Decimal(str(item.get("ratio", 0))),
            score=Decimal(str(item.get("score", item.get("totalScore", 0)))),
        )
    except KeyError as exc:
        raise PortalFormatError(f"data.{where} thiếu trường {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise PortalFormatError(f"data.{where}: giá trị không hợp lệ ({exc})") from None


def load_portal_progress(raw: bytes | str) -> tuple[PortalUnit, list[PortalUnit]]:
    """The province row and the unit rows of a 766 progress response."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PortalFormatError(f"không phải JSON hợp lệ ({exc})") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or "parent" not in data or "children" not in data:
        raise PortalFormatError('thiếu {"data": {"parent": …, "children": […]}}')
    parent = data["parent"] if isinstance(data["parent"], dict) else {}
    if "totalReceived" not in parent and _ONLINE_FIELDS & parent.keys():
        raise PortalFormatError(
            "đây là thống kê «Cung cấp dịch vụ công trực tuyến» (provide-online-tree), "
            "không phải «Tiến độ giải quyết» (dvc-progress-tree)"
        )
    children = [_unit(c, f"children[{i}]") for i, c in enumerate(data["children"])]
    return _unit(data["parent"], "parent"), children


class Status(StrEnum):
    MATCH = "Khớp"
    DIFFERS = "Lệch số liệu"
    MISSING_AT_PORTAL = "Không có trên Cổng"
    MISSING_HERE = "Không có trong hệ thống"


def judged(row: PeriodRow) -> int:
    return row.finished_total + row.in_progress_total + row.waiting_supplement


def judged_on_time(row: PeriodRow) -> int:
    return (
        row.finished_early
        + row.finished_on_time
        + row.in_progress_within_due
        + row.waiting_supplement_on_time
    )


@dataclass
class Reconciled:
    code: str
    name: str
    portal: PortalUnit | None
    ours: PeriodRow | None
    differences: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if self.portal is None:
            return Status.MISSING_AT_PORTAL
        if self.ours is None:
            return Status.MISSING_HERE
        return Status.DIFFERS if self.differences else Status.MATCH

    def record(self) -> dict[str, object]:
        p, o = self.portal, self.ours
        return {
            "unit_code": self.code,
            "unit_name": self.name,
            "status": self.status.value,
            "portal_judged": p.judged if p else None,
            "our_judged": judged(o) if o else None,
            "judged_difference": judged(o) - p.judged if p and o else None,
            "portal_on_time": p.on_time if p else None,
            "our_on_time": judged_on_time(o) if o else None,
            "on_time_difference": judged_on_time(o) - p.on_time if p and o else None,
            "portal_ratio": p.ratio if p else None,
            "our_ratio": o.progress_ratio_766 if o else None,
            "portal_score": p.score if p else None,
            "our_score": o.progress_score_766 if o else None,
            "portal_avg_days": p.avg_processing_days if p else None,
            "our_avg_days": o.avg_processing_days if o else None,
            "differences": "; ".join(self.differences),
        }


RECONCILE_COLUMNS = tuple(Reconciled("", "", None, None).record())
# the columns a terminal has room for; CSV and xlsx carry all
RECONCILE_TABLE_COLUMNS = (
    "unit_code",
    "unit_name",
    "status",
    "portal_judged",
    "our_judged",
    "judged_difference",
    "portal_ratio",
    "our_ratio",
)
RECONCILE_LABELS_VI = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "status": "Kết quả đối chiếu",
    "portal_judged": "Hồ sơ (Cổng)",
    "our_judged": "Hồ sơ (hệ thống)",
    "judged_difference": "Chênh lệch hồ sơ",
    "portal_on_time": "Đúng hạn (Cổng)",
    "our_on_time": "Đúng hạn (hệ thống)",
    "on_time_difference": "Chênh lệch đúng hạn",
    "portal_ratio": "Tỷ lệ (Cổng, %)",
    "our_ratio": "Tỷ lệ (hệ thống, %)",
    "portal_score": "Điểm (Cổng)",
    "our_score": "Điểm (hệ thống)",
    "portal_avg_days": "TG giải quyết TB (Cổng)",
    "our_avg_days": "TG giải quyết TB (hệ thống)",
    "differences": "Chi tiết chênh lệch",
}


def _compare(portal: PortalUnit, ours: PeriodRow) -> list[str]:
    pairs = [
        ("hồ sơ", portal.judged, judged(ours)),
        ("đúng hạn", portal.on_time, judged_on_time(ours)),
        ("tỷ lệ", portal.ratio, ours.progress_ratio_766),
        ("TG TB", portal.avg_processing_days, ours.avg_processing_days),
    ]
    # the portal writes 0 where we have no denominator (None)
    return [
        f"{what}: Cổng {a}, hệ thống {'—' if b is None else b}"
        for what, a, b in pairs
        if Decimal(a) != (Decimal(0) if b is None else Decimal(b))
    ]


def portal_unit_of(code: str, portal_codes: set[str], directory: UnitDirectory) -> str:
    """The portal unit our recorded unit `code` counts under: itself when the
    portal lists it, else the first of its successors the portal lists (a
    merged commune's dossiers count at the commune that took it over); else
    itself (it shows as missing at the portal)."""
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        if current in portal_codes:
            return current
        seen.add(current)
        versions = directory.versions(current)
        current = versions[-1].successor if versions else None
    return code


def through_directory(
    our_rows: Sequence[PeriodRow], portal_units: Sequence[PortalUnit], directory: UnitDirectory
) -> list[PeriodRow]:
    """Our rows per recorded unit → per portal unit (AGENCY or COMMUNE) through
    the unit directory's successors; the rows of one portal unit summed."""
    codes = {u.code for u in portal_units}
    names = {u.code: u.name for u in portal_units}
    copies = [PeriodRow(r.unit_code, r.unit_name) for r in our_rows]
    for copy, row in zip(copies, our_rows, strict=True):
        copy.add(row)
    keyed = []
    for row in copies:
        code = portal_unit_of(row.unit_code, codes, directory)
        name = row.unit_name if code == row.unit_code else names.get(code, code)
        keyed.append(((code, name), row, None))
    return regroup(keyed)


def reconcile(
    portal_units: Sequence[PortalUnit], our_rows: Sequence[PeriodRow]
) -> list[Reconciled]:
    """One line per unit known to either side, portal order first, then ours."""
    ours = {r.unit_code: r for r in our_rows}
    lines = []
    for unit in portal_units:
        row = ours.pop(unit.code, None)
        lines.append(
            Reconciled(unit.code, unit.name, unit, row, _compare(unit, row) if row else [])
        )
    lines += [Reconciled(code, row.unit_name, None, row) for code, row in sorted(ours.items())]
    return lines
