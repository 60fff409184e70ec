"""Grafana boards as code (Grafana ClickHouse data source, raw SQL with its
macros). `python -m dashboards.boards` writes the JSON committed under
dashboards/json/, which Grafana provisions from deploy/grafana/.

Every panel's SQL runs unchanged on ClickHouse 18.16 and on current
releases; tests expand the macros and run each one against real data.
The board's time range is the reporting period: [$__fromTime, $__toTime),
with each dossier judged at the end of the range (METRICS.md §4).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streams.clickhouse.findings import findings_in_range_sql
from streams.clickhouse.queries import active_facts_sql, period_counts_sql
from streams.clickhouse.rows import UNIT_KINDS
from streams.clickhouse.sql import DATABASE
from streams.rules.integrity import FINDING_NAMES_VI
from streams.rules.period import UnitKind

DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "motcua-clickhouse"}
TZ = "Asia/Ho_Chi_Minh"
DAY_SECONDS = 8 * 3600  # a working day of the default calendar
OPEN = f"{DATABASE}.open_dossiers FINAL"  # finished rows there are hidden by end_at > now()
JSON_DIR = Path(__file__).resolve().parent / "json"

# Template variables: one value, or '' for all (allValue); the fact column
# each filters on comes from the units the workers record (streams.clickhouse.rows).
_LABELS = {"district": "Huyện", "agency": "Đơn vị", "field": "Lĩnh vực", "level": "Cấp"}
VARIABLES = {name: (label, UNIT_KINDS[name][0]) for name, label in _LABELS.items()}
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
AVG_DAYS = f"if(finished_total = 0, NULL, processing_seconds / finished_total / {DAY_SECONDS})"


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


def board(uid: str, title: str, layout: Layout, time_from: str = "now/M") -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["motcua", "TTHC"],
        "timezone": TZ,
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": [variable(n) for n in VARIABLES]},
        "panels": layout.panels,
        "refresh": "1m",
    }


# -- the boards ---------------------------------------------------------------------

_UNIT_TABLE = """
SELECT unit_code AS "Mã", unit_name AS "{label}", received_total AS "Tiếp nhận",
       finished_total AS "Đã giải quyết", finished_late AS "Quá hạn",
       in_progress_overdue AS "Đang quá hạn", waiting_supplement AS "Chờ bổ sung",
       {on_time} AS "Tỷ lệ đúng hạn (%)", {progress} AS "Tiến độ 766 (%)",
       {online} AS "Tỷ lệ trực tuyến (%)", {avg} AS "TG giải quyết TB (ngày)"
FROM ({counts})
ORDER BY "Tỷ lệ đúng hạn (%)" ASC, unit_code
"""


def unit_table(by: UnitKind, label: str) -> str:
    return _UNIT_TABLE.format(
        label=label,
        on_time=rate("on_time_rate"),
        progress=rate("progress_ratio_766"),
        online=rate("online_rate"),
        avg=AVG_DAYS,
        counts=counts(by),
    )


def province_board() -> dict[str, Any]:
    period = counts(UnitKind.PROVINCE)
    today = counts(UnitKind.PROVINCE, f"toStartOfDay(now(), '{TZ}')", "now()")
    layout = Layout()
    for title, expr, source in [
        ("Tiếp nhận hôm nay", "received_total", today),
        ("Giải quyết hôm nay", "finished_total", today),
        ("Tiếp nhận trong kỳ", "received_total", period),
        ("Đã giải quyết trong kỳ", "finished_total", period),
        ("Đúng hạn", "finished_early + finished_on_time", period),
        ("Quá hạn", "finished_late", period),
    ]:
        layout.add(stat(title, expr, source), w=4, h=4)
    for title, expr in [
        ("Tỷ lệ đúng hạn", rate("on_time_rate")),
        ("Tỷ lệ trực tuyến", rate("online_rate")),
        ("Tỷ lệ trực tuyến toàn trình", rate("full_online_rate")),
        ("Tiến độ giải quyết 766", rate("progress_ratio_766")),
    ]:
        layout.add(stat(title, expr, period, unit="percent", decimals=2), w=5, h=4)
    layout.add(stat("Điểm tiến độ 766 (/20)", SCORE_766, period, decimals=2), w=4, h=4)
    layout.add(
        timeseries(
            "Tiếp nhận theo ngày",
            f"""
