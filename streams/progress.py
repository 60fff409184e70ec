"""How far the workers have stored the events topic: waiting until a replay
is stored, on the broker's current log (ClickHouse's progress against Kafka)."""

from __future__ import annotations

import time

from schemas.settings import Settings
from streams.clickhouse.queries import stored_positions
from streams.clickhouse.sql import Engine
from streams.kafka.clients import sample_logs
from streams.rules.positions import Position, Verdict, judge_log


def stored_offsets(engine: Engine, topic: str) -> dict[int, int]:
    """partition → highest stored offset on the partition's current log (-1: none)."""
    return {p: offset for p, (_, offset, _) in stored_positions(engine, topic).items()}


class NotStoredInTime(TimeoutError):
    """`wait_until_stored` ran out of time; says what was missing and why."""

    def __init__(
        self, message: str, behind: dict[int, tuple[int, int]], unreachable: Exception | None
    ) -> None:
        super().__init__(message)
        self.behind = behind  # partition → (stored offset, wanted offset)
        self.unreachable = unreachable  # the last error reading the progress, if any


def wait_until_stored(
    engine: Engine,
    settings: Settings,
    offsets: dict[int, int],
    timeout: float,
    poll: float = 0.2,
    tolerate: tuple[type[Exception], ...] = (),
) -> None:
    """Block until the workers' progress covers `offsets` of the events topic
    on the broker's current log, or raise NotStoredInTime (a TimeoutError).

    Progress stored for another log (a replaced broker or topic, before a
    worker has noticed and re-based it) can hold higher offsets than the
    new log has: a position counts only once the message at its offset is
    found on the broker (streams.rules.positions.judge_log).

    Errors of the `tolerate` types while reading the progress (ClickHouse
    restarting) are waited out until the deadline, as the workers wait them
    out; the timeout then names the last one.
    """
    topic = settings.events_topic
    deadline = time.monotonic() + timeout
    stored: dict[int, int] = {}
    behind = dict(offsets)
    unreachable: Exception | None = None
    while True:
        try:
            positions = stored_positions(engine, topic)
        except tolerate as exc:
            unreachable = exc
        else:
            unreachable = None
            stored = {p: offset for p, (_, offset, _) in positions.items()}
            behind = {p: o for p, o in offsets.items() if stored.get(p, -1) < o}
            if not behind and _on_current_log(settings, topic, positions, offsets):
                return
        if time.monotonic() > deadline:
            raise NotStoredInTime(
                f"after {timeout:.0f} s the workers have not stored all replayed events: "
                + ", ".join(
                    f"partition {p}: stored {stored.get(p, -1)} < {o}"
                    for p, o in sorted(behind.items())
                )
                + (" (stored progress belongs to another log)" if not behind else "")
                + (f" (ClickHouse: {unreachable!r})" if unreachable else "")
                + " (are the workers running? see `motcua run` / `motcua worker`)",
                {p: (stored.get(p, -1), o) for p, o in behind.items()},
                unreachable,
            )
        time.sleep(poll)


def _on_current_log(
    settings: Settings,
    topic: str,
    positions: dict[int, tuple[int, int, str]],
    offsets: dict[int, int],
) -> bool:
    wanted = {(topic, p): positions[p][1] for p in offsets}
    samples = sample_logs(settings, wanted, timeout=1.0)
    for (_, p), sample in samples.items():
        judged = judge_log(Position(*positions[p]), sample.log_start, sample.found)
        if judged.verdict is not Verdict.SAME_LOG:
            return False
    return True
