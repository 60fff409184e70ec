"""Shared defaults and builders of the Grafana boards (Grafana ClickHouse data
source, raw SQL with its macros); each board is a module beside this one and
dashboards.boards is their registry.

Every panel's SQL runs unchanged on ClickHouse 18.16 and on current
releases; tests expand the macros and run each one against real data.
The board's time range is the reporting period: [$__fromTime, $__toTime),
with each dossier judged at the end of the range (METRICS.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.settings import Settings
from streams.clickhouse.queries import active_facts_sql, period_counts_sql, unit_columns
from streams.clickhouse.rows import UNIT_KINDS
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import working_calendar
from streams.rules.period import UnitKind

DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "motcua-clickhouse"}
OPEN = f"{DATABASE}.open_dossiers FINAL"  # finished rows there are hidden by end_at > now()


@dataclass(frozen=True)
class Local:
    """The province's timezone and working-day length, as configured, so the
    boards bucket days and count average days like the CLI report does."""

    tz: str
    day_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> Local:
        """From the configured calendar (working_hours, timezone)."""
        calendar = working_calendar(settings)
        return cls(settings.timezone, int(calendar.day_length.total_seconds()))


# Template variables: one value, or '' for all (allValue); the values come from
# the units the workers record (streams.clickhouse.rows.UNIT_KINDS), each filters
# on its unit's code as the reports read it (commune: a commune's own dossiers too).
_LABELS = {
    "district": "Huyện",
    "area": "Khu vực",  # METRICS.md §8: the district before 1 July 2025
    "commune": "Xã/phường",
    "agency": "Đơn vị",
    "field": "Lĩnh vực",
    "level": "Cấp",
}
assert set(_LABELS) == set(UNIT_KINDS)
VARIABLES = {name: (label, unit_columns(UnitKind(name))[0]) for name, label in _LABELS.items()}
FILTER = " AND ".join(
    f"('${{{name}}}' = '' OR {code} = '${{{name}}}')" for name, (_, code) in VARIABLES.items()
)

# Rates over a counts subquery (METRICS.md §4); NULL where the denominator is 0.
RATES = {
    "on_time_rate": ("finished_early + finished_on_time", "finished_total"),
    "late_rate": ("finished_late", "finished_total"),
    "progress_ratio_766": (
        "finished_early + finished_on_time + in_progress_within_due + waiting_supplement_on_time",
        "finished_total + in_progress_total + waiting_supplement",
    ),
    "online_rate": ("received_online", "received_total"),
    "full_online_rate": ("received_full_service_online", "received_full_service"),
    "online_payment_rate": ("received_paid_online", "received_with_fee"),
    "digitized_rate": ("received_digitized", "received_total"),
}


def rate(name: str) -> str:
    num, den = RATES[name]
    return f"if(({den}) = 0, NULL, 100 * ({num}) / ({den}))"


SCORE_766 = f"{rate('progress_ratio_766')} * 20 / 100"


def avg_days(local: Local) -> str:
    """Average processing time in working days of the configured length."""
    return (
        f"if(finished_total = 0, NULL, processing_seconds / finished_total / {local.day_seconds})"
    )


def counts(by: UnitKind, start: str = "$__fromTime", end: str = "$__toTime") -> str:
    return period_counts_sql(start, end, by, FILTER)


def active(columns: tuple[str, ...], extra: str = "") -> str:
    """The filtered dossiers active in the board's range, each once (latest facts)."""
    return active_facts_sql("$__fromTime", "$__toTime", FILTER + extra, columns)


# -- panel building ---------------------------------------------------------------


