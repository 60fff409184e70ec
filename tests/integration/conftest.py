"""Real services for integration tests: started once per session on loopback
and free ports, stopped at the end. A missing binary fails the fixture with
the command that installs it (no skipping)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.services import Broker, ClickHouseServer


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with Broker(tmp_path_factory.mktemp("broker")) as running:
        yield running


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    # Not a `with`: tests stop and restart it, and teardown must still stop it.
    server = ClickHouseServer(tmp_path_factory.mktemp("clickhouse"))
    try:
        yield server.start()
    finally:
        server.stop()
