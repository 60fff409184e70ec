"""The README's examples, run as written (issue #19).

Each block marked `<!-- tested: NAME -->` is run by bash (`-euo pipefail`) in
a copy of the repository's layout: a directory holding this `.venv` (a
symlink), beside `../shared`. The numbers are checked against what does not
come from the code under test: the simulator's own ground truth (`--totals`,
worked out from its construction) and the national portal's sample file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
PORTAL = SHARED / "data" / "portal-766" / "dvc-progress-tree.month.sample.json"


def blocks() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- tested: (\w+) -->\n```sh\n(.*?)```", text, re.S))


def run_block(name: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", blocks()[name]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"README block {name!r} failed:\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> Iterator[tuple[Path, subprocess.CompletedProcess]]:
    """The layout, with the offline block run in it."""
    top = tmp_path_factory.mktemp("readme")
    repo = top / "motcua-monitor"
    repo.mkdir()
    (repo / ".venv").symlink_to(ROOT / ".venv")
    (top / "shared").symlink_to(SHARED)
    yield repo, run_block("offline", repo, timeout=600)


def _truth(repo: Path) -> list[dict[str, str]]:
    text = (repo / ".data" / "august-truth.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _judged(row: dict[str, str]) -> int:
    return (
        int(row["finished_total"]) + int(row["in_progress_total"]) + int(row["waiting_supplement"])
    )


def _plain_tables(stdout: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Each plain table of the output by its title: its headers and rows (the
    cells cut at the column spans of the rule under the headers)."""
    lines = stdout.splitlines()
    titles = [i for i, line in enumerate(lines) if re.match(r"^(Biểu II\.06a|Đối chiếu) ", line)]
    tables = {}
    for t in titles:
        rule = next(i for i in range(t + 2, len(lines)) if lines[i].startswith("---"))
        spans = [m.span() for m in re.finditer(r"-+", lines[rule])]

        def cells(text: str, spans=spans) -> list[str]:
            return [text[a:b].strip() for a, b in spans]

        parts = zip(*map(cells, lines[t + 2 : rule]), strict=True)
        headers = [" ".join(" ".join(p).split()) for p in parts]
        rows = []
        for text in lines[rule + 1 :]:
            if not text.strip() or re.match(r"^(Biểu II\.06a|Đối chiếu) ", text):
                break
            if not text.startswith("---"):
                rows.append(cells(text))
        tables[lines[t]] = (headers, rows)
    return tables


def test_offline_examples_report_reconcile_export(offline) -> None:
    repo, result = offline
    truth = _truth(repo)
    assert len(truth) > 40  # dozens of agencies
    # the report's CSV is the simulator's truth, to the last digit
    report = (repo / ".data" / "august.csv").read_text(encoding="utf-8")
    assert report == (repo / ".data" / "august-truth.csv").read_text(encoding="utf-8")

    tables = _plain_tables(result.stdout)
    by_field = tables["Biểu II.06a — 2026-08-01 đến trước 2026-09-01 — theo lĩnh vực"]
    headers, rows = by_field
    assert headers[:2] == ["Mã lĩnh vực", "Tên lĩnh vực"]
    total = rows[-1]
    assert total[1] == "Tổng"
    received = headers.index("Tiếp nhận mới")
    assert int(total[received]) == sum(int(r["received_total"]) for r in truth)

    # reconciled: the portal's figures from its file, ours from the truth
    portal = json.loads(PORTAL.read_text(encoding="utf-8"))["data"]
    theirs = {u["departmentCode"]: u["totalReceived"] for u in portal["children"]}
    theirs["H44"] = portal["parent"]["totalReceived"]
    ours = {r["unit_code"]: _judged(r) for r in truth}
    ours["H44"] = sum(ours.values())
    headers, rows = tables["Đối chiếu với Cổng Dịch vụ công quốc gia — tháng 2026-08"]
    column = {name: headers.index(name) for name in headers}
    assert rows[0][0] == "H44"
    for row in rows:
        code = row[column["Mã đơn vị"]]
        portal_judged, our_judged = row[column["Hồ sơ (Cổng)"]], row[column["Hồ sơ (hệ thống)"]]
        assert portal_judged == (str(theirs[code]) if code in theirs else ""), code
        assert our_judged == (str(ours[code]) if code in ours else ""), code
        status = row[column["Kết quả đối chiếu"]]
        if code not in ours:
            assert status == "Không có trong hệ thống"
        elif code not in theirs:
            assert status == "Không có trên Cổng"
    assert {r[0] for r in rows} == set(theirs) | set(ours)
    said = result.stderr.splitlines()
    assert any(line.startswith("Tháng 2026-08: ") and "Lệch số liệu" in line for line in said)

    book = load_workbook(repo / ".data" / "august.xlsx")
    assert book.sheetnames == [
        "Bìa", "Theo đơn vị", "Theo lĩnh vực", "Theo huyện", "Chỉ số 766", "Biểu đồ",
        "Dấu hiệu sửa hồ sơ",
    ]  # fmt: skip
    assert said[-1].startswith(f"Đã ghi .data/august.xlsx: tháng 2026-08 — {len(truth)} cơ quan")
    assert "Traceback" not in result.stderr


