"""Prometheus metrics of a worker, in a private registry (no process-global state).

Label cardinality stays bounded: partitions, outcomes, and agency codes (a
province has a few hundred units at most).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from streams.rules.alerts import InspectorAlert
from streams.rules.period import PeriodRow


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._due_soon_agencies: set[str] = set()
        r = self.registry
        self.events = Counter(
            "motcua_events_total", "Dossier events consumed", ["outcome"], registry=r
        )  # outcome: new, duplicate, dead_letter
        self.batches = Counter("motcua_batches_total", "Batches stored", registry=r)
        self.sink_seconds = Histogram(
            "motcua_sink_batch_seconds",
            "Time to store one batch in ClickHouse",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.sink_failures = Counter(
            "motcua_sink_failures_total", "Failed ClickHouse writes (retried)", registry=r
        )
        self.lag = Gauge(
            "motcua_consumer_lag", "Messages not yet processed", ["partition"], registry=r
        )
        self.last_batch = Gauge(
            "motcua_last_batch_timestamp_seconds", "When the last batch was stored", registry=r
        )
        self.open = Gauge("motcua_open_dossiers", "Unfinished dossiers", ["agency"], registry=r)
        self.overdue = Gauge(
            "motcua_overdue_dossiers",
            "Dossiers in progress past their due",
            ["agency"],
            registry=r,
        )
        self.on_time_rate = Gauge(
            "motcua_on_time_rate_month",
            "On-time rate of this month (0-1)",
            ["agency"],
            registry=r,
        )

        self.due_soon = Gauge(
            "motcua_due_soon_dossiers",
            "Dossiers in progress within the due-soon horizon of their due",
            ["agency"],
            registry=r,
        )
        self.alerts = Counter(
            "motcua_inspector_alerts_total", "Inspector alerts raised", ["kind"], registry=r
        )
        self.watch_failures = Counter(
            "motcua_watch_failures_total", "Watch steps that failed (retried)", registry=r
        )

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        start_http_server(port, addr=host, registry=self.registry)

    def set_month(self, rows: list[PeriodRow]) -> None:
        """Domain gauges from this month's per-agency report rows."""
        for row in rows:
            agency = row.unit_code
            self.open.labels(agency).set(row.in_progress_total + row.waiting_supplement)
            self.overdue.labels(agency).set(row.in_progress_overdue)
            if row.on_time_rate is not None:
                self.on_time_rate.labels(agency).set(float(row.on_time_rate) / 100)

    def observe_watch(self, alerts: Sequence[InspectorAlert], due_soon: Mapping[str, int]) -> None:
        for a in alerts:
            self.alerts.labels(a.kind).inc()
        for agency in self._due_soon_agencies - due_soon.keys():
            self.due_soon.labels(agency).set(0)
        for agency, count in due_soon.items():
            self.due_soon.labels(agency).set(count)
        self._due_soon_agencies = set(due_soon)
