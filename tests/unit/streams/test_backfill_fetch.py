"""How the backfill fills a batch from `getmany` (no broker: the consumer's
answers are scripted, which is all `_fetch` sees of it)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from schemas.settings import Settings
from streams.backfill import Backfill

P0, P1 = TopicPartition("ev", 0), TopicPartition("ev", 1)


class ScriptedConsumer:
    """Answers getmany with the next scripted answer; `revoke_before` runs the
    rebalance listener's revocation before the answer of that call (1-based)."""

    def __init__(self, backfill: Backfill, answers: list[dict], revoke_before: int = 0) -> None:
        self.backfill, self.answers, self.revoke_before = backfill, answers, revoke_before
        self.calls: list[int] = []  # max_records asked each time

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:
        self.calls.append(max_records)
        if len(self.calls) == self.revoke_before:
            await self.backfill.rebalance.on_partitions_revoked([P0, P1])
        return self.answers.pop(0) if self.answers else {}


def fetch(answers: list[dict], batch: int = 10, revoke_before: int = 0):
    async def scenario():
        settings = Settings(events_topic="ev", backfill_batch_events=batch, batch_max_seconds=5.0)
        backfill = Backfill(settings, connect=lambda: None)  # type: ignore[arg-type,return-value]
        consumer = ScriptedConsumer(backfill, answers, revoke_before)
        backfill.consumer = consumer  # type: ignore[assignment]
        try:
            return await backfill._fetch(), consumer.calls
        finally:
            await backfill.producer.stop()  # never started: nothing was sent

    return asyncio.run(scenario())


def test_a_batch_is_topped_up_until_full_keeping_each_partition_in_order() -> None:
    fetched, calls = fetch([{P0: [1, 2, 3]}, {P1: [10, 11], P0: [4, 5]}, {P0: [6, 7, 8, 9, 99]}])
    assert fetched == {P0: [1, 2, 3, 4, 5, 6, 7, 8, 9, 99], P1: [10, 11]}
    assert calls == [10, 7, 3]  # never more than the batch's size in all


def test_topping_up_stops_when_nothing_more_is_there() -> None:
    fetched, calls = fetch([{P0: [1, 2]}, {}, {P0: [3]}])
    assert fetched == {P0: [1, 2]}
    assert calls == [10, 10 - 2]


def test_nothing_fetched_is_not_waited_on() -> None:
    fetched, calls = fetch([{}, {P0: [1]}])
    assert fetched == {}
    assert calls == [10]


def test_records_fetched_before_a_revocation_are_dropped() -> None:
    # partition 0 was revoked and assigned again between the two calls: its
    # first records may be read again from its stored position, or be another
    # owner's; the batch holds only what came after
    fetched, calls = fetch([{P0: [1, 2, 3]}, {P0: [2, 3, 4]}, {}], revoke_before=2)
    assert fetched == {P0: [2, 3, 4]}
    assert calls == [10, 7, 7]