def test_portal_figures_example_reconciles_the_scorecard(offline) -> None:
    repo, _ = offline
    result = run_block("portal", repo, timeout=600)
    text = (repo / ".data" / "august-scorecard-reconcile.csv").read_text(encoding="utf-8")
    rows = {(r["unit_code"], r["indicator"]): r for r in csv.DictReader(io.StringIO(text))}
    # the portal's side, read from its files here
    progress = json.loads(PORTAL.read_text(encoding="utf-8"))["data"]
    online_file = PORTAL.with_name("provide-online-tree.month.sample.json")
    online = json.loads(online_file.read_text(encoding="utf-8"))["data"]
    for unit in [progress["parent"], *progress["children"]]:
        row = rows[(unit["departmentCode"], "2.1")]
        assert row["portal_denominator"] == str(unit["totalReceived"])
        assert row["portal_numerator"] == str(unit["totalOnTime"])
    for unit in [online["parent"], *online["children"]]:
        row = rows[(unit["departmentCode"], "online")]
        assert Decimal(row["portal_points"]) == Decimal(str(unit["totalScore"]))
    parent = online["parent"]
    assert rows[(parent["departmentCode"], "3.3")]["portal_denominator"] == str(
        parent["channelTotalSum"]
    )
    # ours, against the simulator's truth: 2.1's denominator is the judged count
    truth = _truth(repo)
    for unit in truth:
        assert rows[(unit["unit_code"], "2.1")]["our_denominator"] == str(_judged(unit))
    assert rows[("H44", "2.1")]["our_denominator"] == str(sum(map(_judged, truth)))
    statuses = {
        "Khớp", "Khớp (làm tròn)", "Lệch số liệu", "Chưa đủ số liệu",
        "Không có trên Cổng", "Không có trong hệ thống",
    }  # fmt: skip
    assert {r["status"] for r in rows.values()} <= statuses
    assert {indicator for _, indicator in rows} == {"2.1", "3.3", "online"}
    assert any(line.startswith("Tháng 2026-08: ") for line in result.stderr.splitlines())
    assert "Traceback" not in result.stderr


def test_services_example_stores_the_same_month(offline) -> None:
    repo, _ = offline
    result = run_block("services", repo, timeout=600)
    stored = (repo / ".data" / "august-stored.csv").read_text(encoding="utf-8")
    assert stored == (repo / ".data" / "august-truth.csv").read_text(encoding="utf-8")
    assert (repo / ".data" / "august-stored.xlsx").exists()
    assert "Mọi sự kiện đã gửi đều đã được lưu vào ClickHouse." in result.stderr
    assert not (repo / ".data" / "services.json").exists()  # `services down` ran
    assert "Traceback" not in result.stderr


def test_scorecard_example_scores_each_agencys_progress_as_the_truth(offline) -> None:
    """The 766 block after the first hour: 2.1 per agency is the truth's progress
    ratio (the simulator's own count), 4.2 is scored against the overridden target."""
    repo, _ = offline
    result = run_block("scorecard", repo, timeout=600)
    truth = {r["unit_code"]: r for r in _truth(repo)}
    text = (repo / ".data" / "august-scorecard.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "unit_code", "unit_name", "indicator", "numerator", "denominator", "rate", "points",
        "max", "target", "source",
    ]  # fmt: skip
    progress = {r["unit_code"]: r for r in rows if r["indicator"] == "2.1"}
    assert set(progress) == set(truth)
    for code, row in progress.items():
        assert row["denominator"] == str(_judged(truth[code])), code
        assert row["rate"] == truth[code]["progress_ratio_766"], code
        assert row["points"] == truth[code]["progress_score_766"], code
    assert {r["target"] for r in rows if r["indicator"] == "4.2"} == {"70.00"}
    assert {r["source"] for r in rows if r["indicator"] == "1.1"} == {"missing"}
    assert "Bảng điểm 766 — 2026-08-01 đến trước 2026-09-01 — toàn tỉnh" in result.stdout
    assert "Dự báo điểm 2.1 (tiến độ giải quyết) tháng 08/2026" in result.stdout
    assert "Traceback" not in result.stderr
