"""The integrity findings as stored with the dossiers' facts (migration 0010):
one row per finding, read back for `motcua integrity`, the board and the
inspectors' alerts."""

from __future__ import annotations

from datetime import datetime

from streams.clickhouse.alerts import _utc
from streams.clickhouse.sql import DATABASE, NEVER, Engine, period_sql, sql_string, sql_time
from streams.rules.integrity import Finding, FindingKind

_ARRAYS = ("finding_kind", "finding_at", "finding_old", "finding_new", "finding_evidence")
_UNIT = ("agency_code", "district_code", "field_code", "procedure_code")


def findings_in_range_sql(s: str, e: str, where: str = "") -> str:
    """One row per finding observed in [s, e) (SQL DateTime expressions), with
    the dossier's codes; `where` filters on fact columns.

    A finding is observed while its dossier has events (a rewrite) or is open
    (late at its due), so it lies in one of the dossier's periods (they run to
    its latest event) or in `open_dossiers`: read from those, not a scan of
    every fact, each finding once (LIMIT BY; a dossier spans several periods).
    """
    only = f" AND ({where})" if where else ""
    columns = f"dossier_id, {', '.join(_ARRAYS)}, {', '.join(_UNIT)}"
    observed = f"finding_at >= {s} AND finding_at < {e}{only}"
    first, last = period_sql(f"toUInt32({s})"), period_sql(f"(toUInt32({e}) - 1)")
    return f"""
    SELECT {columns} FROM (
        SELECT {columns} FROM {DATABASE}.dossier_periods FINAL ARRAY JOIN {", ".join(_ARRAYS)}
        WHERE period >= {first} AND period <= {last} AND {observed}
        UNION ALL
        SELECT {columns} FROM {DATABASE}.open_dossiers FINAL ARRAY JOIN {", ".join(_ARRAYS)}
        WHERE end_at = {sql_time(NEVER)} AND {observed}
    )
    ORDER BY finding_at, dossier_id, finding_kind
    LIMIT 1 BY dossier_id, finding_kind"""


def findings_sql(start: datetime, end: datetime, agency: str | None = None) -> str:
    """Findings observed in [start, end), of one agency when given, in observed order."""
    where = f"agency_code = {sql_string(agency)}" if agency else ""
    return findings_in_range_sql(sql_time(start), sql_time(end), where)


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
