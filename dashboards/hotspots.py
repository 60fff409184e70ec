"""Board "diem-nong": late shares per field × district, × area and × commune
(METRICS.md §5, §8) and the open hotspots of every cell kind."""

from __future__ import annotations

from typing import Any

from dashboards.panels import Layout, Local, active, board, table
from streams.clickhouse.queries import unit_columns
from streams.clickhouse.sql import DATABASE
from streams.rules.period import UnitKind

_CELL_COLUMNS = (
    "field_name", "district_code", "district_name", "commune_code", "commune_name", "level",
    "agency_code", "agency_name", "end_at", "final_standing", "change_at", "change_standing",
)  # fmt: skip
PLACE_LABELS = {UnitKind.DISTRICT: "Huyện", UnitKind.AREA: "Khu vực", UnitKind.COMMUNE: "Xã/phường"}
CELL_KIND_NAMES = {"district": "Huyện/khu vực", "area": "Khu vực", "commune": "Xã/phường"}


def cell_late_share(extra: str = "", by: UnitKind = UnitKind.DISTRICT) -> str:
    """Late share per field × district, area or commune (METRICS.md §5, §8):
    dossiers finished in the range plus those in progress at its end; late =
    finished late or overdue. A commune is named as the reports name it."""
    place = unit_columns(by)[1]
    return f"""
SELECT field_name AS "Lĩnh vực", place AS "{PLACE_LABELS[by]}", count() AS "Hồ sơ",
       countIf(late) AS "Trễ hạn", 100 * countIf(late) / count() AS "Tỷ lệ trễ (%)"
FROM
(
    SELECT field_name, {place} AS place,
           end_at < $__toTime AS finished,
           end_at >= $__fromTime AS in_range,
           change_standing[arrayCount(x -> x < $__toTime, change_at)] AS standing,
           (finished AND final_standing = 'late') OR (NOT finished AND standing = 'overdue')
               AS late
    FROM ({active(_CELL_COLUMNS, extra)})
)
WHERE (finished AND in_range) OR (NOT finished AND standing IN ('within_due', 'overdue'))
GROUP BY field_name, place
ORDER BY "Tỷ lệ trễ (%)" DESC, field_name, place
"""


def _shares(title: str, sql: str) -> dict[str, Any]:
    cells = table(title, sql)
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
    return cells


def hotspot_board(local: Local) -> dict[str, Any]:
    layout = Layout()
    layout.add(_shares("Tỷ lệ trễ hạn theo lĩnh vực × huyện", cell_late_share()), w=24, h=12)
    land = cell_late_share(" AND field_name = 'Đất đai'")
    layout.add(table("Đất đai theo huyện", land), w=12, h=10)
    codes = ", ".join(f"'{k}'" for k in CELL_KIND_NAMES)
    names = ", ".join(f"'{v}'" for v in CELL_KIND_NAMES.values())
    layout.add(
        table(
            "Điểm nóng đang mở",
            f"""
SELECT transform(cell_kind, [{codes}], [{names}], cell_kind) AS "Loại ô",
       field_code AS "Lĩnh vực", district_code AS "Nơi", max(at) AS "Mở lúc",
       argMax(cell_late, at) AS "Trễ", argMax(cell_total, at) AS "Hồ sơ",
       100 * argMax(wilson_lower, at) AS "Cận dưới Wilson (%)",
       100 * argMax(baseline, at) AS "Mức nền toàn tỉnh (%)"
FROM {DATABASE}.hotspots FINAL
WHERE ('${{district}}' = '' OR district_code = '${{district}}')
  AND ('${{area}}' = '' OR cell_kind = 'commune' OR district_code = '${{area}}')
  AND ('${{commune}}' = '' OR (cell_kind = 'commune' AND district_code = '${{commune}}'))
  AND ('${{field}}' = '' OR field_code = '${{field}}')
GROUP BY cell_kind, field_code, district_code
HAVING argMax(state, at) = 'opened'
ORDER BY "Mở lúc" DESC""",
        ),
        w=12,
        h=10,
    )
    # two-tier units (METRICS.md §8): the same late shares per field × area and × commune
    layout.add(
        _shares("Tỷ lệ trễ hạn theo lĩnh vực × khu vực", cell_late_share(by=UnitKind.AREA)),
        w=12,
        h=12,
    )
    layout.add(
        _shares("Tỷ lệ trễ hạn theo lĩnh vực × xã/phường", cell_late_share(by=UnitKind.COMMUNE)),
        w=12,
        h=12,
    )
    return board(
        "motcua-diem-nong",
        "Điểm nóng — hồ sơ trễ hạn theo lĩnh vực và huyện, khu vực, xã/phường",
        layout,
        local,
    )
