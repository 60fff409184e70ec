"""Inspector alerts (streams.rules.alerts) as Prometheus Alertmanager v2 alerts.

Labels carry what routing needs (kind, severity, agency, district, area,
commune, field, dossier_id; `district` stays the area, so district routes
keep working after 1 July 2025); annotations carry the Vietnamese summary and description. Only
attribution, codes, due and lateness go in: never the applicant's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from streams.rules.alerts import NAMES, InspectorAlert, description, summary


def to_alertmanager(a: InspectorAlert, tz: tzinfo, board_url: str = "") -> dict:
    name, severity = NAMES[a.kind]
    labels = {
        "alertname": name,
        "kind": a.kind,
        "severity": severity,
        "agency": a.agency_code,
        "district": a.district_code,
        "area": a.area_code,  # METRICS.md §8: the district before 1 July 2025
        "commune": a.commune_code,
        "field": a.field_code,
        "dossier_id": a.dossier_id,
        "alert_key": a.key,
    }
    alert = {
        "labels": {k: v for k, v in labels.items() if v},
        "annotations": {"summary": summary(a, tz), "description": description(a, tz)},
        "startsAt": a.at.isoformat(),
    }
    if board_url:
        alert["generatorURL"] = board_url
        alert["annotations"]["board"] = board_url
    if a.ends_at is not None:
        alert["endsAt"] = a.ends_at.isoformat()
    return alert


async def push_alerts(
    base_url: str, alerts: Sequence[InspectorAlert], tz: tzinfo, board_url: str = ""
) -> None:
    """POST to Alertmanager's v2 API, retrying briefly; raises if it stays down."""
    import aiohttp

    if not alerts:
        return
    body = [to_alertmanager(a, tz, board_url) for a in alerts]
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
