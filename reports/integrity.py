"""The integrity findings of a span as records (`motcua integrity`): one row
per finding (METRICS.md §9), from event files or from the pipeline's facts.

Codes, times and the rewritten values only (no personal data). `observed_at`
is ISO 8601 with the local offset; CSV keeps machine names, the table and
the xlsx sheet carry Vietnamese headers and kind names.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from streams.rules.calendar import WorkingCalendar
from streams.rules.integrity import FINDING_NAMES_VI, Finding

FINDING_COLUMNS = (
    "dossier_id",
    "kind",
    "agency_code",
    "observed_at",
    "old",
    "new",
    "district_code",
    "field_code",
    "procedure_code",
    "evidence",
)
FINDING_LABELS_VI = {
    "dossier_id": "Mã hồ sơ",
    "kind": "Dấu hiệu",
    "agency_code": "Mã cơ quan",
    "observed_at": "Thời điểm phát hiện",
    "old": "Giá trị ghi nhận lần đầu",
    "new": "Giá trị báo cáo sau",
    "district_code": "Mã địa bàn",
    "field_code": "Mã lĩnh vực",
    "procedure_code": "Mã thủ tục",
    "evidence": "Sự kiện làm căn cứ",
}


def finding_record(f: Finding, calendar: WorkingCalendar) -> dict[str, object]:
    return {
        "dossier_id": f.dossier_id,
        "kind": f.kind.value,
        "agency_code": f.agency_code,
        "observed_at": calendar.local(f.observed_at).isoformat(),
        "old": f.old,
        "new": f.new,
        "district_code": f.district_code,
        "field_code": f.field_code,
        "procedure_code": f.procedure_code,
        "evidence": " ".join(f.evidence),
    }


def vietnamese(record: dict[str, object]) -> dict[str, object]:
    """The record as a supervisor reads it: the kind by its Vietnamese name."""
    return record | {"kind": FINDING_NAMES_VI[str(record["kind"])]}


def findings_table(records: Sequence[dict[str, object]], title: str) -> Table:
    table = Table(title=title, header_style="bold")
    shown = FINDING_COLUMNS[:6]  # a terminal is narrow: CSV and xlsx carry the rest
    for name in shown:
        table.add_column(FINDING_LABELS_VI[name])
    for r in records:
        table.add_row(*(str(vietnamese(r)[name]) for name in shown))
    return table
