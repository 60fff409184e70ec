"""Reconciliation with a portal file whose units are communes (METRICS.md §8):
our dossiers of merged communes count at the commune that took them over,
through the unit directory (tests/fixtures/portal/communes.progress.json,
hand-made; every figure counted by hand below)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from typer.testing import CliRunner

from motcua import app
from reports.reconcile import (
    Status,
    load_portal_progress,
    portal_unit_of,
    reconcile,
    through_directory,
)
from schemas.units import directory_json
from streams.rules.period import PeriodRow
from tests.unit.rules.units_fixture import DIRECTORY

PORTAL = Path(__file__).resolve().parents[2] / "fixtures" / "portal" / "communes.progress.json"
RECEIVED = {"type": "received", "procedure_code": "1.004227", "field_code": "DD",
            "field_name": "Đất đai", "channel": "online", "district_code": "H44.D04",
            "district_name": "Huyện Cẩm Khê"}  # fmt: skip


def dossier(n: str, unit: tuple[str, str, str], at: str, due: str, done: str | None) -> list[dict]:
    code, name, level = unit
    lines = [{**RECEIVED, "event_id": f"{n}/r", "dossier_id": n, "at": at, "due_at": due,
              "agency_code": code, "agency_name": name, "level": level}]  # fmt: skip
    if done:
        lines.append({"event_id": f"{n}/x", "dossier_id": n, "type": "resolved", "at": done})
    return lines


PHU_KHE = ("H44.126", "UBND xã Phú Khê", "commune")
CAM_KHE_TOWN = ("H44.125", "UBND thị trấn Cẩm Khê", "commune")
X01 = ("X01", "UBND xã Cẩm Khê", "commune")
X04 = ("X04", "UBND phường Thanh Miếu", "commune")
SXD = ("H44.20", "Sở Xây dựng", "province")
# July 2025, judged = finished in July + in progress at its end:
# (working days of 8 h, 07:00-11:30 and 13:30-17:00; avg = finished ones only)
# p1 H44.126 (→ X01) received in June, resolved on time in July: Wed 06-25 09:00 →
#    Tue 07-08 09:00 = 6 h + 8 whole days (06-26, 06-27, 06-30, 07-01 … 07-04, 07-07)
#    of 8 h + 2 h = 72 h = 9 days
# p2 H44.125 (→ X01) received in June, in progress within due at the end of July
# p3 X01's own, resolved on time: 6 + 2 h = 1 day → X01 avg (9 + 1) / 2 = 5.00
# p4 X04's own, resolved late: 6 + 8 + 8 + 2 h = 3 days; p5 Sở Xây dựng, open in due
# province: judged 5, on time 4 (80.00%), avg (9 + 1 + 3) / 3 = 4.33
LINES = [
    *dossier("p1", PHU_KHE, "2025-06-25T09:00:00+07:00", "2025-07-10T17:00:00+07:00",
             "2025-07-08T09:00:00+07:00"),
    *dossier("p2", CAM_KHE_TOWN, "2025-06-26T09:00:00+07:00", "2025-08-20T17:00:00+07:00", None),
    *dossier("p3", X01, "2025-07-02T09:00:00+07:00", "2025-07-04T17:00:00+07:00",
             "2025-07-03T09:00:00+07:00"),
    *dossier("p4", X04, "2025-07-10T09:00:00+07:00", "2025-07-11T17:00:00+07:00",
             "2025-07-15T09:00:00+07:00"),
    *dossier("p5", SXD, "2025-07-15T09:00:00+07:00", "2025-08-20T17:00:00+07:00", None),
]  # fmt: skip


def test_a_merged_commune_counts_at_its_successor_the_portal_lists() -> None:
    portal = {"X01", "X04", "H44.20"}
    assert portal_unit_of("H44.126", portal, DIRECTORY) == "X01"
    assert portal_unit_of("H44.09", portal, DIRECTORY) == "H44.20"  # a merged department
    assert portal_unit_of("H44.34", portal, DIRECTORY) == "H44.34"  # dissolved: not at the portal
    rows = [
        PeriodRow("H44.125", "a", finished_total=2),
        PeriodRow("H44.126", "b", finished_total=3),
        PeriodRow("X01", "c", finished_total=1),
    ]
    _, children = load_portal_progress(PORTAL.read_bytes())
    [x01] = through_directory(rows, children, DIRECTORY)
    assert (x01.unit_code, x01.unit_name, x01.finished_total) == ("X01", "UBND xã Cẩm Khê", 6)
    assert [r.finished_total for r in rows] == [2, 3, 1]  # ours untouched


def test_reconcile_a_portal_file_of_communes(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(line) for line in LINES) + b"\n")
    units = tmp_path / "units-history.json"
    units.write_bytes(directory_json(DIRECTORY))
    argv = ["reconcile", str(PORTAL), "--month", "2025-07", "--events", str(events),
            "--format", "csv"]  # fmt: skip

    def lines(*extra: str) -> dict[str, dict[str, str]]:
        result = CliRunner().invoke(app, [*argv, *extra])
        assert result.exit_code == 0, result.output
        return {r["unit_code"]: r for r in csv.DictReader(io.StringIO(result.stdout))}

    through = lines("--directory", str(units))
    # X01: p1 + p2 (merged communes) + p3 = 3 judged, 3 on time; X04: p4 late; H44.20: p5
    assert {c: (r["status"], r["our_judged"], r["our_on_time"]) for c, r in through.items()} == {
        "H44": (Status.MATCH.value, "5", "4"),
        "H44.20": (Status.MATCH.value, "1", "1"),
        "X01": (Status.MATCH.value, "3", "3"),
        "X04": (Status.MATCH.value, "1", "0"),
    }
    # without the directory the merged communes' dossiers are "not at the portal"
    recorded = lines()
    assert recorded["X01"]["our_judged"] == "1"
    assert recorded["H44.126"]["status"] == Status.MISSING_AT_PORTAL.value
    assert recorded["H44.125"]["status"] == Status.MISSING_AT_PORTAL.value


def test_reconcile_keeps_the_portal_order() -> None:
    parent, children = load_portal_progress(PORTAL.read_bytes())
    assert [u.level for u in children] == ["PROVINCE", "COMMUNE", "COMMUNE"]
    assert [line.code for line in reconcile(children, [])] == ["H44.20", "X01", "X04"]
    assert parent.code == "H44"