SELECT toStartOfDay(received_at, '{TZ}') AS time, count() AS "Tiếp nhận"
FROM ({active(("received_at",))})
WHERE received_at >= $__fromTime
GROUP BY time ORDER BY time""",
        ),
        w=12,
        h=8,
    )
    layout.add(
        timeseries(
            "Giải quyết và tỷ lệ đúng hạn theo ngày",
            f"""
SELECT toStartOfDay(end_at, '{TZ}') AS time, count() AS "Đã giải quyết",
       100 * countIf(final_standing IN ('early', 'on_time')) / count() AS "Tỷ lệ đúng hạn (%)"
FROM ({active(("end_at", "final_standing"))})
WHERE end_at < $__toTime
GROUP BY time ORDER BY time""",
        ),
        w=12,
        h=8,
    )
    layout.add(
        table(
            "Theo đơn vị (tỷ lệ đúng hạn thấp nhất trước)", unit_table(UnitKind.AGENCY, "Đơn vị")
        ),
        w=24,
        h=12,
    )
    return board("motcua-toan-tinh", "Toàn tỉnh — tình hình giải quyết hồ sơ TTHC", layout)


_STANDING_NOW = "change_standing[arrayCount(x -> x < now(), change_at)]"


def dossier_list(condition: str) -> str:
    """Unfinished dossiers standing as `condition` says now, nearest due first."""
    return f"""
SELECT dossier_id AS "Mã hồ sơ", agency_name AS "Đơn vị", procedure_name AS "Thủ tục",
       field_name AS "Lĩnh vực", toString(due, '{TZ}') AS "Hạn giải quyết",
       round((toUInt32(now()) - toUInt32(due)) / 3600, 1) AS "Số giờ so với hạn"
FROM {OPEN}
WHERE end_at > now() AND {condition} AND {FILTER}
ORDER BY due, dossier_id
LIMIT 500
"""


OVERDUE_NOW = dossier_list(f"{_STANDING_NOW} = 'overdue'")
# Boards show "due within the next 24 hours"; the inspector alerts use the
# exact working-time rule (METRICS.md §6).
DUE_SOON_NOW = dossier_list(f"{_STANDING_NOW} = 'within_due' AND due <= now() + 86400")


def agency_board() -> dict[str, Any]:
    period = counts(UnitKind.PROVINCE)
    layout = Layout()
    layout.add(stat("Tỷ lệ đúng hạn", rate("on_time_rate"), period, "percent", 2), w=6, h=4)
    layout.add(stat("Tiến độ 766", rate("progress_ratio_766"), period, "percent", 2), w=6, h=4)
    layout.add(stat("Đang quá hạn", "in_progress_overdue", period), w=6, h=4)
    layout.add(stat("Chờ bổ sung", "waiting_supplement", period), w=6, h=4)
    layout.add(table("Theo lĩnh vực", unit_table(UnitKind.FIELD, "Lĩnh vực")), w=12, h=10)
    layout.add(table("Theo thủ tục", unit_table(UnitKind.PROCEDURE, "Thủ tục")), w=12, h=10)
    layout.add(table("Hồ sơ đang quá hạn", OVERDUE_NOW), w=24, h=10)
    layout.add(table("Hồ sơ sắp đến hạn (24 giờ tới)", DUE_SOON_NOW), w=24, h=10)
    return board("motcua-don-vi", "Đơn vị — chi tiết theo lĩnh vực, thủ tục, hồ sơ", layout)


_CELL_COLUMNS = (
    "field_name", "district_name", "end_at", "final_standing", "change_at", "change_standing",
)  # fmt: skip


def cell_late_share(extra: str = "") -> str:
    """Late share per field × district (METRICS.md §5): dossiers finished in the
    range plus those in progress at its end; late = finished late or overdue."""
    return f"""
SELECT field_name AS "Lĩnh vực", district_name AS "Huyện", count() AS "Hồ sơ",
       countIf(late) AS "Trễ hạn", 100 * countIf(late) / count() AS "Tỷ lệ trễ (%)"
