"""The periods (calendar months of UTC+7) facts are stored under (pure); which
periods a fact row lands in is ClickHouse's work (migration 0013's view),
tested on both engines in tests/integration/test_periods.py."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.clickhouse.rows import stored_time
from streams.clickhouse.sql import period_of

MARCH_2026 = (2026 - 1970) * 12 + 2  # months since January 1970, January = 0


def test_periods_are_months_of_vietnam_time() -> None:
    # 31 March 16:59:59 UTC is 23:59:59 in Vietnam; a second later it is April there
    assert period_of(stored_time(datetime(2026, 3, 31, 16, 59, 59, tzinfo=UTC))) == MARCH_2026
    assert period_of(stored_time(datetime(2026, 3, 31, 17, tzinfo=UTC))) == MARCH_2026 + 1
    assert period_of(stored_time(datetime(2026, 2, 28, 17, tzinfo=UTC))) == MARCH_2026
    assert period_of(0) == 0  # 1 January 1970, 07:00 in Vietnam
