"""Which 7-day periods a fact row is stored under (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from streams.store import FACT_COLUMNS, NEVER, period_rows, stored_time

EPOCH = date(1970, 1, 1)  # a Thursday: periods run Thursday 00:00 UTC to Thursday


def fact(received: datetime, end: datetime | None, last_event: datetime) -> tuple:
    row = dict.fromkeys(FACT_COLUMNS, "")
    row.update(
        dossier_id="D1",
        received_at=stored_time(received),
        end_at=stored_time(end),
        last_event_at=stored_time(last_event),
    )
    return tuple(row[c] for c in FACT_COLUMNS)


def test_a_finished_dossier_is_stored_in_every_period_to_its_latest_event() -> None:
    wed, thu = date(2026, 3, 4), date(2026, 3, 5)
    assert (thu - EPOCH).days % 7 == 0  # 5 March 2026 is a Thursday
    first = (wed - EPOCH).days // 7
    received = datetime(2026, 3, 4, 1, tzinfo=UTC)
    ended = datetime(2026, 3, 4, 9, tzinfo=UTC)
    last = datetime(2026, 3, 13, 1, tzinfo=UTC)  # Friday of the next week but one
    row = fact(received, ended, last)
    assert [p for p, *_ in period_rows([row])] == [first, first + 1, first + 2]
    assert all(tuple(rest) == row for _, *rest in period_rows([row]))
    assert [p for p, *_ in period_rows([fact(received, ended, ended)])] == [first]


def test_an_open_dossier_has_no_period_rows() -> None:
    received = datetime(2026, 3, 4, 1, tzinfo=UTC)
    assert stored_time(None) == stored_time(NEVER)
    assert period_rows([fact(received, None, datetime(2026, 4, 1, tzinfo=UTC))]) == []