FROM
(
    SELECT field_name, district_name,
           end_at < $__toTime AS finished,
           end_at >= $__fromTime AS in_range,
           change_standing[arrayCount(x -> x < $__toTime, change_at)] AS standing,
           (finished AND final_standing = 'late') OR (NOT finished AND standing = 'overdue')
               AS late
    FROM ({active(_CELL_COLUMNS, extra)})
)
WHERE (finished AND in_range) OR (NOT finished AND standing IN ('within_due', 'overdue'))
GROUP BY field_name, district_name
ORDER BY "Tỷ lệ trễ (%)" DESC, field_name, district_name
"""


def hotspot_board() -> dict[str, Any]:
    layout = Layout()
    cells = table("Tỷ lệ trễ hạn theo lĩnh vực × huyện", cell_late_share())
    cells["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": "Tỷ lệ trễ (%)"},
            "properties": [
                {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                {"id": "color", "value": {"mode": "continuous-GrYlRd"}},
                {"id": "unit", "value": "percent"},
                {"id": "decimals", "value": 2},
            ],
        }
    ]
    layout.add(cells, w=24, h=12)
    land = cell_late_share(" AND field_name = 'Đất đai'")
    layout.add(table("Đất đai theo huyện", land), w=12, h=10)
    layout.add(
        table(
            "Điểm nóng đang mở",
            f"""
SELECT field_code AS "Lĩnh vực", district_code AS "Huyện", max(at) AS "Mở lúc",
       argMax(cell_late, at) AS "Trễ", argMax(cell_total, at) AS "Hồ sơ",
       100 * argMax(wilson_lower, at) AS "Cận dưới Wilson (%)",
       100 * argMax(baseline, at) AS "Mức nền toàn tỉnh (%)"
FROM {DATABASE}.hotspots FINAL
WHERE ('${{district}}' = '' OR district_code = '${{district}}')
  AND ('${{field}}' = '' OR field_code = '${{field}}')
GROUP BY field_code, district_code
HAVING argMax(state, at) = 'opened'
ORDER BY "Mở lúc" DESC""",
        ),
        w=12,
        h=10,
    )
    return board("motcua-diem-nong", "Điểm nóng — hồ sơ trễ hạn theo lĩnh vực và huyện", layout)


def alerts_board() -> dict[str, Any]:
    open_alerts = f"""
FROM {DATABASE}.alerts FINAL
WHERE kind IN ('due_soon', 'overdue') AND $__timeFilter(raised_at)
  AND dossier_id IN (SELECT dossier_id FROM {OPEN} WHERE end_at > now())
  AND ('${{district}}' = '' OR district_code = '${{district}}')
  AND ('${{agency}}' = '' OR agency_code = '${{agency}}')"""
    layout = Layout()
    layout.add(
        table(
            "Cảnh báo đang mở theo huyện",
            f"""
SELECT district_code AS "Huyện", countIf(kind = 'overdue') AS "Quá hạn",
       countIf(kind = 'due_soon') AS "Sắp đến hạn"
{open_alerts}
GROUP BY district_code ORDER BY "Quá hạn" DESC""",
        ),
        w=10,
        h=10,
    )
    layout.add(
        table(
            "Cảnh báo mới nhất",
            f"""
SELECT raised_at AS "Thời điểm", kind AS "Loại", dossier_id AS "Mã hồ sơ",
       agency_code AS "Đơn vị", procedure_code AS "Thủ tục", hours_late AS "Số giờ trễ",
       summary AS "Nội dung"
{open_alerts}
ORDER BY raised_at DESC LIMIT 200""",
        ),
        w=14,
        h=10,
    )
    layout.add(table("Hồ sơ đang quá hạn", OVERDUE_NOW), w=24, h=10)
    layout.add(table("Dấu hiệu sửa hồ sơ sau khi đã ghi nhận", FINDINGS), w=24, h=10)
    return board("motcua-canh-bao", "Cảnh báo — cho thanh tra", layout, time_from="now-7d")


_KINDS = list(FINDING_NAMES_VI)
# Integrity findings observed in the range and already past (METRICS.md §9)
FINDINGS = f"""
SELECT toString(finding_at, '{TZ}') AS "Thời điểm phát hiện",
       transform(finding_kind, {_KINDS!r}, {[FINDING_NAMES_VI[k] for k in _KINDS]!r},
                 finding_kind) AS "Dấu hiệu",
       dossier_id AS "Mã hồ sơ", agency_code AS "Đơn vị", finding_old AS "Giá trị ghi nhận lần đầu",
       finding_new AS "Giá trị báo cáo sau"
FROM ({findings_in_range_sql("$__fromTime", "least($__toTime, now())", FILTER)})
ORDER BY finding_at DESC
LIMIT 200
"""


BOARDS = {
    "toan-tinh": province_board,
    "don-vi": agency_board,
    "diem-nong": hotspot_board,
    "canh-bao": alerts_board,
}


def render_all() -> dict[str, str]:
    """Board file name → JSON text, as committed."""
    return {
        f"{name}.json": json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
        for name, build in BOARDS.items()
    }


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path)
