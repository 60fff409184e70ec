"""Reconciliation against the real national-portal sample (shared/data/portal-766)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from reports.reconcile import PortalFormatError, Status, load_portal_progress, reconcile
from streams.rules.period import PeriodRow

SAMPLE = Path(__file__).resolve().parents[4] / "shared/data/portal-766"
PROGRESS = (SAMPLE / "dvc-progress-tree.month.sample.json").read_bytes()


def row(
    code: str, finished: int, on_time: int, in_progress: int, within: int, days: Fraction
) -> PeriodRow:
    r = PeriodRow(
        code,
        f"Đơn vị {code}",
        finished_total=finished,
        finished_on_time=on_time,
        finished_late=finished - on_time,
        in_progress_total=in_progress,
        in_progress_within_due=within,
        in_progress_overdue=in_progress - within,
    )
    r.processing_time = days * finished
    return r


def test_the_sample_parses() -> None:
    parent, children = load_portal_progress(PROGRESS)
    assert (parent.code, parent.judged, parent.on_time) == ("H44", 184513, 144625)
    assert parent.ratio == Decimal("78.38") and parent.score == Decimal("15.68")
    assert [c.code for c in children][:4] == ["H44.01", "H44.03", "H44.07", "H44.08"]
    viet_tri = next(c for c in children if c.code == "H44.100")
    assert (viet_tri.judged, viet_tri.on_time, viet_tri.level) == (2971, 2348, "COMMUNE")
    assert viet_tri.avg_processing_days == Decimal("5.6")


def test_units_match_differ_or_miss() -> None:
    _, children = load_portal_progress(PROGRESS)
    ours = [
        # H44.03 exactly as the portal: 500 finished (450 on time) + 88 in progress
        # (36 within due) → judged 588, on time 486; ratio 486/588 = 82.653 → 82.65;
        # avg 7.32 days over the 500 finished.
        row("H44.03", 500, 450, 88, 36, Fraction(732, 100)),
        # H44.07: 12 dossiers never reached the portal: judged 470 vs 482;
        # on time 300 + 32 = 332 as on the portal; ratio 332/470 = 70.638 → 70.64.
        row("H44.07", 400, 300, 70, 32, Fraction(1515, 100)),
        row("H44.999", 5, 5, 0, 0, Fraction(1)),  # a unit the portal does not list
    ]
    lines = {line.code: line for line in reconcile(children, ours)}
    assert lines["H44.03"].status is Status.MATCH
    assert lines["H44.07"].status is Status.DIFFERS
    assert lines["H44.07"].differences == [
        "hồ sơ: Cổng 482, hệ thống 470",
        "tỷ lệ: Cổng 68.88, hệ thống 70.64",
    ]
    assert lines["H44.07"].record()["judged_difference"] == -12
    assert lines["H44.999"].status is Status.MISSING_AT_PORTAL
    assert lines["H44.100"].status is Status.MISSING_HERE
    assert len(lines) == len(children) + 1


def test_province_row_against_the_parent() -> None:
    parent, _ = load_portal_progress(PROGRESS)
    # 147765 finished, of which 130000 on time; 36748 in progress, 14625 within due:
    # judged 184513, on time 144625 → 78.382% → 78.38, score 15.676 → 15.68.
    province = row("H44", 147765, 130000, 36748, 14625, Fraction(705, 100))
    [line] = reconcile([parent], [province])
    assert line.status is Status.MATCH, line.differences
    assert line.record()["our_score"] == Decimal("15.68")


def test_bad_portal_files_are_named() -> None:
    with pytest.raises(PortalFormatError, match="không phải JSON hợp lệ"):
        load_portal_progress(b"<html>")
    with pytest.raises(PortalFormatError, match="data"):
        load_portal_progress(b'{"code": "OK"}')
    with pytest.raises(PortalFormatError, match=r"children\[0\] thiếu trường totalOnTime"):
        load_portal_progress(
            b'{"data": {"parent": {"departmentCode": "H44", "totalReceived": 1,'
            b' "totalOnTime": 1}, "children": [{"departmentCode": "X", "totalReceived": 1}]}}'
        )


def test_reconcile_command_on_the_sample(tmp_path: Path) -> None:
    import csv
    import io
    import json

    from typer.testing import CliRunner

    from motcua import app
    from tests.unit.cli.test_report_command import LINES

    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in LINES), encoding="utf-8"
    )
    result = CliRunner().invoke(
        app,
        [
            "reconcile",
            str(SAMPLE / "dvc-progress-tree.month.sample.json"),
            "--month",
            "2026-05",
            "--source",
            "files",
            "--events",
            str(events),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {r["unit_code"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    # hand-worked May: H44.100 finished A (early) and B (on time) → judged 2, on time 2;
    # H44.07 has C in progress within due → judged 1, on time 1.
    assert (rows["H44.100"]["our_judged"], rows["H44.100"]["our_on_time"]) == ("2", "2")
    assert rows["H44.100"]["judged_difference"] == str(2 - 2971)
    assert rows["H44.100"]["status"] == "Lệch số liệu"
    assert (rows["H44.07"]["our_judged"], rows["H44.07"]["our_ratio"]) == ("1", "100.00")
    assert rows["H44.03"]["status"] == "Không có trong hệ thống"
    assert rows["H44"]["our_judged"] == "3"  # the province row beside the portal's parent
