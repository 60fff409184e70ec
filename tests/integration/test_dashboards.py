"""The Grafana boards: valid JSON as committed, and every panel's SQL, with the
plugin's macros expanded, run on ClickHouse 18.16 and on chdb against a known
history, the key numbers equal to the period report."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from dashboards.boards import BOARDS, JSON_DIR, VARIABLES, render_all
from dashboards.macros import expand
from dashboards.panels import Local, overdue_now
from reports.offline import states_at
from streams.clickhouse.migrations import migrate
from streams.rules.calendar import WorkingCalendar
from streams.rules.integrity import FINDING_NAMES_VI, integrity_findings
from streams.rules.lifecycle import Standing, dossier_state
from streams.rules.period import UnitKind, period_report
from streams.rules.units import commune_of, recorded_area
from tests.conftest import load_facts
from tests.histories import TZ, random_province

pytestmark = pytest.mark.integration

CAL = WorkingCalendar()
EVENTS = random_province(seed=21, dossiers=400, start=datetime(2026, 1, 5, tzinfo=TZ))
START, END = datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ)
ALL = dict.fromkeys(VARIABLES, "")
# the boards for the calendar the expected numbers are computed with
LOCAL = Local(str(CAL.tz), int(CAL.day_length.total_seconds()))


def panels() -> list[dict]:
    return [p for build in BOARDS.values() for p in build(LOCAL)["panels"]]


def by_title(board: str, title: str) -> dict:
    return next(p for p in BOARDS[board](LOCAL)["panels"] if p["title"] == title)


# -- structure ------------------------------------------------------------------------


def test_committed_json_is_current() -> None:
    for name, text in render_all().items():
        path = JSON_DIR / name
        assert path.exists(), f"{path} missing: run `python -m dashboards.boards`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: re-render it"


@pytest.mark.parametrize("name", list(BOARDS))
def test_board_structure(name: str) -> None:
    board = BOARDS[name](LOCAL)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    defined = {v["name"] for v in board["templating"]["list"]}
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["datasource"]["type"] == "grafana-clickhouse-datasource"
        assert panel["title"] and not panel["title"].isascii()  # Vietnamese titles
        for target in panel["targets"]:
            assert target["rawSql"].strip() and target["datasource"] == panel["datasource"]
            used = set(re.findall(r"\$\{(\w+)\}", target["rawSql"]))
            assert used <= defined, (panel["title"], used - defined)
    assert not board["title"].isascii()


# -- queries against real engines ------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(engine):
    migrate(engine)
    load_facts(engine, EVENTS, datetime.now(UTC), CAL)
    return engine


def run(engine, sql: str, variables: dict[str, str] = ALL) -> list[tuple]:
    return [tuple(r) for r in engine.rows(expand(sql, START, END, variables))]


def test_every_panel_and_variable_query_runs(loaded) -> None:
    engine = loaded
    for panel in panels():
        for target in panel["targets"]:
            run(engine, target["rawSql"])  # raises on any SQL error
    for build in BOARDS.values():
        for variable in build(LOCAL)["templating"]["list"]:
            assert run(engine, variable["query"]), variable["name"]


def test_filter_lists_are_the_units_received(loaded) -> None:
    """Each board filter lists exactly the units named by the received events
    (latest receipt's name), levels under their Vietnamese names."""
    received = sorted((e for e in EVENTS if e.type.value == "received"), key=lambda e: e.at)
    level_names = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
    expected: dict[str, dict[str, str]] = {name: {} for name in VARIABLES}
    for e in received:
        expected["district"][e.district_code] = e.district_name
        expected["agency"][e.agency_code] = e.agency_name
        expected["field"][e.field_code] = e.field_name
        expected["level"][e.level.value] = level_names[e.level.value]
        # issue #17: the area is the district fields; the commune as the reports name it
        expected["area"][e.district_code] = e.district_name
        commune = commune_of(e)
        if commune[0]:
            expected["commune"][commune[0]] = commune[1]
    for variable in BOARDS["toan-tinh"](LOCAL)["templating"]["list"]:
        listed = run(loaded, variable["query"])
        want = expected[variable["name"]]
        assert dict(listed) == want, variable["name"]
        assert [text for _, text in listed] == sorted(want.values()), variable["name"]


def _close(value: object, exact: Fraction) -> bool:
    return abs(Fraction(float(value)) - exact) < Fraction(1, 10**9)


def test_province_stats_equal_the_period_report(loaded) -> None:
    engine = loaded
    [province] = period_report(states_at(EVENTS, END, CAL), START, END, UnitKind.PROVINCE, CAL)
    stat = {
        p["title"]: run(engine, p["targets"][0]["rawSql"])[0][0]
        for p in BOARDS["toan-tinh"](LOCAL)["panels"]
        if p["type"] == "stat"
    }
    assert int(stat["Tiếp nhận trong kỳ"]) == province.received_total
    assert int(stat["Đã giải quyết trong kỳ"]) == province.finished_total
    assert int(stat["Quá hạn"]) == province.finished_late
    on_time = Fraction(province.finished_early + province.finished_on_time, province.finished_total)
    assert _close(stat["Tỷ lệ đúng hạn"], 100 * on_time)
    assert round(float(stat["Tỷ lệ đúng hạn"]), 2) == float(province.on_time_rate)
    assert round(float(stat["Điểm tiến độ 766 (/20)"]), 2) == float(province.progress_score_766)
    assert round(float(stat["Tỷ lệ trực tuyến"]), 2) == float(province.online_rate)


def test_agency_table_equals_the_period_report_worst_first(loaded) -> None:
    engine = loaded
    expected = period_report(states_at(EVENTS, END, CAL), START, END, UnitKind.AGENCY, CAL)
    sql = by_title("toan-tinh", "Theo đơn vị (tỷ lệ đúng hạn thấp nhất trước)")
    got = run(engine, sql["targets"][0]["rawSql"])
    rates = [float(r[7]) for r in got]
    assert rates == sorted(rates)
    by_code = {r[0]: r for r in got}
    assert set(by_code) == {r.unit_code for r in expected}
    for row in expected:
        line = by_code[row.unit_code]
        assert tuple(int(v) for v in line[2:7]) == (
            row.received_total,
            row.finished_total,
            row.finished_late,
            row.in_progress_overdue,
            row.waiting_supplement,
        )
        assert round(float(line[7]), 2) == float(row.on_time_rate)
        assert round(float(line[8]), 2) == float(row.progress_ratio_766)
        assert round(float(line[10]), 2) == float(row.avg_processing_days)


def test_agency_board_by_field_for_one_agency(loaded) -> None:
    engine = loaded
    states = [s for s in states_at(EVENTS, END, CAL) if s.received.agency_code == "H44.100"]
    expected = period_report(states, START, END, UnitKind.FIELD, CAL)
    sql = by_title("don-vi", "Theo lĩnh vực")["targets"][0]["rawSql"]
    got = {r[0]: r for r in run(engine, sql, {**ALL, "agency": "H44.100"})}
    assert {code: int(line[3]) for code, line in got.items()} == {
        r.unit_code: r.finished_total for r in expected
    }


def test_overdue_list_is_what_the_rules_say_now(loaded) -> None:
    engine = loaded
    now = datetime.now(UTC)
    histories: dict[str, list] = {}
    for e in EVENTS:
        histories.setdefault(e.dossier_id, []).append(e)
    overdue = {
        d
        for d, h in histories.items()
        if (s := dossier_state(h, now, CAL)) and s.standing is Standing.OVERDUE
    }
    got = {r[0] for r in run(engine, overdue_now(LOCAL))}
    assert got == overdue and overdue


@pytest.mark.parametrize(
    ("title", "place"),
    [
        ("Tỷ lệ trễ hạn theo lĩnh vực × huyện", lambda r: r.district_name),
        ("Tỷ lệ trễ hạn theo lĩnh vực × khu vực", lambda r: recorded_area(r)[1]),
        ("Tỷ lệ trễ hạn theo lĩnh vực × xã/phường", lambda r: commune_of(r)[1]),
    ],
)
def test_hotspot_cells_count_finished_in_range_and_open_at_end(loaded, title, place) -> None:
    engine = loaded
    expected: Counter = Counter()
    late: Counter = Counter()
    for s in states_at(EVENTS, END, CAL):
        in_range = s.end_at is not None and s.end_at >= START
        open_now = s.standing in (Standing.WITHIN_DUE, Standing.OVERDUE)
        if in_range or open_now:
            cell = (s.received.field_name, place(s.received))
            expected[cell] += 1
            late[cell] += s.standing in (Standing.LATE, Standing.OVERDUE)
    assert len(expected) > 3
    sql = by_title("diem-nong", title)["targets"][0]["rawSql"]
    got = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in run(engine, sql)}
    assert got == {cell: (expected[cell], late[cell]) for cell in expected}


def test_findings_panel_lists_the_findings_observed_in_range(loaded) -> None:
    """The inspectors' list equals the rules' findings observed in [START, END)."""
    histories: dict[str, list] = {}
    for e in EVENTS:
        histories.setdefault(e.dossier_id, []).append(e)
    expected = {
        (f.dossier_id, FINDING_NAMES_VI[f.kind])
        for h in histories.values()
        for f in integrity_findings(h, CAL)
        if START <= f.observed_at < END
    }
    panel = by_title("canh-bao", "Dấu hiệu sửa hồ sơ sau khi đã ghi nhận")
    got = {(r[2], r[1]) for r in run(loaded, panel["targets"][0]["rawSql"])}
    assert got == expected and expected
