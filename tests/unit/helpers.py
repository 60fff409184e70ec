"""Small builders for hand-worked unit tests: local instants and dossier events."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from schemas.events import DossierEvent

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

DEFAULT_DOSSIER = "H44.100-260504-0001"

# What a `received` event must carry (EVENTS.md §1, "on received").
RECEIVED_DEFAULTS: dict[str, Any] = {
    "agency_code": "H44.100",
    "agency_name": "UBND Phường Việt Trì",
    "level": "commune",
    "district_code": "D01",
    "district_name": "Thành phố Việt Trì",
    "procedure_code": "1.004227",
    "procedure_name": "Đăng ký khai sinh",
    "field_code": "HT",
    "field_name": "Hộ tịch",
    "channel": "direct",
}


def t(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """An instant in Asia/Ho_Chi_Minh local time."""
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


def ev(
    type_: str,
    at: datetime,
    *,
    event_id: str | None = None,
    dossier_id: str = DEFAULT_DOSSIER,
    **fields: Any,
) -> DossierEvent:
    """A DossierEvent; a `received` one gets the required received fields by default.

    The default event_id is derived from dossier, type and instant, so building
    the same event twice gives the same id (a duplicate).
    """
    if type_ == "received":
        fields = RECEIVED_DEFAULTS | fields
    if event_id is None:
        event_id = f"{dossier_id}/{type_}/{at.isoformat()}"
    return DossierEvent(event_id=event_id, dossier_id=dossier_id, type=type_, at=at, **fields)
