"""Board "diem-nong": late shares per field × district and the open hotspots."""

from __future__ import annotations

from typing import Any

from dashboards.panels import Layout, Local, active, board, table
from streams.clickhouse.sql import DATABASE

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


def hotspot_board(local: Local) -> dict[str, Any]:
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
    return board(
        "motcua-diem-nong", "Điểm nóng — hồ sơ trễ hạn theo lĩnh vực và huyện", layout, local
    )
