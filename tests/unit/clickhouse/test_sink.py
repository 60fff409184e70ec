"""The ClickHouse writer waits out an outage, and stops waiting when closed
(a worker told to stop during an outage stops). The outage is real: a
clickhouse-driver client against a loopback port nobody listens on."""

from __future__ import annotations

import threading
import time

import pytest

from streams.clickhouse.engines import DriverEngine
from streams.clickhouse.rows import SinkBatch
from streams.clickhouse.sink import ClickHouseSink, SinkClosed
from streams.services import free_port


def _unreachable_sink() -> ClickHouseSink:
    port = free_port()  # closed: every connection is refused at once
    return ClickHouseSink(lambda: DriverEngine("127.0.0.1", port), max_backoff=0.5)


def _in_thread(work) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


@pytest.mark.parametrize("kind", ["write", "read"])
def test_a_closed_sink_stops_retrying_at_once(kind: str) -> None:
    sink = _unreachable_sink()
    batch = SinkBatch(progress=[("t", 0, 0, 1, "", 0, 0)])
    work = (lambda: sink.write(batch)) if kind == "write" else (lambda: sink.read(_select_one))
    thread, raised = _in_thread(work)
    time.sleep(1.5)
    assert thread.is_alive()  # still retrying: ClickHouse is down
    assert sink.stats.failures >= 2
    began = time.monotonic()
    sink.close()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - began < 2
    assert len(raised) == 1 and isinstance(raised[0], SinkClosed)
    # and once closed, nothing more is tried
    with pytest.raises(SinkClosed):
        sink.write(batch)


def _select_one(engine) -> list:
    return engine.rows("SELECT 1")