class Layout:
    """Places panels left to right on Grafana's 24-column grid, with unique ids."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = self.y = self.row_height = 0

    def add(self, panel: dict[str, Any], w: int, h: int) -> None:
        if self.x + w > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.panels.append(panel)
        self.x += w
        self.row_height = max(self.row_height, h)


def _panel(kind: str, title: str, sql: str, table: bool, **defaults: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "targets": [
            {
                "refId": "A",
                "datasource": DATASOURCE,
                "editorType": "sql",
                "format": 1 if table else 0,
                "queryType": "table" if table else "timeseries",
                "rawSql": sql.strip(),
            }
        ],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {},
    }


def stat(title: str, expr: str, source: str, unit: str = "none", decimals: int = 0) -> dict:
    panel = _panel(
        "stat", title, f"SELECT {expr} AS value FROM ({source})", True, unit=unit, decimals=decimals
    )
    panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "/^value$/"}}
    return panel


def table(title: str, sql: str, **defaults: Any) -> dict:
    return _panel("table", title, sql, True, **defaults)


def timeseries(title: str, sql: str, **defaults: Any) -> dict:
    return _panel("timeseries", title, sql, False, **defaults)


def variable(name: str) -> dict[str, Any]:
    label = VARIABLES[name][0]
    # from the small units table the workers keep, not a scan of every fact
    sql = (
        f"SELECT code AS __value, argMax(name, seen_at) AS __text FROM {DATABASE}.units "
        f"WHERE kind = '{name}' GROUP BY code ORDER BY __text"
    )
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": sql,
        "definition": sql,
        "includeAll": True,
        "allValue": "",
        "multi": False,
        "refresh": 1,
        "current": {"selected": True, "text": "Tất cả", "value": "$__all"},
    }


def board(
    uid: str, title: str, layout: Layout, local: Local, time_from: str = "now/M"
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["motcua", "TTHC"],
        "timezone": local.tz,
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": [variable(n) for n in VARIABLES]},
        "panels": layout.panels,
        "refresh": "1m",
    }


# -- SQL shared by several boards ------------------------------------------------------

_UNIT_TABLE = """
SELECT unit_code AS "Mã", unit_name AS "{label}", received_total AS "Tiếp nhận",
       finished_total AS "Đã giải quyết", finished_late AS "Quá hạn",
       in_progress_overdue AS "Đang quá hạn", waiting_supplement AS "Chờ bổ sung",
       {on_time} AS "Tỷ lệ đúng hạn (%)", {progress} AS "Tiến độ 766 (%)",
       {online} AS "Tỷ lệ trực tuyến (%)", {avg} AS "TG giải quyết TB (ngày)"
FROM ({counts})
ORDER BY "Tỷ lệ đúng hạn (%)" ASC, unit_code
"""


def unit_table(by: UnitKind, label: str, local: Local) -> str:
    return _UNIT_TABLE.format(
        label=label,
        on_time=rate("on_time_rate"),
        progress=rate("progress_ratio_766"),
        online=rate("online_rate"),
        avg=avg_days(local),
        counts=counts(by),
    )


_STANDING_NOW = "change_standing[arrayCount(x -> x < now(), change_at)]"


def dossier_list(condition: str, local: Local) -> str:
    """Unfinished dossiers standing as `condition` says now, nearest due first."""
    return f"""
SELECT dossier_id AS "Mã hồ sơ", agency_name AS "Đơn vị", procedure_name AS "Thủ tục",
       field_name AS "Lĩnh vực", toString(due, '{local.tz}') AS "Hạn giải quyết",
       round((toUInt32(now()) - toUInt32(due)) / 3600, 1) AS "Số giờ so với hạn"
FROM {OPEN}
WHERE end_at > now() AND {condition} AND {FILTER}
ORDER BY due, dossier_id
LIMIT 500
"""


def overdue_now(local: Local) -> str:
    return dossier_list(f"{_STANDING_NOW} = 'overdue'", local)


def due_soon_now(local: Local) -> str:
    """Boards show "due within the next 24 hours"; the inspector alerts use the
    exact working-time rule (METRICS.md §6)."""
    return dossier_list(f"{_STANDING_NOW} = 'within_due' AND due <= now() + 86400", local)
