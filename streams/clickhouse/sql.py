"""Shared SQL fragments: the database, "never", literals, the period buckets,
and the few operations the project needs from a ClickHouse (`Engine`).

The SQL of this package runs unchanged on ClickHouse 18.16 (Debian's server)
and on a current engine (chdb): see `engines.py` for the two ways to run it.
Times are stored as DateTime('UTC'); "never" is NEVER, not NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

DATABASE = "motcua"
NEVER = datetime(2105, 12, 31, tzinfo=UTC)


class Engine(Protocol):
    """The few operations the project needs from a ClickHouse."""

    def command(self, sql: str) -> None: ...

    def rows(self, sql: str) -> list[tuple]: ...

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None: ...


def sql_time(t: datetime) -> str:
    return f"toDateTime('{t.astimezone(UTC):%Y-%m-%d %H:%M:%S}', 'UTC')"


def sql_string(text: str) -> str:
    """A quoted ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# What the boards and reports read (migration 0006): a finished dossier's facts
# once per period (calendar month) from its receipt to its latest event, so a
# time range reads only its periods; and every dossier's latest facts while open.
# Months of UTC+7 (Vietnam, no daylight saving): any bucketing would count
# right, this one makes a month's boards and reports read a single period.
PERIOD_SHIFT = 7 * 3600


def period_of(unix_seconds: int) -> int:
    """The period of an instant: months since January 1970 (UTC+7)."""
    t = datetime.fromtimestamp(unix_seconds + PERIOD_SHIFT, UTC)
    return (t.year - 1970) * 12 + t.month - 1


def period_sql(unix_seconds: str) -> str:
    """`period_of` in SQL, of an expression giving Unix seconds."""
    t = f"toDateTime({unix_seconds} + {PERIOD_SHIFT}, 'UTC')"
    return f"((toYear({t}) - 1970) * 12 + toMonth({t}) - 1)"
