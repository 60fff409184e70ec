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
    due: datetime | None = None
    hours_late: float = 0.0
    detail: str = ""  # e.g. a hotspot's counts
    ends_at: datetime | None = None  # set when the condition is over (hotspot closed)


def _when(t: datetime | None, tz: tzinfo) -> str:
    return "—" if t is None else f"{t.astimezone(tz):%H:%M %d/%m/%Y}"


def summary(a: InspectorAlert, tz: tzinfo) -> str:
    if a.kind == "due_soon":
        return f"Hồ sơ {a.dossier_id} sắp đến hạn ({_when(a.due, tz)})"
    if a.kind in ("overdue", "overdue_reminder"):
        return f"Hồ sơ {a.dossier_id} đã quá hạn {a.hours_late:.1f} giờ làm việc"
    if a.kind == "integrity":
        return f"Hồ sơ {a.dossier_id}: {a.detail.split(':', 1)[0]}"
    return f"Điểm nóng trễ hạn: lĩnh vực {a.field_name} tại {a.district_name}"


def description(a: InspectorAlert, tz: tzinfo) -> str:
    if a.kind == "hotspot":
        return f"{a.detail} Lĩnh vực: {a.field_name}; huyện: {a.district_name}."
    if a.kind == "integrity":
        return (
            f"{a.detail} Thủ tục: {a.procedure_code}; lĩnh vực: {a.field_code}; "
            f"đơn vị: {a.agency_code}; huyện: {a.district_code}."
        )
    return (
        f"Thủ tục: {a.procedure_name or a.procedure_code} ({a.procedure_code}); "
        f"lĩnh vực: {a.field_name}; đơn vị: {a.agency_name} ({a.agency_code}); "
        f"huyện: {a.district_name}; hạn giải quyết: {_when(a.due, tz)}."
    )
