"""Board "don-vi": one agency's fields, procedures and dossiers needing action."""

from __future__ import annotations

from typing import Any

from dashboards.panels import (
    Layout,
    Local,
    board,
    counts,
    due_soon_now,
    overdue_now,
    rate,
    stat,
    table,
    unit_table,
)
from streams.rules.period import UnitKind


def agency_board(local: Local) -> dict[str, Any]:
    period = counts(UnitKind.PROVINCE)
    layout = Layout()
    layout.add(stat("Tỷ lệ đúng hạn", rate("on_time_rate"), period, "percent", 2), w=6, h=4)
    layout.add(stat("Tiến độ 766", rate("progress_ratio_766"), period, "percent", 2), w=6, h=4)
    layout.add(stat("Đang quá hạn", "in_progress_overdue", period), w=6, h=4)
    layout.add(stat("Chờ bổ sung", "waiting_supplement", period), w=6, h=4)
    layout.add(table("Theo lĩnh vực", unit_table(UnitKind.FIELD, "Lĩnh vực", local)), w=12, h=10)
    layout.add(table("Theo thủ tục", unit_table(UnitKind.PROCEDURE, "Thủ tục", local)), w=12, h=10)
    layout.add(table("Hồ sơ đang quá hạn", overdue_now(local)), w=24, h=10)
    layout.add(table("Hồ sơ sắp đến hạn (24 giờ tới)", due_soon_now(local)), w=24, h=10)
    return board("motcua-don-vi", "Đơn vị — chi tiết theo lĩnh vực, thủ tục, hồ sơ", layout, local)
