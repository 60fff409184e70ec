"""Board "Chỉ số 766" (dashboards/scorecard.py) on both engines: its panels, the
plugin's macros expanded, equal the scorecard's cells (`read_scorecard` and
the pure rule) for the same range, with the stored catalogue, and its
forecast panels equal `streams.rules.forecast` at the same instant."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dashboards.boards import BOARDS, VARIABLES
from dashboards.macros import expand
from dashboards.panels import Local
from reports.offline import states_at
from reports.scorecard import month_forecast
from schemas.events import DossierEvent
from streams.clickhouse.migrations import migrate
from streams.clickhouse.scorecard import STORED_CATALOGUE, read_scorecard, store_catalogue
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import UnitKind, period_report
from streams.rules.scorecard import UnitScorecard, scorecard
from tests.conftest import load_facts
from tests.histories import random_history, random_province
from tests.unit.rules.test_scorecard import CATALOGUE, END, START, histories

pytestmark = pytest.mark.integration

CAL = WorkingCalendar()
LOCAL = Local(str(CAL.tz), int(CAL.day_length.total_seconds()))
ALL = dict.fromkeys(VARIABLES, "")
MAY = [e for h in histories() for e in h]


def recent(now: datetime) -> list[DossierEvent]:
    """Dossiers of the last 100 days (events up to an hour ago), plus some received
    two hours ago with dues later this month and after it: decided and undecided."""
    events = [
        e for e in random_province(seed=77, dossiers=300, start=now - timedelta(days=100))
        if e.at < now - timedelta(hours=1)
    ]  # fmt: skip
    rnd = random.Random(7)
    for n in range(24):
        [received] = random_history(rnd, f"NEW-{n:03d}", now)[:1]
        due = now + (timedelta(hours=3 + 4 * n) if n % 4 else timedelta(days=40))
        events.append(
            received.model_copy(update={"at": now - timedelta(hours=2), "due_at": due,
                                        "time_limit": None})
        )  # fmt: skip
    return events


@pytest.fixture(scope="module")
def stored(engine):
    migrate(engine)
    now = datetime.now(UTC)
    events = MAY + recent(now)
    load_facts(engine, events, now, CAL)
    store_catalogue(engine, CATALOGUE)
    return engine, events


def panel(title: str) -> str:
    board = BOARDS["chi-so-766"](LOCAL)
    [found] = [p for p in board["panels"] if p["title"] == title]
    return found["targets"][0]["rawSql"]


def run(engine, sql: str, variables: dict[str, str] = ALL) -> list[tuple]:
    return [tuple(r) for r in engine.rows(expand(sql, START, END, variables))]


def num(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 2))).quantize(Decimal("0.01"))


def expected_cards(events, by: UnitKind) -> list[UnitScorecard]:
    states = states_at(events, END, CAL)
    rows = period_report(states, START, END, by, CAL)
    return scorecard(states, rows, START, END, by, catalogue=CATALOGUE)


def cell(score) -> tuple:
    return (
        score.numerator,
        score.denominator,
        score.rate,
        score.points,
        score.indicator.max_points,
        score.points_lost,
    )


def test_unit_table_is_the_scorecards_cells(stored) -> None:
    engine, events = stored
    got = run(engine, panel("Theo đơn vị và chỉ số: tỷ lệ, điểm, điểm mất"))
    pure = expected_cards(events, UnitKind.AGENCY)
    stored_cards = read_scorecard(
        engine, START, END, UnitKind.AGENCY, CAL, catalogue=STORED_CATALOGUE
    )
    for cards in (pure, stored_cards):
        want = [
            (c.unit_code, c.unit_name, s.indicator.id, *cell(s))
            for c in cards
            for s in c.scores
            if s.source.value == "computed"
        ]
        assert [
            (r[0], r[1], r[2], r[4], r[5], num(r[6]), num(r[7]), num(r[8]), num(r[9])) for r in got
        ] == [(*w[:5], w[5], w[6], w[7] and num(w[7]), w[8]) for w in want]
    # the catalogue stored is used: with it A's 4.1 is 2/3 (tests/unit/rules/test_scorecard)
    a41 = next(r for r in got if r[0] == "H44.100" and r[2] == "4.1")
    assert (a41[4], a41[5]) == (2, 3)


def test_totals_equal_the_scorecards(stored) -> None:
    engine, events = stored
    [province] = expected_cards(events, UnitKind.PROVINCE)
    board = BOARDS["chi-so-766"](LOCAL)
    stats = {p["title"]: run(engine, p["targets"][0]["rawSql"])[0][0]
             for p in board["panels"][:3]}  # fmt: skip
    lost = sum((s.points_lost for s in province.scores if s.points_lost is not None), Decimal(0))
    assert num(stats["Tổng điểm các chỉ số tính từ hồ sơ"]) == province.total
    assert num(stats["Trên tối đa"]) == province.total_max
    assert num(stats["Điểm mất"]) == lost
    rows = run(engine, panel("Điểm từng chỉ số — toàn tỉnh"))
    assert [(r[0], num(r[6])) for r in rows] == [
        (s.indicator.id, s.points) for s in province.scores if s.source.value == "computed"
    ]
    by_unit = run(engine, panel("Theo đơn vị: tổng điểm và điểm mất (mất nhiều nhất trước)"))
    cards = {c.unit_code: c for c in expected_cards(events, UnitKind.AGENCY)}
    assert {r[0]: (num(r[2]), num(r[3])) for r in by_unit} == {
        code: (c.total, c.total_max) for code, c in cards.items()
    }
    assert [num(r[4]) for r in by_unit] == sorted((num(r[4]) for r in by_unit), reverse=True)


def test_variables_filter_the_units(stored) -> None:
    engine, _ = stored
    sql = panel("Theo đơn vị và chỉ số: tỷ lệ, điểm, điểm mất")
    got = run(engine, sql, {**ALL, "agency": "H44.100"})
    assert {r[0] for r in got} == {"H44.100"} and len(got) == 10


def test_forecast_and_at_risk_are_the_rules(stored) -> None:
    engine, events = stored
    now = datetime.now(UTC)
    expected = month_forecast(states_at(events, now, CAL), now, UnitKind.AGENCY, CAL)
    got = run(engine, panel("Dự báo điểm 2.1 tháng này theo đơn vị"))
    assert {r[0]: (*map(int, r[2:6]), num(r[7]), num(r[8]), num(r[9])) for r in got} == {
        u.unit_code: (u.denominator, u.on_time, u.late, u.undecided, u.best, u.expected, u.worst)
        for u in expected.units
    }
    assert sum(u.undecided for u in expected.units) >= 10
    at_risk = run(engine, panel("Hồ sơ cần giải quyết đúng hạn trước (tháng này)"))
    assert [(r[0], r[1], num(r[4])) for r in at_risk] == [
        (r.dossier_id, r.unit_name, r.points_saved) for r in expected.at_risk
    ]
    [province] = month_forecast(states_at(events, now, CAL), now, UnitKind.PROVINCE, CAL).units
    board = BOARDS["chi-so-766"](LOCAL)
    stats = {p["title"]: run(engine, p["targets"][0]["rawSql"])[0][0]
             for p in board["panels"][3:6]}  # fmt: skip
    assert num(stats["Điểm 2.1 tháng này — tốt nhất"]) == province.best
    assert num(stats["Điểm 2.1 tháng này — dự kiến"]) == province.expected
    assert num(stats["Điểm 2.1 tháng này — xấu nhất"]) == province.worst
