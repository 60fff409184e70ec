"""Issue #19 through the command line (typer's runner), without servers: the
source follows the arguments, expected failures are one Vietnamese line with
the way out and a non-zero exit, empty input and empty periods are refused,
report tables fit and name what they group, help texts read whole.

"No ClickHouse" and "no broker" are real: a loopback port nobody listens on.
The numbers are the hand-worked history of test_report_command.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from motcua import app
from streams.services import free_port
from tests.unit.cli.test_report_command import LINES

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT.parent / "shared" / "data" / "portal-766"
PROGRESS = SAMPLE / "dvc-progress-tree.month.sample.json"
ONLINE = SAMPLE / "provide-online-tree.month.sample.json"
UNITS = ROOT / "tests" / "fixtures" / "sync" / "units.json"
MAY = ["--from", "2026-05-01", "--to", "2026-06-01"]


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in LINES)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _nowhere() -> dict[str, str]:
    """Settings pointing at a ClickHouse and a broker that are not there."""
    return {
        "MOTCUA_CLICKHOUSE_PORT": str(free_port()),
        "MOTCUA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
    }


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def _one_error(result) -> str:
    """The failure's message: exactly one line, starting "Lỗi: ", no traceback."""
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.stderr.splitlines() if line.startswith("Lỗi: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0]


# -- 2. the source follows the arguments; expected failures ---------------------------------


def test_events_alone_mean_files_for_export_and_reconcile(events: Path, tmp_path: Path) -> None:
    out = tmp_path / "may.xlsx"
    env = _nowhere()  # were ClickHouse asked, these would fail
    result = run("export", "monthly", "--month", "2026-05", "--output", str(out),
                 "--events", str(events), env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    # hand-worked May: agencies H44.07 and H44.100, one field (DD), one district (D01);
    # received A and C, finished A (early) and B (on time): 100.00% on time
    assert result.stderr.splitlines()[-1] == (
        f"Đã ghi {out}: tháng 2026-05 — 2 cơ quan, 1 lĩnh vực, 1 huyện; 2 hồ sơ tiếp nhận, "
        f"2 đã giải quyết, tỷ lệ đúng hạn 100.00% · nguồn: {events}"
    )
    assert load_workbook(out).sheetnames == [
        "Bìa", "Theo đơn vị", "Theo lĩnh vực", "Theo huyện", "Chỉ số 766", "Biểu đồ",
        "Dấu hiệu sửa hồ sơ",
    ]  # fmt: skip
    result = run("reconcile", str(PROGRESS), "--month", "2026-05", "--events", str(events),
                 "--format", "csv", env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    # the sample lists 12 units besides the province; ours: H44.07 and H44.100 among them.
    # H44 (province): 3 judged vs 184513 → differs; H44.07 (1 judged vs 482) and H44.100
    # (2 vs 2971) differ; the other 10 listed units have nothing here.
    assert result.stderr.splitlines()[-1] == (
        "Tháng 2026-05: 13 dòng đối chiếu — Khớp: 0, Lệch số liệu: 3, Không có trên Cổng: 0, "
        f"Không có trong hệ thống: 10 · nguồn: {events}"
    )


def test_clickhouse_unreachable_is_one_line_with_the_ways_out(tmp_path: Path) -> None:
    env = _nowhere()
    port = env["MOTCUA_CLICKHOUSE_PORT"]
    for args in (
        ["export", "monthly", "--month", "2026-05", "--output", str(tmp_path / "x.xlsx")],
        ["reconcile", str(PROGRESS), "--month", "2026-05"],
        ["report", *MAY],
        ["alerts", *MAY],
    ):
        result = run(*args, env=env)
        assert result.exit_code == 1, (args, result.output)
        line = _one_error(result)
        assert line.startswith(f"Lỗi: không kết nối được ClickHouse tại 127.0.0.1:{port}"), line
        assert 'eval "$(motcua services up)"' in line and "MOTCUA_CLICKHOUSE_HOST" in line
        assert "thêm --events TỆP.jsonl" in line
    assert not (tmp_path / "x.xlsx").exists()


def test_contradicting_or_missing_inputs_are_usage_errors(events: Path, tmp_path: Path) -> None:
    result = run("report", *MAY, "--events", str(events), "--source", "clickhouse")
    assert result.exit_code == 2
    assert _one_error(result) == (
        "Lỗi: --events và --source clickhouse mâu thuẫn nhau — bỏ --events để đọc từ "
        "ClickHouse, hoặc bỏ --source để đọc từ tệp"
    )
    result = run("report", *MAY, "--source", "files")
    assert result.exit_code == 2 and "cần ít nhất một --events" in _one_error(result)
    missing = tmp_path / "nope.jsonl"
    result = run("export", "monthly", "--month", "2026-05", "--output", str(tmp_path / "x.xlsx"),
                 "--events", str(missing))  # fmt: skip
    assert result.exit_code == 2
    assert (
        _one_error(result) == f"Lỗi: không tìm thấy tệp sự kiện {missing} — kiểm tra lại đường dẫn"
    )
    result = run("reconcile", str(missing), "--month", "2026-05", "--events", str(events))
    assert result.exit_code == 2 and "không tìm thấy tệp của Cổng" in _one_error(result)
    result = run("report", "--from", "01/05/2026", "--to", "2026-06-01", "--events", str(events))
    assert result.exit_code == 2
    assert _one_error(result) == (
        "Lỗi: ngày không hợp lệ: '01/05/2026' — viết ngày dạng YYYY-MM-DD, ví dụ 2026-05-01"
    )
    result = run("report", *MAY, "--events", str(events), "--format", "xlsx")
    assert result.exit_code == 2 and "--format xlsx cần --output" in _one_error(result)


def test_a_wrong_portal_file_names_the_file_expected(events: Path) -> None:
    result = run("reconcile", str(ONLINE), "--month", "2026-05", "--events", str(events))
    assert result.exit_code == 1
    line = _one_error(result)
    assert "«Cung cấp dịch vụ công trực tuyến» (provide-online-tree)" in line
    assert "cần tệp «Tiến độ giải quyết» (dvc-progress-tree)" in line
    assert "dvc-progress-tree.month.sample.json" in line


# -- 3. no broker: at once, with the way out -------------------------------------------------


def test_no_broker_fails_in_a_moment_pointing_to_services_up(events: Path, tmp_path: Path) -> None:
    env = _nowhere()
    for args in (
        ["replay", str(events)],
        ["ingest", "file", str(UNITS), "--units", str(UNITS), "--state", str(tmp_path / "s")],
    ):
        began = time.monotonic()
        result = run(*args, env=env)
        assert time.monotonic() - began < 5  # kafka-python alone waits 30 s
        assert result.exit_code == 1
        line = _one_error(result)
        assert line.startswith(
            f"Lỗi: không kết nối được broker Kafka tại {env['MOTCUA_BOOTSTRAP_SERVERS']} — "
            'khởi động dịch vụ cục bộ bằng `eval "$(motcua services up)"`'
        )


# -- 5. nothing to report is not a report -------------------------------------------------------


def test_empty_and_garbage_files_and_empty_periods_are_refused(
    events: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = run("report", *MAY, "--events", str(empty))
    assert result.exit_code == 1 and result.stdout == ""
    assert _one_error(result).startswith(f"Lỗi: {empty}: không có sự kiện hợp lệ nào (tệp trống)")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("nope\n{}\n", encoding="utf-8")
    result = run("report", *MAY, "--events", str(garbage))
    assert result.exit_code == 1 and result.stdout == ""
    assert _one_error(result).startswith(
        f"Lỗi: {garbage}: không có sự kiện hợp lệ nào (2 dòng không hợp lệ)"
    )
    result = run("report", "--from", "2025-05-01", "--to", "2025-06-01", "--events", str(events))
    assert result.exit_code == 1 and result.stdout == ""
    # the file's events run from B's receipt (28/04) to C's (29/05)
    assert _one_error(result) == (
        "Lỗi: không có hồ sơ nào trong kỳ 2025-05-01 đến trước 2025-06-01 — sự kiện trong tệp "
        "nằm trong khoảng 28/04/2026 – 29/05/2026; chọn kỳ trong khoảng đó"
    )
    out = tmp_path / "x.xlsx"
    result = run("export", "monthly", "--month", "2025-05", "--output", str(out),
                 "--events", str(events))  # fmt: skip
    assert result.exit_code == 1 and not out.exists()
    assert "không có hồ sơ nào trong tháng 2025-05" in _one_error(result)


def test_an_unknown_unit_writes_no_workbook(events: Path, tmp_path: Path) -> None:
    out = tmp_path / "nope.xlsx"
    result = run("export", "monthly", "--month", "2026-05", "--output", str(out), "--unit", "NOPE",
                 "--events", str(events))  # fmt: skip
    assert result.exit_code == 1 and not out.exists()
    assert _one_error(result) == (
        "Lỗi: không có cơ quan mã 'NOPE' trong số liệu — dùng một mã có thật "
        "(2 mã: H44.07, H44.100)"
    )
    result = run("alerts", *MAY, "--unit", "NOPE", "--events", str(events))
    assert result.exit_code == 1 and "không có cơ quan mã 'NOPE'" in _one_error(result)


# -- 6. the report table -------------------------------------------------------------------------


def _columns(text: str) -> tuple[list[str], list[list[str]]]:
    """A plain table's header lines and rows, cut at the rule's column spans."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans = [m.span() for m in re.finditer(r"-+", lines[rule])]

    def cells(line: str) -> list[str]:
        return [line[a:b].strip() if a < len(line) else "" for a, b in spans]

    headers = [" ".join(part) for part in zip(*(cells(h) for h in lines[2:rule]), strict=True)]
    rows = [cells(line) for line in lines[rule + 1 :] if line and not line.startswith("---")]
    return [" ".join(h.split()) for h in headers], rows


def test_plain_table_in_a_pipe_with_a_total_row(events: Path) -> None:
    result = run("report", *MAY, "--events", str(events), "--format", "table")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "Biểu II.06a — 2026-05-01 đến trước 2026-06-01 — theo cơ quan"
    headers, rows = _columns(result.stdout)
    assert headers == [
        "Mã đơn vị", "Tên đơn vị", "Từ kỳ trước", "Tiếp nhận mới", "Đã giải quyết", "Quá hạn",
        "Quá hạn (đang giải quyết)", "Chờ bổ sung", "Tỷ lệ đúng hạn (%)",
        "Tiến độ giải quyết 766 (%)", "Tỷ lệ trực tuyến (%)", "Thời gian giải quyết TB (ngày)",
    ]  # fmt: skip
    assert rows == [
        # C in progress within due; nothing finished: blank rates
        ["H44.07", "Sở Công Thương", "0", "1", "0", "0", "0", "0", "", "100.00", "0.00", ""],
        # A early + B on time; avg (2.125 + 3.75) / 2 = 2.94 days
        ["H44.100", "UBND Phường Việt Trì", "1", "1", "2", "0", "0", "0", "100.00", "100.00",
         "100.00", "2.94"],
        # the sum: 3 judged all on time (766: 100.00), A online of A and C (50.00)
        ["", "Tổng", "1", "2", "2", "0", "0", "0", "100.00", "100.00", "50.00", "2.94"],
    ]  # fmt: skip
    assert result.stderr.splitlines()[-1] == (
        f"2 dòng theo cơ quan · kỳ 2026-05-01 đến trước 2026-06-01 · nguồn: {events}"
    )


@pytest.mark.parametrize(
    ("by", "title", "code", "name"),
    [
        ("field", "theo lĩnh vực", "Mã lĩnh vực", "Tên lĩnh vực"),
        ("district", "theo huyện", "Mã huyện", "Tên huyện"),
        ("level", "theo cấp", "Mã cấp", "Cấp"),
    ],
)
def test_tables_are_named_for_what_they_group(
    events: Path, by: str, title: str, code: str, name: str
) -> None:
    result = run("report", *MAY, "--events", str(events), "--format", "table", "--by", by)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(f" — {title}")
    headers, _ = _columns(result.stdout)
    assert headers[:2] == [code, name]


@pytest.mark.parametrize("width", [80, 100, 120])
def test_terminal_table_fits_its_width(events: Path, width: int) -> None:
    env = {"TTY_COMPATIBLE": "1", "COLUMNS": str(width), "NO_COLOR": "1"}
    result = run("report", *MAY, "--events", str(events), "--format", "table", env=env)
    assert result.exit_code == 0, result.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert all(len(line.rstrip()) <= width for line in text.splitlines()), text
    assert "theo cơ quan" in text and "Tổng" in text and "UBND Phường Việt Trì" in text
    assert ("đã ẩn" in text) == (width < 120)  # 12 columns need 120


def test_xlsx_says_where_it_wrote(events: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    result = run("report", *MAY, "--events", str(events), "--format", "xlsx", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"Đã ghi {out} (Biểu II.06a, 2 dòng)." in result.stderr.splitlines()
    assert out.exists()


# -- 7. help texts read whole, in Vietnamese --------------------------------------------------

VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]")


def _commands(command, path: str = "motcua"):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


def test_every_help_text_is_vietnamese_and_unbroken() -> None:
    root = typer.main.get_command(app)
    checked = 0
    for path, command in _commands(root):
        texts = [(path, command.help or "")]
        texts += [
            (f"{path} {p.name}", p.help or "")
            for p in command.params
            if p.param_type_name in ("option", "argument") and p.name not in _CLICK_OWN
        ]
        for where, text in texts:
            if where.endswith(" help"):
                continue
            assert text, f"{where}: no help"
            assert "\n" not in text, f"{where}: broken across lines: {text!r}"
            assert VIETNAMESE.search(text), f"{where}: not Vietnamese: {text!r}"
            checked += 1
    assert checked > 80


_CLICK_OWN = {"help", "install_completion", "show_completion"}


def test_an_unreadable_unit_directory_is_named(events: Path, tmp_path: Path) -> None:
    units = tmp_path / "units.json"
    units.write_text("nope", encoding="utf-8")
    result = run("ingest", "file", str(events), "--units", str(units), env=_nowhere())
    assert result.exit_code == 1
    assert _one_error(result).startswith(f"Lỗi: {units}: không đọc được danh mục đơn vị (")
