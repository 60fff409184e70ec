"""The inspectors' alerts (METRICS.md §6, §9) and their Vietnamese texts.

One shape for every alert the watch raises (deadline, hotspot, integrity),
whichever way it leaves (the alerts table, the alerts topic, Alertmanager):
attribution, codes, due and lateness only, never the applicant's data.
Times in the texts are shown in the province's timezone (settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

NAMES = {
    "overdue": ("Hồ sơ quá hạn", "critical"),
    "overdue_reminder": ("Hồ sơ quá hạn", "critical"),
    "due_soon": ("Hồ sơ sắp đến hạn", "warning"),
    "hotspot": ("Điểm nóng trễ hạn", "warning"),
    "integrity": ("Dấu hiệu sửa hồ sơ", "warning"),
}


@dataclass(frozen=True)
class InspectorAlert:
    kind: str  # overdue, overdue_reminder, due_soon, hotspot, integrity
    key: str  # stable per alert (dedup across restarts)
    at: datetime
    dossier_id: str = ""
    agency_code: str = ""
    agency_name: str = ""
    district_code: str = ""
    district_name: str = ""
    field_code: str = ""
    field_name: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    commune_code: str = ""  # METRICS.md §8: the dossier's (or hotspot's) commune
    commune_name: str = ""
    area_code: str = ""  # the district before 1 July 2025, the area after
    area_name: str = ""
    two_tier: bool = False  # from 1 July 2025: no districts, texts say khu vực, xã/phường
    due: datetime | None = None
    hours_late: float = 0.0
    detail: str = ""  # e.g. a hotspot's counts
    ends_at: datetime | None = None  # set when the condition is over (hotspot closed)


def _when(t: datetime | None, tz: tzinfo) -> str:
    return "—" if t is None else f"{t.astimezone(tz):%H:%M %d/%m/%Y}"


def _place(a: InspectorAlert) -> str:
    """Where a dossier belongs, in the words of its time."""
    if not a.two_tier:
        return f"huyện: {a.district_name or a.district_code}"
    place = f"khu vực: {a.area_name or a.area_code or a.district_name or a.district_code}"
    if a.commune_code:
        place += f"; xã/phường: {a.commune_name or a.commune_code}"
    return place


def _hotspot_place(a: InspectorAlert) -> tuple[str, str]:
    """(word, name) of a hotspot's place: a commune cell, an area cell (or a
    district cell of two-tier time), else a district."""
    if a.commune_code:
        return "xã/phường", a.commune_name or a.commune_code
    if a.two_tier:
        return "khu vực", a.area_name or a.district_name or a.area_code or a.district_code
    return "huyện", a.district_name or a.district_code


def summary(a: InspectorAlert, tz: tzinfo) -> str:
    if a.kind == "due_soon":
        return f"Hồ sơ {a.dossier_id} sắp đến hạn ({_when(a.due, tz)})"
    if a.kind in ("overdue", "overdue_reminder"):
        return f"Hồ sơ {a.dossier_id} đã quá hạn {a.hours_late:.1f} giờ làm việc"
    if a.kind == "integrity":
        return f"Hồ sơ {a.dossier_id}: {a.detail.split(':', 1)[0]}"
    word, name = _hotspot_place(a)
    where = name if word == "huyện" else f"{word} {name}"  # a district's name says "huyện"
    return f"Điểm nóng trễ hạn: lĩnh vực {a.field_name} tại {where}"


def description(a: InspectorAlert, tz: tzinfo) -> str:
    if a.kind == "hotspot":
        word, name = _hotspot_place(a)
        return f"{a.detail} Lĩnh vực: {a.field_name}; {word}: {name}."
    if a.kind == "integrity":
        where = f"huyện: {a.district_code}"
        if a.two_tier:
            where = f"khu vực: {a.area_code or a.district_code}"
            where += f"; xã/phường: {a.commune_code}" if a.commune_code else ""
        return (
            f"{a.detail} Thủ tục: {a.procedure_code}; lĩnh vực: {a.field_code}; "
            f"đơn vị: {a.agency_code}; {where}."
        )
    return (
        f"Thủ tục: {a.procedure_name or a.procedure_code} ({a.procedure_code}); "
        f"lĩnh vực: {a.field_name}; đơn vị: {a.agency_name} ({a.agency_code}); "
        f"{_place(a)}; hạn giải quyết: {_when(a.due, tz)}."
    )
