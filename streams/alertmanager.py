"""Inspector alerts as Prometheus Alertmanager v2 alerts (METRICS.md §6).

Labels carry what routing needs (kind, severity, agency, district, field,
dossier_id); annotations carry the Vietnamese summary and description. Only
attribution, codes, due and lateness go in: never the applicant's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
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


def _when(t: datetime | None) -> str:
    return "—" if t is None else f"{t.astimezone(LOCAL):%H:%M %d/%m/%Y}"


def summary(a: InspectorAlert) -> str:
    if a.kind == "due_soon":
        return f"Hồ sơ {a.dossier_id} sắp đến hạn ({_when(a.due)})"
    if a.kind in ("overdue", "overdue_reminder"):
        return f"Hồ sơ {a.dossier_id} đã quá hạn {a.hours_late:.1f} giờ làm việc"
    if a.kind == "integrity":
        return f"Hồ sơ {a.dossier_id}: {a.detail.split(':', 1)[0]}"
    return f"Điểm nóng trễ hạn: lĩnh vực {a.field_name} tại {a.district_name}"


def description(a: InspectorAlert) -> str:
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
        f"huyện: {a.district_name}; hạn giải quyết: {_when(a.due)}."
    )


def to_alertmanager(a: InspectorAlert, board_url: str = "") -> dict:
    name, severity = NAMES[a.kind]
    labels = {
        "alertname": name,
        "kind": a.kind,
        "severity": severity,
        "agency": a.agency_code,
        "district": a.district_code,
        "field": a.field_code,
        "dossier_id": a.dossier_id,
        "alert_key": a.key,
    }
    alert = {
        "labels": {k: v for k, v in labels.items() if v},
        "annotations": {"summary": summary(a), "description": description(a)},
        "startsAt": a.at.isoformat(),
    }
    if board_url:
        alert["generatorURL"] = board_url
        alert["annotations"]["board"] = board_url
    if a.ends_at is not None:
        alert["endsAt"] = a.ends_at.isoformat()
    return alert


async def push_alerts(base_url: str, alerts: Sequence[InspectorAlert], board_url: str = "") -> None:
    """POST to Alertmanager's v2 API, retrying briefly; raises if it stays down."""
    import aiohttp

    if not alerts:
        return
    body = [to_alertmanager(a, board_url) for a in alerts]
    async for attempt in AsyncRetrying(
        wait=wait_exponential(multiplier=0.2, max=5), stop=stop_after_attempt(5), reraise=True
    ):
        with attempt:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{base_url.rstrip('/')}/api/v2/alerts",
                    json=body,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response,
            ):
                if response.status >= 300:
                    text = await response.text()
                    raise RuntimeError(f"alertmanager answered {response.status}: {text[:300]}")
