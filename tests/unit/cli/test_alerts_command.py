"""`motcua alerts` on a small file whose alerts are worked out by hand (real
calendar, 07:00-11:30 and 13:30-17:00, Asia/Ho_Chi_Minh; Mon 2026-05-04 to
Fri 05-08 and Mon 05-11 are ordinary working days).

- A (H44.100): received Mon 05-04 14:58 with 2 working hours → due Mon 16:58;
  due soon at receipt, overdue 16:58. Supplement asked Mon 20:00, answered Thu
  05-07 10:00: stopped Tue 8 h + Wed 8 h + Thu 07:00-10:00 3 h = 19 h, so the
  due moves to Mon 16:58 + 19 h = Thu 09:58, already past: overdue at the
  restart, 2 min (0.03 h) late; reminders Fri 05-08 09:58 (8 h) and Mon 05-11
  09:58 (16 h); resolved Mon 12:00.
- B (H44.07): received Tue 05-05 08:00, due Wed 05-06 17:00: due soon 8 h
  before, Tue 17:00 (the earliest instant with 8 h left: Wed 07:00-17:00);
  overdue Wed 17:00; resolved Thu 05-07 08:00, before Thu's reminder.

Span [Tue 05-05, Mon 05-11): A's Monday alerts lie before it, its Mon 05-11
reminder after it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from motcua import app

RECEIVED = {
    "type": "received",
    "level": "commune",
    "district_code": "D01",
    "district_name": "Thành phố Việt Trì",
    "procedure_code": "1.004227",
    "field_code": "DD",
    "field_name": "Đất đai",
    "channel": "online",
}
A, B = "H44.100-260504-0001", "H44.07-260505-0001"
LINES = [
    {**RECEIVED, "event_id": "a1", "dossier_id": A, "at": "2026-05-04T14:58:00+07:00",
     "agency_code": "H44.100", "agency_name": "UBND Phường Việt Trì",
     "time_limit": {"value": 2, "unit": "working_hours"}},
    {"event_id": "a2", "dossier_id": A, "type": "supplement_requested",
     "at": "2026-05-04T20:00:00+07:00"},
    {"event_id": "a3", "dossier_id": A, "type": "supplement_received",
     "at": "2026-05-07T10:00:00+07:00"},
    {"event_id": "a4", "dossier_id": A, "type": "resolved", "at": "2026-05-11T12:00:00+07:00"},
    {**RECEIVED, "event_id": "b1", "dossier_id": B, "at": "2026-05-05T08:00:00+07:00",
     "agency_code": "H44.07", "agency_name": "Sở Công Thương",
     "due_at": "2026-05-06T17:00:00+07:00"},
    {"event_id": "b2", "dossier_id": B, "type": "resolved", "at": "2026-05-07T08:00:00+07:00"},
]  # fmt: skip
A_NEW_DUE = "2026-05-07T09:58:00+07:00"
B_DUE = "2026-05-06T17:00:00+07:00"
EXPECTED = [
    (B, "due_soon", "2026-05-05T17:00:00+07:00", B_DUE, "0.00", "H44.07"),
    (B, "overdue", B_DUE, B_DUE, "0.00", "H44.07"),
    (A, "overdue", "2026-05-07T10:00:00+07:00", A_NEW_DUE, "0.03", "H44.100"),
    (A, "overdue_reminder", "2026-05-08T09:58:00+07:00", A_NEW_DUE, "8.00", "H44.100"),
]


def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in LINES) + "\n", encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(app, ["alerts", *args], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_csv_lists_every_alert_of_the_span_with_machine_names(tmp_path: Path) -> None:
    out, err = run("--events", str(events_file(tmp_path)), "--from", "2026-05-05",
                   "--to", "2026-05-11", "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "dossier_id", "kind", "at", "due", "hours_late", "agency_code", "district_code",
        "field_code", "procedure_code", "alert_key",
    ]  # fmt: skip
    got = [(r["dossier_id"], r["kind"], r["at"], r["due"], r["hours_late"], r["agency_code"])
           for r in rows]  # fmt: skip
    assert got == EXPECTED
    assert rows[2]["alert_key"] == f"overdue|{A}|2026-05-07T02:58:00+00:00"
    assert rows[3]["alert_key"] == f"overdue_reminder|{A}|2026-05-07T02:58:00+00:00|1"
    assert "4 cảnh báo" in err


def test_unit_keeps_one_agency(tmp_path: Path) -> None:
    out, _ = run("--events", str(events_file(tmp_path)), "--from", "2026-05-05",
                 "--to", "2026-05-11", "--format", "csv", "--unit", "H44.07")  # fmt: skip
    assert [(r["dossier_id"], r["kind"]) for r in csv.DictReader(io.StringIO(out))] == [
        (B, "due_soon"),
        (B, "overdue"),
    ]


def test_table_has_vietnamese_headers_and_kinds(tmp_path: Path) -> None:
    out, _ = run("--events", str(events_file(tmp_path)), "--from", "2026-05-04",
                 "--to", "2026-05-12")  # fmt: skip
    for header in ("Mã hồ sơ", "Loại cảnh báo", "Thời điểm cảnh báo", "Hạn giải quyết"):
        assert header in out
    # A's whole history now: due soon and overdue of the first due, then the new due's
    assert out.count("Sắp đến hạn") == 2 and out.count("Nhắc quá hạn") == 2
    assert out.count("Quá hạn") == 3  # A twice (two dues), B once
    assert "2026-05-04T16:58:00+07:00" in out and "2026-05-11T09:58:00+07:00" in out


def test_events_or_clickhouse_is_needed() -> None:
    result = CliRunner().invoke(app, ["alerts", "--from", "2026-05-05", "--to", "2026-05-11"])
    assert result.exit_code != 0
