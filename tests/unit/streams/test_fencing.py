"""Fencing on rebalance and the dead-letter progress rule (no broker: the
partitions' positions are known, so nothing is read from a log)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from schemas.deadletter import DeadLetter
from schemas.settings import Settings
from streams.histories import DossierHistories
from streams.pipeline import BatchStore, OwnedPartitions
from streams.rules.calendar import working_calendar
from streams.rules.positions import ContiguousProgress, Position
from streams.rules.processor import BatchProcessor, Message, dead_letter_batch

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class TP:  # what faust hands to the rebalance signals
    def __init__(self, topic: str, partition: int) -> None:
        self.topic, self.partition = topic, partition


def owned_partitions() -> OwnedPartitions:
    settings = Settings(events_topic="ev", dead_letter_topic="dl")
    processor = BatchProcessor(working_calendar(settings), source="ev")
    owned = OwnedPartitions(None, settings, None, processor, DossierHistories())  # type: ignore[arg-type]
    for p in (0, 1):
        owned.owned.add(("ev", p))
        processor.progress.set(("ev", p), Position(0, 9, "f"))  # 0..9 stored
    return owned


def messages(partition: int, *offsets: int) -> list[Message]:
    return [Message("ev", partition, o, b"k", b"v") for o in offsets]


def test_a_revocation_waits_for_the_batch_in_flight_and_later_batches_drop_its_messages() -> None:
    async def scenario() -> list[str]:
        owned = owned_partitions()
        seen: list[str] = []

        async def batch_in_flight() -> None:
            async with owned.lock:
                seen.append("batch took partition 1")
                await asyncio.sleep(0.05)  # storing its rows
                seen.append("batch stored")

        async def revoke() -> None:
            await asyncio.sleep(0.01)  # the rebalance starts while the batch writes
            await owned.revoke([TP("ev", 1)])
            seen.append("revoked")

        await asyncio.gather(batch_in_flight(), revoke())
        async with owned.lock:
            kept = await owned.unstored(messages(0, 10, 11) + messages(1, 10, 11))
        seen.append(f"next batch keeps {[(m.partition, m.offset) for m in kept]}")
        return seen

    assert asyncio.run(scenario()) == [
        "batch took partition 1",
        "batch stored",
        "revoked",
        "next batch keeps [(0, 10), (0, 11)]",
    ]


def test_a_revocation_forgets_the_position_and_the_cached_histories() -> None:
    owned = owned_partitions()
    owned.histories.put("A", b"x")
    asyncio.run(owned.revoke([TP("ev", 1)]))
    assert not owned.progress.knows(("ev", 1)) and owned.progress.knows(("ev", 0))
    assert owned.histories.get("A") is None  # read again from raw_events when needed


def test_stored_messages_of_an_owned_partition_are_left_out() -> None:
    owned = owned_partitions()

    async def kept() -> list[int]:
        async with owned.lock:
            return [m.offset for m in await owned.unstored(messages(0, 8, 9, 10))]

    assert asyncio.run(kept()) == [10]


def letter(partition: int, offset: int) -> Message:
    value = DeadLetter.of(f"replay:f:{offset}", NOW, "replay", "bad", b"x").to_bytes()
    return Message("dl", partition, offset, b"k", value)


def test_dead_letter_progress_stops_at_a_gap() -> None:
    progress = ContiguousProgress()
    progress.set(("dl", 0), Position(0, 4, "f"))
    stored = dead_letter_batch([letter(0, 5), letter(0, 6), letter(0, 9)], progress, NOW)
    gaps = stored.gaps
    assert gaps == {("dl", 0): 7}  # 7 and 8 were not delivered: re-read from 7
    assert [row[2:4] for row in stored.progress] == [(0, 6)]  # epoch 0, offset 6, not 9
    assert len(stored.letters) == 3  # what came is stored; a re-read repeats it harmlessly


def test_dead_letters_below_the_stored_position_are_not_stored_again() -> None:
    progress = ContiguousProgress()
    progress.set(("dl", 0), Position(0, 4, "f"))
    stored = dead_letter_batch([letter(0, 3), letter(0, 4)], progress, NOW)
    assert (stored.letters, stored.progress, stored.gaps) == ([], [], {})


# -- the backfill's overlapped writes (streams.pipeline.BatchStore, overlap=True) ----


class SlowSink:
    """Records what is written and when; each write takes a moment (ClickHouse
    working). A stand-in for the order of events only: the tables' side is
    tests/integration/test_backfill.py's."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    async def awrite(self, batch) -> None:
        offsets = sorted(row[3] for row in batch.progress)
        self.seen.append(f"writing up to {offsets}")
        await asyncio.sleep(0.05)
        self.seen.append(f"stored up to {offsets}")

    async def aread(self, work) -> list:
        return []


def event_message(partition: int, offset: int, dossier: str, event: str) -> Message:
    value = (
        f'{{"event_id": "{event}", "dossier_id": "{dossier}", "type": "received", '
        '"at": "2026-05-04T08:00:00+07:00", "agency_code": "A", "agency_name": "Sở A", '
        '"level": "province", "district_code": "H1", "district_name": "Huyện 1", '
        '"procedure_code": "P", "procedure_name": "Thủ tục P", '
        '"field_code": "F", "field_name": "Lĩnh vực F", "channel": "online", '
        '"due_at": "2026-05-08T17:00:00+07:00"}'
    )
    return Message("ev", partition, offset, dossier.encode(), value.encode())


async def _never_sent(key: bytes, value: bytes) -> None:
    raise AssertionError("no dead letter expected")


def overlapped_store(seen: list[str]) -> BatchStore:
    owned = owned_partitions()
    owned.sink = SlowSink(seen)  # type: ignore[assignment]
    owned.histories.load_known([])
    processor = BatchProcessor(working_calendar(owned.settings), source="ev")
    processor.progress = owned.progress
    return BatchStore(
        owned,
        processor,
        owned.histories,
        owned.sink,
        _never_sent,
        overlap=True,  # type: ignore[arg-type]
    )


def test_overlapped_writes_stay_in_order_and_a_revocation_waits_for_the_one_in_flight() -> None:
    async def scenario() -> list[str]:
        seen: list[str] = []
        store = overlapped_store(seen)
        await store.events([event_message(0, 10, "D1", "e1")])
        seen.append("first batch judged")
        await store.events([event_message(0, 11, "D2", "e2")])  # waits for the first write
        seen.append("second batch judged")
        await store.owned.revoke([TP("ev", 0)])
        seen.append("revoked")
        return seen

    assert asyncio.run(scenario()) == [
        "first batch judged",
        "writing up to [10]",
        "stored up to [10]",
        "second batch judged",
        "writing up to [11]",
        "stored up to [11]",
        "revoked",
    ]
