"""The integrity findings as stored with the dossiers' facts (migration 0010):
one row per finding, read back for `motcua integrity`, the board and the
inspectors' alerts."""

from __future__ import annotations

from datetime import datetime

from streams.alert_store import _utc
from streams.integrity import Finding, FindingKind
from streams.store import DATABASE, Engine, sql_string, sql_time

_ARRAYS = ("finding_kind", "finding_at", "finding_old", "finding_new", "finding_evidence")
_UNIT = ("agency_code", "district_code", "field_code", "procedure_code")


def findings_sql(start: datetime, end: datetime, agency: str | None = None) -> str:
    """Findings observed in [start, end), of one agency when given, in observed order."""
    unit = f" AND agency_code = {sql_string(agency)}" if agency else ""
    return (
        f"SELECT dossier_id, {', '.join(_ARRAYS)}, {', '.join(_UNIT)} "
        f"FROM {DATABASE}.dossier_facts FINAL ARRAY JOIN {', '.join(_ARRAYS)} "
        f"WHERE finding_at >= {sql_time(start)} AND finding_at < {sql_time(end)}{unit} "
        "ORDER BY finding_at, dossier_id, finding_kind"
    )


def read_findings(
    engine: Engine, start: datetime, end: datetime, agency: str | None = None
) -> list[Finding]:
    return [
        Finding(
            dossier_id,
            FindingKind(kind),
            _utc(at) or start,
            old,
            new,
            tuple(evidence.split()),
            agency_code,
            district_code,
            field_code,
            procedure_code,
        )
        for (
            dossier_id, kind, at, old, new, evidence,
            agency_code, district_code, field_code, procedure_code,
        ) in engine.rows(findings_sql(start, end, agency))
    ]  # fmt: skip
