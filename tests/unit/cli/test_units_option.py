"""`--by commune|area` and `--units recorded|today --directory` (METRICS.md §8) on
a small file counted by hand; the 12-month trend across 1 July 2025."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from typer.testing import CliRunner

from motcua import app
from motcua.commands.export import monthly_trend
from reports.sources import FileSource
from schemas.events import parse_event
from schemas.settings import Settings
from schemas.units import directory_json
from streams.rules.calendar import WorkingCalendar
from streams.rules.units import UnitView
from tests.unit.helpers import t
from tests.unit.rules.units_fixture import DIRECTORY

RECEIVED = {
    "type": "received",
    "procedure_code": "1.004227",
    "field_code": "DD",
    "field_name": "Đất đai",
    "channel": "online",
    "district_code": "H44.D04",
    "district_name": "Huyện Cẩm Khê",
}
CAM_KHE_TOWN = {
    "agency_code": "H44.125",
    "agency_name": "UBND thị trấn Cẩm Khê",
    "level": "commune",
}
PHU_KHE = {"agency_code": "H44.126", "agency_name": "UBND xã Phú Khê", "level": "commune"}
X01 = {"agency_code": "X01", "agency_name": "UBND xã Cẩm Khê", "level": "commune"}
SXD = {"agency_code": "H44.20", "agency_name": "Sở Xây dựng", "level": "province",
       "district_code": "H44.D00", "district_name": "Cấp tỉnh"}  # fmt: skip


def received(n: str, at: str, unit: dict, **extra: object) -> dict:
    return {**RECEIVED, **unit, "event_id": f"{n}/r", "dossier_id": n, "at": at,
            "due_at": at[:8] + "28T17:00:00+07:00", **extra}  # fmt: skip


def resolved(n: str, at: str) -> dict:
    return {"event_id": f"{n}/x", "dossier_id": n, "type": "resolved", "at": at}


LINES = [
    # May 2025: H44.125 one (resolved in May), H44.126 two (one resolved in May)
    received("m1", "2025-05-05T09:00:00+07:00", CAM_KHE_TOWN),
    resolved("m1", "2025-05-07T09:00:00+07:00"),
    received("m2", "2025-05-06T09:00:00+07:00", PHU_KHE),
    resolved("m2", "2025-05-08T09:00:00+07:00"),
    received("m3", "2025-05-12T09:00:00+07:00", PHU_KHE),
    resolved("m3", "2025-06-02T09:00:00+07:00"),
    # June 2025: H44.125 one
    received("j1", "2025-06-03T09:00:00+07:00", CAM_KHE_TOWN),
    resolved("j1", "2025-06-04T09:00:00+07:00"),
    # July 2025: X01 two, and Sở Xây dựng one for a resident of X04 (area B01)
    received("k1", "2025-07-02T09:00:00+07:00", X01),
    resolved("k1", "2025-07-03T09:00:00+07:00"),
    received("k2", "2025-07-03T09:00:00+07:00", X01),
    received("k3", "2025-07-04T09:00:00+07:00", SXD, commune_code="X04",
             commune_name="UBND phường Thanh Miếu"),
]  # fmt: skip


def files(tmp_path: Path) -> tuple[Path, Path]:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(line) for line in LINES) + b"\n")
    directory = tmp_path / "units-history.json"
    directory.write_bytes(directory_json(DIRECTORY))
    return events, directory


def report(tmp_path: Path, *args: str) -> dict[str, tuple[str, int, int]]:
    events, directory = files(tmp_path)
    argv = ["report", "--events", str(events), *args]
    result = CliRunner().invoke(app, [a.replace("DIR", str(directory)) for a in argv])
    assert result.exit_code == 0, result.output
    rows = csv.DictReader(io.StringIO(result.stdout))
    return {
        r["unit_code"]: (r["unit_name"], int(r["received_total"]), int(r["finished_total"]))
        for r in rows
    }


def test_may_as_recorded_and_as_todays_units(tmp_path: Path) -> None:
    period = ["--from", "2025-05-01", "--to", "2025-06-01"]
    assert report(tmp_path, *period) == {
        "H44.125": ("UBND thị trấn Cẩm Khê", 1, 1),
        "H44.126": ("UBND xã Phú Khê", 2, 1),
    }
    # the units valid at the period's end are the same (the merger is on 1 July)
    assert report(tmp_path, *period, "--units", "today", "--directory", "DIR") == report(
        tmp_path, *period
    )


def test_july_by_commune_and_area_by_hand(tmp_path: Path) -> None:
    july = ["--from", "2025-07-01", "--to", "2025-08-01"]
    # carried over from June/May: nothing open (m3 resolved 06-02); k1, k2 X01's own, k3 X04's
    assert report(tmp_path, *july, "--by", "commune") == {
        "X01": ("UBND xã Cẩm Khê", 2, 1),
        "X04": ("UBND phường Thanh Miếu", 1, 0),
    }
    # area: X01's own dossiers carry H44.D04; k3 with the directory: X04's area B01
    by_area = report(tmp_path, *july, "--by", "area", "--directory", "DIR")
    assert {code: counts[1:] for code, counts in by_area.items()} == {
        "H44.D04": (2, 1),
        "B01": (1, 0),
    }


def test_a_merged_units_dossiers_over_the_reform_as_recorded_and_today(tmp_path: Path) -> None:
    both = ["--from", "2025-05-01", "--to", "2025-08-01"]
    assert report(tmp_path, *both) == {
        "H44.125": ("UBND thị trấn Cẩm Khê", 2, 2),
        "H44.126": ("UBND xã Phú Khê", 2, 2),
        "X01": ("UBND xã Cẩm Khê", 2, 1),
        "H44.20": ("Sở Xây dựng", 1, 0),
    }
    assert report(tmp_path, *both, "--units", "today", "--directory", "DIR") == {
        "X01": ("UBND xã Cẩm Khê", 6, 5),
        "H44.20": ("Sở Xây dựng", 1, 0),
    }


def test_today_without_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    events, _ = files(tmp_path)
    result = CliRunner().invoke(
        app,
        ["report", "--events", str(events), "--from", "2025-07-01", "--to", "2025-08-01",
         "--units", "today"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--directory" in result.output


def test_the_trend_across_the_reform_sums_the_predecessors() -> None:
    source = FileSource(
        [], WorkingCalendar(), ("H44", "Tỉnh Phú Thọ"), print,
        events=[parse_event(orjson.dumps(line)) for line in LINES],
    )  # fmt: skip
    months = [(2025, 5), (2025, 6), (2025, 7)]
    today = UnitView.as_units_at(DIRECTORY, t(2025, 7, 31))
    trend = monthly_trend(source, months, Settings(), "X01", today)
    # May: H44.125 (1) + H44.126 (2); June: H44.125 (1) + H44.126's m3 carried over;
    # July: X01's own (2)
    assert [(m, r.received_total, r.carried_over, r.finished_total) for m, r in trend] == [
        ("2025-05", 3, 0, 2),
        ("2025-06", 1, 1, 2),
        ("2025-07", 2, 0, 1),
    ]
    recorded = monthly_trend(source, months, Settings(), "H44.125")
    # as recorded, the former unit's trend stops at the reform
    assert [r.received_total for _, r in recorded] == [1, 1, 0]


def test_export_monthly_adds_sheets_by_area_and_commune(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    events, directory = files(tmp_path)
    out = tmp_path / "july.xlsx"
    result = CliRunner().invoke(
        app,
        ["export", "monthly", "--month", "2025-07", "--output", str(out), "--events",
         str(events), "--by", "commune", "--by", "area", "--directory", str(directory)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames[1:6] == [
        "Theo đơn vị", "Theo lĩnh vực", "Theo huyện", "Theo xã, phường", "Theo khu vực",
    ]  # fmt: skip
    communes = list(book["Theo xã, phường"].iter_rows(values_only=True))
    assert communes[0][:2] == ("Mã xã/phường", "Xã/phường")
    # X01's two (k1, k2) and X04's one (k3), then the province row
    assert [(r[0], r[3]) for r in communes[2:]] == [("X01", 2), ("X04", 1), ("ALL", 3)]
    areas = list(book["Theo khu vực"].iter_rows(values_only=True))
    assert [(r[0], r[3]) for r in areas[2:]] == [("B01", 1), ("H44.D04", 2), ("ALL", 3)]
