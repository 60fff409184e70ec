"""Board "canh-bao": open alerts and integrity findings, for the inspectors."""

from __future__ import annotations

from typing import Any

from dashboards.panels import FILTER, OPEN, Layout, Local, board, overdue_now, table
from streams.clickhouse.findings import findings_in_range_sql
from streams.clickhouse.sql import DATABASE
from streams.rules.integrity import FINDING_NAMES_VI

_KINDS = list(FINDING_NAMES_VI)


def findings(local: Local) -> str:
    """Integrity findings observed in the range and already past (METRICS.md §9)."""
    return f"""
SELECT toString(finding_at, '{local.tz}') AS "Thời điểm phát hiện",
       transform(finding_kind, {_KINDS!r}, {[FINDING_NAMES_VI[k] for k in _KINDS]!r},
                 finding_kind) AS "Dấu hiệu",
       dossier_id AS "Mã hồ sơ", agency_code AS "Đơn vị", finding_old AS "Giá trị ghi nhận lần đầu",
       finding_new AS "Giá trị báo cáo sau"
FROM ({findings_in_range_sql("$__fromTime", "least($__toTime, now())", FILTER)})
ORDER BY finding_at DESC
LIMIT 200
"""


def alerts_board(local: Local) -> dict[str, Any]:
    open_alerts = f"""
FROM {DATABASE}.alerts FINAL
WHERE kind IN ('due_soon', 'overdue') AND $__timeFilter(raised_at)
  AND dossier_id IN (SELECT dossier_id FROM {OPEN} WHERE end_at > now())
  AND ('${{district}}' = '' OR district_code = '${{district}}')
  AND ('${{area}}' = '' OR district_code = '${{area}}')
  AND ('${{commune}}' = '' OR commune_code = '${{commune}}')
  AND ('${{agency}}' = '' OR agency_code = '${{agency}}')"""
    layout = Layout()
    layout.add(
        table(
            "Cảnh báo đang mở theo huyện, khu vực",
            f"""
SELECT district_code AS "Huyện, khu vực", countIf(kind = 'overdue') AS "Quá hạn",
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
       agency_code AS "Đơn vị", commune_code AS "Xã/phường", procedure_code AS "Thủ tục",
       hours_late AS "Số giờ trễ",
       summary AS "Nội dung"
{open_alerts}
ORDER BY raised_at DESC LIMIT 200""",
        ),
        w=14,
        h=10,
    )
    layout.add(table("Hồ sơ đang quá hạn", overdue_now(local)), w=24, h=10)
    layout.add(table("Dấu hiệu sửa hồ sơ sau khi đã ghi nhận", findings(local)), w=24, h=10)
    return board("motcua-canh-bao", "Cảnh báo — cho thanh tra", layout, local, time_from="now-7d")
