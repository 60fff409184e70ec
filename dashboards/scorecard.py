"""Board "chi-so-766": the 766 scorecard (METRICS.md §7) over the board's time
range, judged at its end like `motcua scorecard`, and the month's 2.1 forecast
with the dossiers that decide it, as `motcua forecast` computes them.

The SQL comes from streams.clickhouse.scorecard (the fragments `read_scorecard`
uses), with the procedure catalogue stored by `motcua catalogue load` (§7's
stand-ins for procedures it does not list, or without one) and the default
points table. The portal-only indicators (1.x, 3.5, 3.5b, 4.5a, 4.C, 5.2,
5.3) are not stored, so the board totals the indicators computed from
dossiers; `motcua scorecard --portal FILE` adds them.
"""

from __future__ import annotations

from typing import Any

from dashboards.panels import FILTER, Layout, Local, board, stat, table
from streams.clickhouse.scorecard import (
    STORED_CATALOGUE,
    at_risk_sql,
    forecast_units_sql,
    local_month_sql,
    scorecard_cells_sql,
)
from streams.rules.period import UnitKind

COMPUTED_NOTE = (
    "Các chỉ số tính từ dữ liệu hồ sơ (2.1, 3.3, 3.F, 3.6, 4.1–4.5b, 5.4) trong khoảng thời "
    "gian của bảng, xét tại cuối khoảng; danh mục thủ tục đã nạp (motcua catalogue load), "
    "không có thì dùng giá trị thay thế của METRICS.md §7. Các chỉ số chỉ Cổng Dịch vụ công "
    "quốc gia chấm (1.x, 3.5, 3.5b, 4.5a, 4.C, 5.2, 5.3) không có ở đây: dùng "
    "motcua scorecard --portal TỆP."
)
FORECAST_NOTE = (
    "Tháng đang chạy, tại thời điểm xem. Tốt nhất: mọi hồ sơ chưa ngã ngũ (đang giải quyết, "
    "hạn trước cuối tháng) kết thúc đúng hạn; xấu nhất: tất cả trễ hạn; dự kiến: đúng hạn "
    "theo tỷ lệ đúng hạn 90 ngày qua của đơn vị (trống nếu 90 ngày qua không có hồ sơ nào "
    "kết thúc). Giống motcua forecast."
)


def cells(by: UnitKind) -> str:
    return scorecard_cells_sql("$__fromTime", "$__toTime", by, FILTER, STORED_CATALOGUE)


def forecast(by: UnitKind, local: Local) -> str:
    start, end = local_month_sql(local.tz)
    return forecast_units_sql("now()", start, end, by, FILTER)


def at_risk(local: Local) -> str:
    start, end = local_month_sql(local.tz)
    return f"""
SELECT dossier_id AS "Mã hồ sơ", unit_name AS "Đơn vị", procedure_name AS "Thủ tục",
       toString(due, '{local.tz}') AS "Hạn giải quyết", points_saved AS "Điểm 2.1 giữ được"
FROM ({at_risk_sql("now()", start, end, UnitKind.AGENCY, FILTER)})
LIMIT 500
"""


def _described(panel: dict[str, Any], text: str) -> dict[str, Any]:
    panel["description"] = text
    return panel


def scorecard_board(local: Local) -> dict[str, Any]:
    province = cells(UnitKind.PROVINCE)
    layout = Layout()
    for title, expr in [
        ("Tổng điểm các chỉ số tính từ hồ sơ", "sum(points)"),
        ("Trên tối đa", "sumIf(max, isNotNull(points))"),
        ("Điểm mất", "sum(points_lost)"),
    ]:
        layout.add(_described(stat(title, expr, province, decimals=2), COMPUTED_NOTE), w=4, h=4)
    month = forecast(UnitKind.PROVINCE, local)
    for title, column in [
        ("Điểm 2.1 tháng này — tốt nhất", "best"),
        ("Điểm 2.1 tháng này — dự kiến", "expected"),
        ("Điểm 2.1 tháng này — xấu nhất", "worst"),
    ]:
        layout.add(_described(stat(title, column, month, decimals=2), FORECAST_NOTE), w=4, h=4)
    layout.add(
        _described(
            table(
                "Điểm từng chỉ số — toàn tỉnh",
                f"""
SELECT indicator AS "Chỉ số", indicator_name AS "Tên chỉ số", numerator AS "Tử số",
       denominator AS "Mẫu số", rate AS "Tỷ lệ (%)", target AS "Chỉ tiêu (%)",
       points AS "Điểm", max AS "Tối đa", points_lost AS "Điểm mất"
FROM ({province})
ORDER BY ordinal""",
            ),
            COMPUTED_NOTE,
        ),
        w=24,
        h=10,
    )
    agencies = cells(UnitKind.AGENCY)
    layout.add(
        _described(
            table(
                "Theo đơn vị: tổng điểm và điểm mất (mất nhiều nhất trước)",
                f"""
SELECT unit_code AS "Mã", any(unit_name) AS "Đơn vị", sum(points) AS "Tổng điểm",
       sumIf(max, isNotNull(points)) AS "Trên tối đa", sum(points_lost) AS "Điểm mất"
FROM ({agencies})
GROUP BY unit_code
ORDER BY "Điểm mất" DESC, unit_code""",
            ),
            COMPUTED_NOTE,
        ),
        w=24,
        h=10,
    )
    layout.add(
        _described(
            table(
                "Theo đơn vị và chỉ số: tỷ lệ, điểm, điểm mất",
                f"""
SELECT unit_code AS "Mã", unit_name AS "Đơn vị", indicator AS "Chỉ số",
       indicator_name AS "Tên chỉ số", numerator AS "Tử số", denominator AS "Mẫu số",
       rate AS "Tỷ lệ (%)", points AS "Điểm", max AS "Tối đa", points_lost AS "Điểm mất"
FROM ({agencies})
ORDER BY unit_code, ordinal""",
            ),
            COMPUTED_NOTE,
        ),
        w=24,
        h=12,
    )
    layout.add(
        _described(
            table(
                "Dự báo điểm 2.1 tháng này theo đơn vị",
                f"""
SELECT unit_code AS "Mã", unit_name AS "Đơn vị", denominator AS "Mẫu số 2.1",
       on_time AS "Đã chắc đúng hạn", late AS "Đã trễ hạn", undecided AS "Chưa ngã ngũ",
       share AS "Tỷ lệ đúng hạn 90 ngày (%)", best AS "Tốt nhất", expected AS "Dự kiến",
       worst AS "Xấu nhất"
FROM ({forecast(UnitKind.AGENCY, local)})
ORDER BY "Xấu nhất" ASC, unit_code""",
            ),
            FORECAST_NOTE,
        ),
        w=24,
        h=10,
    )
    layout.add(
        _described(
            table("Hồ sơ cần giải quyết đúng hạn trước (tháng này)", at_risk(local)),
            "Hồ sơ đang giải quyết, hạn trước cuối tháng, chưa quá hạn: giải quyết đúng hạn "
            "giữ cho đơn vị số điểm 2.1 ghi ở cột cuối (điểm của một hồ sơ đúng hạn thêm so "
            "với trường hợp xấu nhất); nhiều điểm nhất trước, rồi hạn sớm nhất.",
        ),
        w=24,
        h=12,
    )
    return board("motcua-chi-so-766", "Chỉ số 766 — bảng điểm và dự báo", layout, local)
