"""Publishing many messages fast: whole record batches built by aiokafka's C
builder, for `motcua replay` and `motcua ingest file`.

kafka-python's `send` costs ~45 µs of CPU per message (a future, the
partitioner's pure-Python murmur2, its pure-Python record builder), which
held `motcua replay` near 12k events/s; appending to aiokafka's builder
costs ~1 µs (bench/results/peers-latest.md). Messages are keyed as
kafka-python's default partitioner keys them (murmur2 of the key over the
sorted partitions), so a dossier's events land on one partition whichever
producer sent them. Batches of one partition go to the broker in the order
they were built (one sender coroutine; aiokafka keeps one batch per
partition in flight), with acks=all; `flush` returns once the broker has
acknowledged everything sent.

Synchronous on the outside: aiokafka runs on its own event-loop thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Iterable
from concurrent.futures import Future
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from kafka.partitioner.default import murmur2

from schemas.settings import Settings
from streams.kafka.config import aiokafka_options

T = TypeVar("T")
DELIVERY_TIMEOUT_S = 60.0
_PARTITION_CACHE = 200_000  # keys whose partition is remembered (a dossier has several events)


def highest_offsets(sent: Iterable[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
    """(topic, partition, offset) of confirmed sends → (topic, partition) → the highest."""
    highest: dict[tuple[str, int], int] = {}
    for topic, partition, offset in sent:
        highest[(topic, partition)] = max(highest.get((topic, partition), -1), offset)
    return highest


class BulkProducer:
    """`send` (buffered per partition), `flush` (acknowledged), `discard`, `close`."""

    def __init__(self, settings: Settings) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._queue: asyncio.Queue | None = None
        self._producer: AIOKafkaProducer = self._run(self._start(settings))
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}
        self._builders: dict[tuple[str, int], Any] = {}
        self._sent: list[Future] = []

    def _run(self, work: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()  # type: ignore[arg-type]

    async def _start(self, settings: Settings) -> AIOKafkaProducer:
        # made on its loop: aiokafka binds to the running loop
        producer = AIOKafkaProducer(**aiokafka_options(settings), acks="all", linger_ms=5)
        await producer.start()
        self._queue = asyncio.Queue()
        self._pump = asyncio.ensure_future(self._send_in_order(producer))
        return producer

    async def _send_in_order(self, producer: AIOKafkaProducer) -> None:
        """Hands batches to aiokafka one at a time, in the order they were built."""
        assert self._queue is not None
        while True:
            batch, topic, partition, done = await self._queue.get()
            count = batch.record_count()
            try:
                delivered = await producer.send_batch(batch, topic, partition=partition)
            except Exception as exc:
                done.set_exception(exc)
                continue
            delivered.add_done_callback(lambda f, done=done, n=count: _settle(done, f, n))

    def _partition(self, topic: str, key: bytes) -> int:
        partition = self._partition_of.get((topic, key))
        if partition is None:
            partitions = self._partitions.get(topic)
            if partitions is None:
                found = self._run(self._producer.partitions_for(topic))
                partitions = self._partitions[topic] = sorted(found)
            # kafka-python's (and Java's) default partitioner for a keyed message
            partition = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
            if len(self._partition_of) >= _PARTITION_CACHE:
                self._partition_of.clear()
            self._partition_of[(topic, key)] = partition
        return partition

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        target = (topic, self._partition(topic, key))
        builder = self._builders.get(target)
        if builder is None:
            builder = self._builders[target] = self._producer.create_batch()
        if builder.append(timestamp=None, key=key, value=value) is None:  # full
            self._ship(target)
            builder = self._builders[target] = self._producer.create_batch()
            if builder.append(timestamp=None, key=key, value=value) is None:
                raise ValueError(f"a message of {len(value)} bytes exceeds the request size")

    def _ship(self, target: tuple[str, int]) -> None:
        builder = self._builders.pop(target)
        done: Future = Future()
        item = (builder, *target, done)
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)  # type: ignore[union-attr]
        self._sent.append(done)

    def flush(self, timeout: float = DELIVERY_TIMEOUT_S) -> dict[tuple[str, int], int]:
        """Everything sent, acknowledged: (topic, partition) → highest offset."""
        for target in list(self._builders):
            self._ship(target)
        sent, self._sent = self._sent, []
        return highest_offsets(done.result(timeout=timeout) for done in sent)  # raises if refused

    def discard(self) -> None:
        """Stop tracking deliveries not flushed yet (a rollback re-sends them;
        the broker may still get these, with the same keys and values)."""
        self._sent = []

    def close(self) -> None:
        try:
            self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _stop(self) -> None:
        self._pump.cancel()
        await self._producer.stop()


def _settle(done: Future, delivered: asyncio.Future, count: int) -> None:
    """The batch's delivery → (topic, partition, offset of its last message)."""
    if delivered.cancelled():
        done.set_exception(asyncio.CancelledError())
    elif delivered.exception() is not None:
        done.set_exception(delivered.exception())
    else:
        meta = delivered.result()
        done.set_result((meta.topic, meta.partition, meta.offset + count - 1))
