"""`motcua catalogue load FILE` on Debian's ClickHouse 18.16: the procedures are
stored (a second load supersedes), and `motcua scorecard --source clickhouse`
then judges with them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from motcua import app
from streams.clickhouse.migrations import migrate
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import WorkingCalendar
from tests.conftest import load_facts
from tests.unit.rules.test_scorecard import histories

pytestmark = pytest.mark.integration

CATALOGUE = (
    '[{"code": "P1", "name": "Thủ tục một", "paper_result": "1", "full_online_eligible": "x"},'
    ' {"code": "P2", "paper_result": "0", "full_online_eligible": ""}]'
)


def test_load_then_scorecard_uses_the_stored_catalogue(clickhouse, tmp_path: Path) -> None:
    engine = clickhouse.engine()
    engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    migrate(engine)
    load_facts(engine, [e for h in histories() for e in h], datetime.now(UTC), WorkingCalendar())
    env = clickhouse.env()

    def scorecard_41() -> tuple[str, str]:
        args = ["scorecard", "--from", "2026-05-01", "--to", "2026-06-01", "--format", "csv",
                "--source", "clickhouse"]  # fmt: skip
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        rows = csv.DictReader(io.StringIO(result.stdout))
        a = next(r for r in rows if (r["unit_code"], r["indicator"]) == ("H44.100", "4.1"))
        return a["numerator"], a["denominator"]

    assert scorecard_41() == ("3", "5")  # stand-ins: every procedure has a paper result
    path = tmp_path / "catalogue.json"
    path.write_text(CATALOGUE, encoding="utf-8")
    for _ in range(2):  # a second load supersedes the first
        result = CliRunner().invoke(app, ["catalogue", "load", str(path)], env=env)
        assert result.exit_code == 0, result.output
        assert f"Đã lưu 2 thủ tục của {path}" in result.stderr
    stored = engine.rows(
        f"SELECT code, name, paper_result, full_online_eligible FROM {DATABASE}.procedures "
        "FINAL ORDER BY code"
    )
    assert [tuple(r) for r in stored] == [("P1", "Thủ tục một", 1, 1), ("P2", "", 0, 0)]
    assert scorecard_41() == ("2", "3")  # as with --catalogue (tests/unit/cli)

    bad = tmp_path / "bad.csv"
    bad.write_text("code,paper_result\nP1,maybe\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["catalogue", "load", str(bad)], env=env)
    assert result.exit_code == 1 and "không đọc được danh mục thủ tục" in result.stderr
