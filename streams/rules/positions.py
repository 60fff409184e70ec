"""Where each partition stands: what is stored, and on which log.

ClickHouse's `partition_progress` is the only truth of what is stored: per
topic partition the highest offset with nothing missing below it, the
fingerprint of the message at that offset, and the log's epoch. Pure code:
the worker reads and writes the rows, and reads the broker for `judge_log`.

Why a fingerprint: offsets alone cannot tell a log from another one. A
fresh broker (every restart of the local default), a recreated topic or a
cluster restored from nothing starts again at offset 0, and progress stored
for the old log would make the new log's first offsets look stored.
Reading the message at the stored offset and comparing its fingerprint
works on any Kafka-protocol broker (Tansu has no topic ids, and a fresh
cluster may reuse a cluster id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

EPOCH_SHIFT = 40  # version = epoch << 40 | offset + 1: offsets stay far below 2^40


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


Partition = tuple[str, int]  # (topic, partition)
M = TypeVar("M", bound=Record)


def fingerprint(key: bytes | None, value: bytes | None) -> str:
    """A short digest of a message: same log ⇔ same message at the same offset."""
    digest = hashlib.blake2b(digest_size=8)
    for part in (key, value):
        digest.update(b"\x00" if part is None else b"\x01%d:" % len(part) + part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Position:
    """The stored progress of one partition: `offset` -1 = nothing in this epoch."""

    epoch: int = 0
    offset: int = -1
    fingerprint: str = ""

    @property
    def next(self) -> int:
        return self.offset + 1

    @property
    def version(self) -> int:
        return (self.epoch << EPOCH_SHIFT) | (self.offset + 1)


class Verdict(StrEnum):
    SAME_LOG = "same_log"  # resume right after the stored offset
    NOTHING_STORED = "nothing_stored"  # start at the log's beginning
    TRIMMED = "trimmed"  # retention removed the stored message: resume at the log's start
    OTHER_LOG = "other_log"  # not the log the progress belongs to: new epoch from its start


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    position: Position  # the position to resume from (a new epoch for OTHER_LOG)

    @property
    def rebased(self) -> bool:
        return self.verdict is Verdict.OTHER_LOG


def judge_log(stored: Position, log_start: int, found: tuple[int, str] | None) -> Judgement:
    """Is the partition's log the one `stored` belongs to?

    `found` is (offset, fingerprint) of the first message the broker returns
    when read from `stored.offset` (None: nothing there), `log_start` the
    log's first offset.
    """
    if stored.offset < 0:
        return Judgement(Verdict.NOTHING_STORED, stored)
    if found is not None and found[0] == stored.offset:
        # a progress row migrated from stream_progress has no fingerprint
        if not stored.fingerprint or found[1] == stored.fingerprint:
            return Judgement(Verdict.SAME_LOG, stored)
    elif found is not None and log_start > stored.offset:
        # retention took the stored message; resuming at the log's start skips
        # nothing still there, whether or not the log is the same
        return Judgement(Verdict.TRIMMED, Position(stored.epoch, log_start - 1, ""))
    return Judgement(Verdict.OTHER_LOG, Position(stored.epoch + 1, log_start - 1, ""))


class ContiguousProgress:
    """Per partition, the stored position with nothing missing below it.

    Offsets of a partition are consecutive, so a batch that starts past the
    expected offset shows messages the consumer skipped (faust drops what it
    fetched before a rebalance). Progress then stops at the gap, and the
    gap is reported so the worker can seek back and read it again. Messages
    below the position are already stored and are left out of a batch.
    """

    def __init__(self) -> None:
        self.positions: dict[Partition, Position] = {}

    def knows(self, partition: Partition) -> bool:
        return partition in self.positions

    def set(self, partition: Partition, position: Position) -> None:
        self.positions[partition] = position

    def forget(self, partitions: Iterable[Partition]) -> None:
        for partition in partitions:
            self.positions.pop(partition, None)

    def unstored(self, messages: Sequence[M]) -> list[M]:
        """The messages at or past their partition's position."""
        return [
            m
            for m in messages
            if m.offset >= self.positions.get((m.topic, m.partition), Position()).next
        ]

    def advance(self, messages: Sequence[Record]) -> dict[Partition, int]:
        """Move past the batch's consecutive offsets; returns {partition: gap start}."""
        by_partition: dict[Partition, dict[int, Record]] = {}
        for m in messages:
            by_partition.setdefault((m.topic, m.partition), {})[m.offset] = m
        gaps = {}
        for key, records in by_partition.items():
            position = self.positions.get(key, Position())
            expected, last = position.next, None
            for offset in sorted(records):
                if offset == expected:
                    expected, last = expected + 1, records[offset]
                elif offset > expected:
                    gaps[key] = expected
                    break
            if last is not None:
                digest = fingerprint(last.key, last.value)
                self.positions[key] = Position(position.epoch, last.offset, digest)
        return gaps

    def rows(self, keys: Iterable[Partition], stored_at: int) -> list[tuple]:
        """partition_progress rows of these partitions (PROGRESS_COLUMNS of streams.clickhouse)."""
        return [
            position_row(key, self.positions[key], stored_at)
            for key in keys
            if key in self.positions
        ]


def position_row(key: Partition, position: Position, stored_at: int) -> tuple:
    topic, partition = key
    return (
        topic,
        partition,
        position.epoch,
        position.offset,
        position.fingerprint,
        position.version,
        stored_at,
    )
