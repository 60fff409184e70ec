"""The boards follow the configured timezone and working day (as the CLI
report does), and the default settings render the committed JSON."""

from __future__ import annotations

import json

import pytest

from dashboards.boards import BOARDS, JSON_DIR, render_all
from dashboards.panels import Local, avg_days
from schemas.settings import Settings

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
# 4 + 3 working hours: a 7-hour day, in another timezone
SEVEN_HOURS = {"working_hours": ["08:00-12:00", "13:00-16:00"], "timezone": "Asia/Bangkok"}
# the boards showing average processing days (unit tables)
AVERAGE_DAYS = {
    "toan-tinh": ["Theo đơn vị (tỷ lệ đúng hạn thấp nhất trước)"],
    "don-vi": ["Theo lĩnh vực", "Theo thủ tục"],
}


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings() as shipped: no .env file nor environment overriding the calendar."""
    for name in ("MOTCUA_TIMEZONE", "MOTCUA_WORKING_HOURS"):
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None)


def _sql(board: dict) -> dict[str, str]:
    return {p["title"]: p["targets"][0]["rawSql"] for p in board["panels"]}


def test_local_of_settings() -> None:
    assert Local.of(Settings(_env_file=None, **SEVEN_HOURS)) == Local("Asia/Bangkok", 7 * 3600)
    other_eight = Settings(_env_file=None, working_hours=["07:00-11:00", "13:00-17:00"])
    assert Local.of(other_eight).day_seconds == 8 * 3600


def test_default_local_is_the_default_calendar(defaults: Settings) -> None:
    assert Local.of(defaults) == Local(DEFAULT_TZ, 8 * 3600)


def test_custom_settings_reach_every_board() -> None:
    local = Local.of(Settings(_env_file=None, **SEVEN_HOURS))
    rendered = render_all(Settings(_env_file=None, **SEVEN_HOURS))
    for name, build in BOARDS.items():
        board = build(local)
        assert json.loads(rendered[f"{name}.json"]) == board
        assert board["timezone"] == "Asia/Bangkok"
        text = json.dumps(board, ensure_ascii=False)
        assert DEFAULT_TZ not in text, name
        assert "28800" not in text, name
        sql = _sql(board)
        for title in AVERAGE_DAYS.get(name, []):
            assert f'{avg_days(local)} AS "TG giải quyết TB (ngày)"' in sql[title]
            assert "processing_seconds / finished_total / 25200)" in sql[title]
    province = _sql(BOARDS["toan-tinh"](local))
    assert "toStartOfDay(now(), 'Asia/Bangkok')" in province["Tiếp nhận hôm nay"]
    assert "toStartOfDay(received_at, 'Asia/Bangkok')" in province["Tiếp nhận theo ngày"]
    assert "toString(due, 'Asia/Bangkok')" in _sql(BOARDS["don-vi"](local))["Hồ sơ đang quá hạn"]
    findings = _sql(BOARDS["canh-bao"](local))["Dấu hiệu sửa hồ sơ sau khi đã ghi nhận"]
    assert "toString(finding_at, 'Asia/Bangkok')" in findings


def test_default_settings_render_the_committed_json(defaults: Settings) -> None:
    rendered = render_all(defaults)
    assert set(rendered) == {p.name for p in JSON_DIR.glob("*.json")}
    for name, text in rendered.items():
        assert (JSON_DIR / name).read_text(encoding="utf-8") == text, f"{name} is stale"
    default_text = "".join(rendered.values())
    assert "/ 28800)" in default_text and f"'{DEFAULT_TZ}'" in default_text
