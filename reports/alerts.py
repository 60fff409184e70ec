"""The inspectors' deadline alerts of a span as records (`motcua alerts`): the
list the watch sends for that span (streams.rules.watch.deadline_alerts), from event
files or from the pipeline's stored facts, for an audit of a past month.

Records carry codes and times only (no personal data): `at` and `due` in ISO
8601 with the local offset, `hours_late` in working hours. CSV keeps the
machine names (columns and kinds); the terminal table has Vietnamese headers
and kind names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.table import Table

from schemas.events import DossierEvent
from streams.rules.alerts import InspectorAlert
from streams.rules.calendar import WorkingCalendar
from streams.rules.deadlines import AlertConfig
from streams.rules.facts import DossierFacts, dossier_facts
from streams.rules.watch import deadline_alerts

ALERT_COLUMNS = (
    "dossier_id",
    "kind",
    "at",
    "due",
    "hours_late",
    "agency_code",
    "district_code",
    "field_code",
    "procedure_code",
    "alert_key",
)
ALERT_LABELS_VI = {
    "dossier_id": "Mã hồ sơ",
    "kind": "Loại cảnh báo",
    "at": "Thời điểm cảnh báo",
    "due": "Hạn giải quyết",
    "hours_late": "Số giờ làm việc quá hạn",
    "agency_code": "Mã cơ quan",
    "district_code": "Mã địa bàn",
    "field_code": "Mã lĩnh vực",
    "procedure_code": "Mã thủ tục",
    "alert_key": "Mã cảnh báo",
}
KIND_NAMES_VI = {
    "due_soon": "Sắp đến hạn",
    "overdue": "Quá hạn",
    "overdue_reminder": "Nhắc quá hạn",
}


def facts_of_events(
    events: Iterable[DossierEvent], calendar: WorkingCalendar
) -> list[DossierFacts]:
    """The facts of every received dossier among events."""
    histories: dict[str, list[DossierEvent]] = {}
    for e in events:
        histories.setdefault(e.dossier_id, []).append(e)
    return [f for h in histories.values() if (f := dossier_facts(h, calendar))]


def span_alerts(
    facts: Iterable[DossierFacts],
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    config: AlertConfig,
    agency: str | None = None,
) -> list[InspectorAlert]:
    """Every due soon, overdue and reminder with `at` in [start, end), of one agency's
    dossiers when `agency` is given, in the watch's order (instant, key)."""
    chosen = [f for f in facts if agency in (None, f.received.agency_code)]
    return deadline_alerts(chosen, start, end, calendar, config)


def alert_record(a: InspectorAlert, calendar: WorkingCalendar) -> dict[str, object]:
    assert a.due is not None  # deadline alerts always carry their due
    return {
        "dossier_id": a.dossier_id,
        "kind": a.kind,
        "at": calendar.local(a.at).isoformat(),
        "due": calendar.local(a.due).isoformat(),
        "hours_late": f"{a.hours_late:.2f}",
        "agency_code": a.agency_code,
        "district_code": a.district_code,
        "field_code": a.field_code,
        "procedure_code": a.procedure_code,
        "alert_key": a.key,
    }


def alerts_table(records: Sequence[dict[str, object]], title: str) -> Table:
    """The records with Vietnamese headers and kind names."""
    table = Table(title=title, header_style="bold")
    for name in ALERT_COLUMNS:
        table.add_column(ALERT_LABELS_VI[name], justify="right" if name == "hours_late" else "left")
    for r in records:
        cells = [str(r[name]) for name in ALERT_COLUMNS]
        cells[ALERT_COLUMNS.index("kind")] = KIND_NAMES_VI[str(r["kind"])]
        table.add_row(*cells)
    return table
