"""The inspectors' watch end to end: a replayed week → the worker (event
clock) → alerts and hotspots in ClickHouse, on the alerts topic, and through
a real Alertmanager running the shipped routing to loopback webhooks.

The week (Mon 2026-03-02 .. Fri 03-06, ordinary working days, 8 h a day):
- 5 land dossiers in Việt Trì (H44.D01), received Mon 08:00, due Wed 08:00,
  never finished: due soon Tue 08:00 (8 working hours before), overdue Wed
  08:00, reminders Thu 08:00 (8 h late) and Fri 08:00 (16 h late);
- 5 land dossiers in Lâm Thao (H44.D02), same due, resolved Mon 10:00: nothing;
- 1 civil-status dossier in Lâm Thao, due Wed 08:00, resolved Tue 10:00: due
  soon Tue 08:00 only;
- 1 civil-status dossier in Lâm Thao whose due moves: received Mon 08:00 with
  2 working hours, due Mon 10:00: due soon at receipt, overdue Mon 10:00. A
  supplement asked Mon 10:30 and answered Tue 10:30 stopped the clock Mon
  10:30-11:30 1 h + 13:30-17:00 3.5 h + Tue 07:00-10:30 3.5 h = 8 h, so the
  due moves to Mon 10:00 + 8 h = Tue 10:00, already past at the restart:
  overdue Tue 10:30 (0.5 h late); reminders at 10:00 on Wed (8 h) and Thu
  (16 h); Fri 10:00 (24 h) lies after the replay's clock. Nothing for the old
  due while it waits (Tue 10:00);
- 1 dossier received Fri 08:30 elsewhere: it carries the replay's clock there.
Hotspot (min volume 5): land × Việt Trì is 5/5 late from Wed 08:00; the grid
hour that first sees it is Wed 09:00 (Wilson lower bound 0.566 > 5/10).
Alertmanager inhibits the due-soon alerts of dossiers whose overdue fired.
No dossier had an apology before its due: each that stood overdue is an
integrity finding (late_without_apology, METRICS.md §9) at its first
overdue instant (Wed 08:00; the moving one Mon 10:00), sent to the
province's inspectorate.
`motcua alerts --source clickhouse` lists what the watch sent, and past the
watch's position what it will send.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ingest.replay import replay_files
from streams.clickhouse.sql import DATABASE
from streams.kafka.bulk import BulkProducer
from streams.services import Alertmanager
from tests.histories import TZ
from tests.integration.loopback import topic_values, webhook
from tests.integration.test_pipeline import Pipeline

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy/alertmanager/alertmanager.yml"
PLANTED = ("Nguyễn Văn Planted", "001099012345", "0912345678")


def shipped_config_to(port: int) -> str:
    """The shipped routing and inhibition; every receiver a loopback webhook; short waits."""
    config = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    config.pop("global")
    # waits shortened, but long enough for the inhibitor to see every source
    # alert on a loaded machine before a group is flushed
    config["route"] |= {"group_wait": "4s", "group_interval": "2s"}
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": f"http://127.0.0.1:{port}/{r['name']}"}]}
        for r in config["receivers"]
    ]
    return yaml.safe_dump(config, allow_unicode=True)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A March 2026 local instant, as ClickHouse gives it back (UTC)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def at(day: int, hour: int, minute: int = 0) -> str:
    return local(day, hour, minute).isoformat()


def received(dossier: str, when: str, district: tuple[str, str], field: tuple[str, str], **extra):
    agency = ("H44.100", "UBND Phường Gia Cẩm") if district[0] == "H44.D01" else (
        "H44.105", "UBND Thị trấn Lâm Thao")  # fmt: skip
    return {
        "event_id": f"{dossier}:received",
        "dossier_id": dossier,
        "type": "received",
        "at": when,
        "agency_code": agency[0],
        "agency_name": agency[1],
        "level": "commune",
        "district_code": district[0],
        "district_name": district[1],
        "procedure_code": "1.003003" if field[0] == "DD" else "1.004227",
        "procedure_name": "Đăng ký biến động đất đai" if field[0] == "DD" else "Đăng ký khai sinh",
        "field_code": field[0],
        "field_name": field[1],
        "channel": "online",
        # personal data an upstream system should not have sent: dropped at ingest
        "applicant_name": PLANTED[0],
        "id_number": PLANTED[1],
        "phone": PLANTED[2],
        **extra,
    }


def resolved(dossier: str, when: str) -> dict:
    return {
        "event_id": f"{dossier}:resolved",
        "dossier_id": dossier,
        "type": "resolved",
        "at": when,
    }


VIET_TRI, LAM_THAO = ("H44.D01", "Thành phố Việt Trì"), ("H44.D02", "Huyện Lâm Thao")
LAND, CIVIL = ("DD", "Đất đai"), ("HT", "Hộ tịch")
LATE = [f"H44.100-260302-{n:04d}" for n in range(1, 6)]
ON_TIME = [f"H44.105-260302-{n:04d}" for n in range(1, 6)]
SOON = "H44.105-260302-0099"
MOVED = "H44.105-260302-0042"


def week() -> list[dict]:
    due = at(4, 8)
    events = [received(d, at(2, 8), VIET_TRI, LAND, due_at=due) for d in LATE]
    events += [received(d, at(2, 8), LAM_THAO, LAND, due_at=due) for d in ON_TIME]
    events += [received(SOON, at(2, 8), LAM_THAO, CIVIL, due_at=due)]
    events += [resolved(d, at(2, 10)) for d in ON_TIME] + [resolved(SOON, at(3, 10))]
    two_hours = {"time_limit": {"value": 2, "unit": "working_hours"}}
    events += [received(MOVED, at(2, 8), LAM_THAO, CIVIL, **two_hours)]
    events += [
        {"event_id": f"{MOVED}:{kind}", "dossier_id": MOVED, "type": kind, "at": when}
        for kind, when in [("supplement_requested", at(2, 10, 30)),
                           ("supplement_received", at(3, 10, 30))]
    ]  # fmt: skip
    events += [received("H44.107-260306-0001", at(6, 8, 30), ("H44.D03", "Huyện Phù Ninh"), CIVIL)]
    return events


def audit(pipeline, start: str, end: str) -> list[tuple[str, str, datetime, float]]:
    """`motcua alerts --source clickhouse --format csv` as an inspector runs it."""
    env = {"PATH": "/usr/bin:/bin", **pipeline.clickhouse.env("reader")}
    command = [sys.executable, "-m", "motcua", "alerts", "--source", "clickhouse"]
    out = subprocess.run(
        [*command, "--from", start, "--to", end, "--format", "csv"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        (r["dossier_id"], r["kind"], datetime.fromisoformat(r["at"]), float(r["hours_late"]))
        for r in csv.DictReader(io.StringIO(out))
    ]


def _wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{what} did not happen; worker log:\n{tail}")
        time.sleep(0.2)


def test_replayed_week_raises_the_expected_notifications_once(broker, clickhouse, tmp_path) -> None:
    alerts_topic = f"alerts-{uuid.uuid4().hex[:8]}"
    with (
        webhook() as (port, posted),
        Alertmanager(tmp_path / "am", shipped_config_to(port)) as am,
    ):
        pipeline = Pipeline(broker, clickhouse, tmp_path)
        try:
            pipeline.stop_worker()  # everything on the broker before the worker starts
            path = tmp_path / "week.jsonl"
            path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in week()) + "\n")
            producer = BulkProducer(pipeline.settings)
            assert replay_files([path], pipeline.settings, producer).rejected == 0
            producer.close()
            watch_env = {
                "MOTCUA_WATCH_CLOCK": "event",
                "MOTCUA_WATCH_INTERVAL": "1",
                "MOTCUA_HOTSPOT_MIN_TOTAL": "5",
                "MOTCUA_ALERTMANAGER_URL": am.url,
                "MOTCUA_ALERTS_TOPIC": alerts_topic,
                "MOTCUA_LOG_LEVEL": "INFO",  # the routine lines too (they must be info)
            }
            pipeline.start_worker(**watch_env)
            engine, log = pipeline.engine, tmp_path / "worker.log"

            def position() -> list:
                return engine.rows(f"SELECT max(until) FROM {DATABASE}.watch_position")

            _wait_for(lambda: position()[0][0].year == 2026, 90, "a watch step", log)
            _wait_for(lambda: len({p for p, _ in posted}) >= 3, 30, "webhooks", log)
            time.sleep(3)  # a late or wrong notification would show up now
            # the worker's log: JSON lines only; sending alerts is routine (info)
            logged = [json.loads(line) for line in log.read_text().splitlines() if line]
            sent_lines = [line for line in logged if line["message"] == "inspector alerts"]
            assert sent_lines and {line["level"] for line in sent_lines} == {"info"}

            # the position is the replay's clock: the last event, Fri 08:30
            assert position()[0][0] == local(6, 8, 30)
            stored = engine.rows(
                f"SELECT kind, dossier_id, raised_at, hours_late FROM {DATABASE}.alerts FINAL "
                "ORDER BY raised_at, dossier_id, kind"
            )
            expected = sorted(
                [("due_soon", d, local(3, 8), 0.0) for d in [*LATE, SOON]]
                + [("overdue", d, local(4, 8), 0.0) for d in LATE]
                + [("overdue_reminder", d, local(5, 8), 8.0) for d in LATE]
                + [("overdue_reminder", d, local(6, 8), 16.0) for d in LATE]
                + [
                    ("due_soon", MOVED, local(2, 8), 0.0),
                    ("overdue", MOVED, local(2, 10), 0.0),
                    ("overdue", MOVED, local(3, 10, 30), 0.5),
                    ("overdue_reminder", MOVED, local(4, 10), 8.0),
                    ("overdue_reminder", MOVED, local(5, 10), 16.0),
                ]
                # late with no apology before the due (METRICS.md §9), at the crossing
                + [("integrity", d, local(4, 8), 0.0) for d in LATE]
                + [("integrity", MOVED, local(2, 10), 0.0)],
                key=lambda r: (r[2], r[1], r[0]),
            )
            assert stored == expected
            hotspots = engine.rows(
                f"SELECT cell_kind, state, field_code, district_code, at, cell_total, cell_late "
                f"FROM {DATABASE}.hotspots FINAL ORDER BY cell_kind"
            )
            # the watch runs district and commune cells (issue #17, settings.hotspot_cells):
            # the late dossiers are all Phường Việt Trì's (H44.100) own, so both open
            assert hotspots == [
                ("commune", "opened", "DD", "H44.100", local(4, 9), 5, 5),
                ("district", "opened", "DD", "H44.D01", local(4, 9), 5, 5),
            ]
            on_topic = topic_values(broker.bootstrap, alerts_topic, len(expected) + 2)
            assert len(on_topic) == len(expected) + 2  # and the two hotspots

            by_receiver: dict[str, set[tuple[str, str]]] = {}
            for receiver, body in posted:
                for a in body["alerts"]:
                    labels = a["labels"]
                    by_receiver.setdefault(receiver, set()).add(
                        (labels["kind"], labels.get("dossier_id", labels["field"]))
                    )
            assert by_receiver == {
                "/thanh-tra-tinh": {("hotspot", "DD")} | {("integrity", d) for d in [*LATE, MOVED]},
                "/thanh-tra-viet-tri": {("overdue", d) for d in LATE}
                | {("overdue_reminder", d) for d in LATE}
                | {("hotspot", "DD")},  # due soon inhibited by the overdue
                "/thanh-tra-lam-thao": {("due_soon", SOON)}
                | {("overdue", MOVED), ("overdue_reminder", MOVED)},
            }
            everything = json.dumps(posted, ensure_ascii=False) + "".join(
                v.decode() for v in on_topic
            )
            assert not any(p in everything for p in PLANTED)
            moved_dues = {
                (a["kind"], a["due"])
                for a in map(json.loads, on_topic)
                if a["dossier_id"] == MOVED and a["kind"] != "integrity"
            }
            assert moved_dues == {
                ("due_soon", at(2, 10)),
                ("overdue", at(2, 10)),
                ("overdue", at(3, 10)),
                ("overdue_reminder", at(3, 10)),
            }

            # the audit command lists what the watch sent, and after its position
            # what it will send (the moved dossier's Fri 10:00 reminder)
            listed = audit(pipeline, "2026-03-02", "2026-03-07")
            sent = sorted((r[1], r[0], r[2], r[3]) for r in stored if r[0] != "integrity")
            assert sorted(r for r in listed if r[2] < local(6, 8, 30)) == sent
            assert [r for r in listed if r[2] >= local(6, 8, 30)] == [
                (MOVED, "overdue_reminder", local(6, 10), 24.0)
            ]
            assert "đã quá hạn 16.0 giờ làm việc" in everything

            # a restarted worker resumes at its position: nothing is sent again
            pipeline.stop_worker()
            pipeline.start_worker(**watch_env)
            later = tmp_path / "later.jsonl"
            one_more = received(
                "H44.107-260306-0002", at(6, 8, 31), ("H44.D03", "Huyện Phù Ninh"), CIVIL
            )
            later.write_text(json.dumps(one_more, ensure_ascii=False) + "\n")
            producer = BulkProducer(pipeline.settings)
            replay_files([later], pipeline.settings, producer)
            producer.close()
            moved = local(6, 8, 31)
            _wait_for(lambda: position()[0][0] == moved, 150, "a step after the restart", log)
            assert len(topic_values(broker.bootstrap, alerts_topic)) == len(on_topic)
            assert engine.rows(f"SELECT count() FROM {DATABASE}.alerts")[0][0] == len(expected)
        finally:
            pipeline.stop_worker()
