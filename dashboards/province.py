"""Board "toan-tinh": the province at a glance, for the leadership."""

from __future__ import annotations

from typing import Any

from dashboards.panels import (
    SCORE_766,
    Layout,
    Local,
    active,
    board,
    counts,
    rate,
    stat,
    table,
    timeseries,
    unit_table,
)
from streams.rules.period import UnitKind


def province_board(local: Local) -> dict[str, Any]:
    period = counts(UnitKind.PROVINCE)
    today = counts(UnitKind.PROVINCE, f"toStartOfDay(now(), '{local.tz}')", "now()")
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
SELECT toStartOfDay(received_at, '{local.tz}') AS time, count() AS "Tiếp nhận"
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
SELECT toStartOfDay(end_at, '{local.tz}') AS time, count() AS "Đã giải quyết",
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
            "Theo đơn vị (tỷ lệ đúng hạn thấp nhất trước)",
            unit_table(UnitKind.AGENCY, "Đơn vị", local),
        ),
        w=24,
        h=12,
    )
    return board("motcua-toan-tinh", "Toàn tỉnh — tình hình giải quyết hồ sơ TTHC", layout, local)
