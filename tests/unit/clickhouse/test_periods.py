"""Which periods (calendar months of UTC+7) a fact row is stored under (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.clickhouse.rows import FACT_COLUMNS, period_rows, stored_time
from streams.clickhouse.sql import NEVER, period_of

MARCH_2026 = (2026 - 1970) * 12 + 2  # months since January 1970, January = 0


def fact(received: datetime, end: datetime | None, last_event: datetime) -> tuple:
    row = dict.fromkeys(FACT_COLUMNS, "")
    row.update(
        dossier_id="D1",
        received_at=stored_time(received),
        end_at=stored_time(end),
        last_event_at=stored_time(last_event),
    )
    return tuple(row[c] for c in FACT_COLUMNS)


def test_periods_are_months_of_vietnam_time() -> None:
    # 31 March 16:59:59 UTC is 23:59:59 in Vietnam; a second later it is April there
    assert period_of(stored_time(datetime(2026, 3, 31, 16, 59, 59, tzinfo=UTC))) == MARCH_2026
    assert period_of(stored_time(datetime(2026, 3, 31, 17, tzinfo=UTC))) == MARCH_2026 + 1
    assert period_of(stored_time(datetime(2026, 2, 28, 17, tzinfo=UTC))) == MARCH_2026
    assert period_of(0) == 0  # 1 January 1970, 07:00 in Vietnam


def test_a_finished_dossier_is_stored_in_every_period_to_its_latest_event() -> None:
    received = datetime(2026, 3, 20, 1, tzinfo=UTC)
    ended = datetime(2026, 3, 30, 9, tzinfo=UTC)
    last = datetime(2026, 5, 2, 1, tzinfo=UTC)  # an event after the end, in May
    row = fact(received, ended, last)
    periods = period_rows([row])
    assert [p for p, *_ in periods] == [MARCH_2026, MARCH_2026 + 1, MARCH_2026 + 2]
    assert all(tuple(rest) == row for _, *rest in periods)
    assert [p for p, *_ in period_rows([fact(received, ended, ended)])] == [MARCH_2026]


def test_an_open_dossier_has_no_period_rows() -> None:
    received = datetime(2026, 3, 4, 1, tzinfo=UTC)
    assert stored_time(None) == stored_time(NEVER)
    assert period_rows([fact(received, None, datetime(2026, 4, 1, tzinfo=UTC))]) == []
