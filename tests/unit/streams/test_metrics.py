"""Worker metrics: a private registry, and domain gauges from report rows."""

from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest

from streams.metrics import WorkerMetrics
from streams.rules.period import PeriodRow


def test_gauges_from_this_months_rows() -> None:
    metrics = WorkerMetrics()
    row = PeriodRow(
        "H44.100",
        "UBND Phường Việt Trì",
        finished_total=4,
        finished_early=1,
        finished_on_time=2,
        finished_late=1,
        in_progress_total=5,
        in_progress_overdue=2,
        waiting_supplement=1,
    )
    metrics.set_month([row, PeriodRow("H44.07", "Sở Công Thương")])
    text = generate_latest(metrics.registry).decode()
    assert 'motcua_open_dossiers{agency="H44.100"} 6.0' in text  # 5 in progress + 1 waiting
    assert 'motcua_overdue_dossiers{agency="H44.100"} 2.0' in text
    assert 'motcua_on_time_rate_month{agency="H44.100"} 0.75' in text  # (1 + 2) / 4
    assert 'motcua_on_time_rate_month{agency="H44.07"}' not in text  # nothing finished yet
    assert "motcua_" not in generate_latest(REGISTRY).decode()  # the global one stays clean
