"""Integrity end to end: two exports of the same dossier through `motcua
ingest file`, the broker and the worker, then its findings from the command,
the table and a real Alertmanager (shipped routing), nothing twice after a
restart and a re-import.

H44.100-260504-0001: received Mon 2026-05-04 09:00, due Thu 05-07 09:00. The
first export (seen Fri 05-08 10:00) has it resolved Fri 09:30: late, with no
apology. The second (seen Mon 05-11 09:00) has its end rewritten to the due
("reset overdue"). Findings: late_without_apology at Thu 09:00, and at Mon
09:00 end_moved_earlier and end_set_to_due (old Fri 09:30, new Thu 09:00).
A third export with another dossier, received Mon 09:50 and resolved on time
at 10:00 (seen Mon 10:00), moves the watch's event clock past Mon 09:00.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from motcua import app
from streams.clickhouse.sql import DATABASE
from streams.services import Alertmanager
from tests.integration.loopback import topic_values, webhook
from tests.integration.test_ingest_file import RECORD, UNITS
from tests.integration.test_pipeline import Pipeline
from tests.integration.test_watch import _wait_for, shipped_config_to

pytestmark = pytest.mark.integration
DOSSIER = RECORD["MaHoSo"]
LATE = RECORD | {"TrangThaiHoSo": 9, "NgayKetThucXuLy": "20260508093000", "NgayTra": ""}
RESET = LATE | {"NgayKetThucXuLy": "20260507090000"}
OTHER = RECORD | {"MaHoSo": "H44.100-260511-0001", "NgayTiepNhan": "20260511095000",
                  "NgayHenTra": "20260514170000", "TrangThaiHoSo": 9,
                  "NgayKetThucXuLy": "20260511100000", "NgayTra": ""}  # fmt: skip
EXPECTED = [
    (DOSSIER, "late_without_apology", "2026-05-07T09:00:00+07:00", "overdue"),
    (DOSSIER, "end_moved_earlier", "2026-05-11T09:00:00+07:00", "2026-05-07T09:00:00+07:00"),
    (DOSSIER, "end_set_to_due", "2026-05-11T09:00:00+07:00", "2026-05-07T09:00:00+07:00"),
]


def ingest(pipeline: Pipeline, tmp_path: Path, record: dict, seen_at: str) -> None:
    export = tmp_path / f"export-{uuid.uuid4().hex[:6]}.json"
    export.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    s = pipeline.settings
    env = {
        "MOTCUA_BOOTSTRAP_SERVERS": s.bootstrap_servers,
        "MOTCUA_EVENTS_TOPIC": s.events_topic,
        "MOTCUA_DEAD_LETTER_TOPIC": s.dead_letter_topic,
    }
    args = ["ingest", "file", str(export), "--units", str(UNITS)]
    args += ["--state", str(tmp_path / "records.sqlite"), "--seen-at", seen_at]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output


def command(pipeline: Pipeline) -> list[tuple[str, str, str, str]]:
    """`motcua integrity --source clickhouse --format csv` as an inspector runs it."""
    env = {"PATH": "/usr/bin:/bin", **pipeline.clickhouse.env("reader")}
    args = ["integrity", "--source", "clickhouse", "--from", "2026-05-01", "--to", "2026-06-01"]
    out = subprocess.run(
        [sys.executable, "-m", "motcua", *args, "--format", "csv"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return [
        (r["dossier_id"], r["kind"], r["observed_at"], r["new"])
        for r in csv.DictReader(io.StringIO(out.stdout))
    ]


def test_two_exports_of_a_rewritten_dossier_reach_inspectors_once(
    broker, clickhouse, tmp_path
) -> None:
    alerts_topic = f"alerts-{uuid.uuid4().hex[:8]}"
    with (
        webhook() as (port, posted),
        Alertmanager(tmp_path / "am", shipped_config_to(port)) as am,
    ):
        pipeline = Pipeline(broker, clickhouse, tmp_path)
        watch_env = {
            "MOTCUA_WATCH_CLOCK": "event",
            "MOTCUA_WATCH_INTERVAL": "1",
            "MOTCUA_ALERTMANAGER_URL": am.url,
            "MOTCUA_ALERTS_TOPIC": alerts_topic,
        }
        try:
            pipeline.stop_worker()
            pipeline.start_worker(**watch_env)
            ingest(pipeline, tmp_path, LATE, "2026-05-08T10:00:00+07:00")
            ingest(pipeline, tmp_path, RESET, "2026-05-11T09:00:00+07:00")
            ingest(pipeline, tmp_path, OTHER, "2026-05-11T10:00:00+07:00")
            log = tmp_path / "worker.log"

            def integrity_alerts() -> list[dict]:
                return [
                    a for _, body in posted for a in body["alerts"]
                    if a["labels"].get("kind") == "integrity"
                ]  # fmt: skip

            deadline = time.monotonic() + 90
            while len(command(pipeline)) < 3 and time.monotonic() < deadline:
                time.sleep(1)
            assert command(pipeline) == EXPECTED
            _wait_for(lambda: len({a["labels"]["alert_key"] for a in integrity_alerts()}) == 3,
                      60, "integrity alerts in Alertmanager", log)  # fmt: skip
            receivers = {
                (path, a["labels"]["dossier_id"])
                for path, body in posted
                for a in body["alerts"]
                if a["labels"].get("kind") == "integrity"
            }
            assert receivers == {("/thanh-tra-tinh", DOSSIER)}
            texts = " ".join(a["annotations"]["description"] for a in integrity_alerts())
            assert (
                "Sửa ngày kết thúc bằng ngày hẹn trả: 09:30 08/05/2026 → 09:00 07/05/2026." in texts
            )
            stored = engine_rows(
                pipeline, "SELECT count() FROM {db}.alerts FINAL WHERE kind = 'integrity'"
            )
            assert stored == [(3,)]
            on_topic = [json.loads(v) for v in topic_values(broker.bootstrap, alerts_topic)]
            assert sum(a["kind"] == "integrity" for a in on_topic) == 3

            # a restarted worker and the same export again: nothing new anywhere
            pipeline.stop_worker()
            pipeline.start_worker(**watch_env)
            ingest(pipeline, tmp_path, RESET, "2026-05-11T11:00:00+07:00")
            time.sleep(8)
            assert command(pipeline) == EXPECTED
            assert engine_rows(
                pipeline, "SELECT count() FROM {db}.alerts WHERE kind = 'integrity'"
            ) == [(3,)]
            again = [json.loads(v) for v in topic_values(broker.bootstrap, alerts_topic)]
            assert sum(a["kind"] == "integrity" for a in again) == 3
        finally:
            pipeline.stop_worker()


def engine_rows(pipeline: Pipeline, sql: str) -> list[tuple]:
    return [tuple(r) for r in pipeline.engine.rows(sql.format(db=DATABASE))]
