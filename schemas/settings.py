"""Deployment settings, read from the environment (prefix MOTCUA_) or a .env file.

Lists are given as JSON in the environment, e.g.
MOTCUA_EXTRA_DAYS_OFF='["2026-05-04"]', MOTCUA_WORKING_HOURS='["07:30-11:30","13:00-17:00"]'.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _parse_span(text: str) -> tuple[time, time]:
    try:
        start, end = text.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"working hours span must look like 07:00-11:30, got {text!r}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_file=".env", extra="ignore")

    province_code: str = "ALL"
    province_name: str = "Toàn tỉnh"
    timezone: str = "Asia/Ho_Chi_Minh"
    working_hours: list[str] = ["07:00-11:30", "13:30-17:00"]
    # Province-announced swaps on top of the national calendar.
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []

    # -- broker (the embedded default is a local Tansu; production: a Kafka cluster)
    app_id: str = "motcua"
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: Path | None = None
    events_topic: str = "dossier-events"
    dead_letter_topic: str = "dossier-dead-letters"
    alerts_topic: str = "dossier-alerts"
    topic_partitions: int = 4
    topic_replication_factor: int = 1
    broker_session_timeout: float = 60.0
    broker_heartbeat_interval: float = 3.0
    broker_rebalance_timeout: float = 60.0
    # -- workers
    data_dir: Path = Path(".data/worker")
    # apply the migrations as the administrator at start (needs the admin's
    # credentials). Off: a worker holds only the writer's, and refuses to start
    # on a schema `motcua migrate` has not brought up to date.
    worker_migrate: bool = False
    # open dossiers' histories kept in memory (the rest is read from raw_events)
    cached_histories: int = 500_000
    batch_max_events: int = 10000  # bench: 10k stores 30% faster than 5k in a backfill
    batch_max_seconds: float = 0.5
    # `motcua backfill`'s batches: a dossier touched in fewer batches is folded
    # fewer times (bench/process_cpu.py: 50k events a batch cost ~35% less CPU
    # per event than 10k); it holds two such batches (one being stored)
    backfill_batch_events: int = 50_000
    commit_interval: float = 1.0
    log_level: str = "WARNING"
    metrics_port: int = 0  # Prometheus /metrics of the worker; 0 = off
    metrics_host: str = "127.0.0.1"
    rollup_interval: float = 300.0  # seconds between refreshes of this month's rollups
    open_cleanup_interval: float = 600.0  # seconds between drops of finished open_dossiers rows
    # -- inspectors' watch (deadline alerts, hotspots; streams/watcher.py)
    watch_interval: float = 30.0  # seconds between watch steps (target: overdue in AM ≤ 60 s)
    watch_clock: Literal["wall", "event"] = "wall"  # event: replayed history's own time
    watch_lookback_hours: float = 24.0  # wall clock, first start: alerts this far back
    # wall clock: steps end this far behind now, so the events of an instant
    # (a clock restart's new due) are stored before the watch passes it;
    # event clock: it moves only after the stored progress held still this long
    watch_settle_seconds: float = 5.0
    watch_max_step_days: float = 7.0  # a long catch-up goes in steps of at most this
    due_soon_hours: float = 8.0  # working hours before the due; 0 = no due-soon alerts
    overdue_reminder: bool = True
    reminder_every_working_day: bool = True
    hotspot_window_days: int = 30
    hotspot_min_total: int = 20
    hotspot_every_minutes: float = 60.0  # hotspots are evaluated on this grid
    # the cells the watch runs (METRICS.md §5, §8): (field, district) — which
    # from 1 July 2025 holds the area ingest gives — and (field, commune);
    # "area" names the same place as district but apart (own ids and records)
    hotspot_cells: list[Literal["district", "area", "commune"]] = ["district", "commune"]
    alertmanager_url: str = ""  # e.g. http://127.0.0.1:9093; empty = do not push
    board_url: str = ""  # linked from each alert (Grafana's alerts board)
    # -- ClickHouse (native protocol); the writer may insert, the reader only read
    clickhouse_host: str = "127.0.0.1"
    clickhouse_port: int = 9000
    clickhouse_admin_user: str = "default"
    clickhouse_admin_password: SecretStr = SecretStr("")
    clickhouse_writer_user: str = "default"
    clickhouse_writer_password: SecretStr = SecretStr("")
    clickhouse_reader_user: str = "default"
    clickhouse_reader_password: SecretStr = SecretStr("")

    @field_validator("working_hours")
    @classmethod
    def _hours_parse(cls, spans: list[str]) -> list[str]:
        for span in spans:
            _parse_span(span)
        return spans

    def working_hours_spans(self) -> list[tuple[time, time]]:
        return [_parse_span(s) for s in self.working_hours]

    @property
    def province(self) -> tuple[str, str]:
        return self.province_code, self.province_name
