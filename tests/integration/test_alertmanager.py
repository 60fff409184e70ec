"""Inspector alerts through a real Alertmanager (Debian's 0.25) to loopback
webhook receivers: routing by district, inhibition of due-soon by overdue,
Vietnamese annotations, no personal data."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from streams.alertmanager import push_alerts
from streams.rules.alerts import InspectorAlert
from streams.services import Alertmanager
from tests.integration.loopback import webhook

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy/alertmanager/alertmanager.yml"


def _config(port: int) -> str:
    """The shipped example's routes and inhibition, with loopback webhooks and
    short waits. The group waits 3 s (for alerts that start now, see `_alert`):
    Alertmanager's inhibitor learns of the overdue alert on its own
    subscription, and a group flushed before that notifies the due-soon it
    should mute (seen once in a full `make test`)."""
    hook = f"http://127.0.0.1:{port}"
    return f"""
route:
  receiver: tinh
  group_by: [alertname, district, agency]
  group_wait: 3s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: viet-tri
      matchers: ['district="H44.D01"']
    - receiver: lam-thao
      matchers: ['district="H44.D02"']
inhibit_rules:
  - source_matchers: ['kind="overdue"']
    target_matchers: ['kind="due_soon"']
    equal: [dossier_id]
receivers:
  - name: tinh
    webhook_configs: [{{url: "{hook}/tinh"}}]
  - name: viet-tri
    webhook_configs: [{{url: "{hook}/viet-tri"}}]
  - name: lam-thao
    webhook_configs: [{{url: "{hook}/lam-thao"}}]
"""


def _alert(kind: str, dossier: str, district: str, district_name: str) -> InspectorAlert:
    return InspectorAlert(
        kind=kind,
        key=f"{dossier}:{kind}",
        # starting now: Alertmanager flushes a group at once, without its
        # group_wait, for an alert that started more than group_wait ago
        at=datetime.now(UTC),
        dossier_id=dossier,
        agency_code="H44.100",
        agency_name="UBND Phường Việt Trì",
        district_code=district,
        district_name=district_name,
        field_code="DD",
        field_name="Đất đai",
        procedure_code="1.003003",
        procedure_name="Đăng ký biến động đất đai",
        due=datetime(2026, 5, 7, 2, tzinfo=UTC),
        hours_late=6.5 if kind == "overdue" else 0,
    )


def test_routing_inhibition_and_vietnamese_text(tmp_path: Path) -> None:
    with webhook() as (port, received), Alertmanager(tmp_path, _config(port)) as am:
        asyncio.run(
            push_alerts(
                am.url,
                [
                    _alert("overdue", "H44.100-260504-0001", "H44.D01", "Thành phố Việt Trì"),
                    _alert("due_soon", "H44.100-260504-0001", "H44.D01", "Thành phố Việt Trì"),
                    _alert("due_soon", "H44.105-260504-0002", "H44.D02", "Huyện Lâm Thao"),
                ],
                ZoneInfo("Asia/Ho_Chi_Minh"),
                board_url="http://grafana.local/d/motcua-canh-bao",
            )
        )
        deadline = time.monotonic() + 20
        while len({p for p, _ in received}) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # a late, wrong notification would show up now
    by_receiver: dict[str, list[dict]] = {}
    for path, body in received:
        by_receiver.setdefault(path, []).extend(body["alerts"])
    assert set(by_receiver) == {"/viet-tri", "/lam-thao"}
    viet_tri = {(a["labels"]["kind"], a["labels"]["dossier_id"]) for a in by_receiver["/viet-tri"]}
    assert viet_tri == {("overdue", "H44.100-260504-0001")}  # its due-soon is inhibited
    [lam_thao] = by_receiver["/lam-thao"]
    assert lam_thao["labels"]["kind"] == "due_soon"
    overdue = by_receiver["/viet-tri"][0]
    assert overdue["annotations"]["summary"] == (
        "Hồ sơ H44.100-260504-0001 đã quá hạn 6.5 giờ làm việc"
    )
    assert "hạn giải quyết: 09:00 07/05/2026" in overdue["annotations"]["description"]
    assert overdue["labels"]["severity"] == "critical"
    assert overdue["generatorURL"] == "http://grafana.local/d/motcua-canh-bao"


def test_the_shipped_example_config_is_valid() -> None:
    import subprocess

    out = subprocess.run(["amtool", "check-config", str(EXAMPLE)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 inhibit rules" in out.stdout and "4 receivers" in out.stdout
