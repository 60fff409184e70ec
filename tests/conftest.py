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


@pytest.fixture(scope="module", params=["chdb", "server"])
def engine(request, tmp_path_factory):
    """An empty `motcua` database on each engine: chdb (current ClickHouse) and
    Debian's 18.16 server; migrations not applied yet."""
    from streams.clickhouse.engines import ChdbEngine
    from streams.clickhouse.sql import DATABASE

    if request.param == "chdb":
        engine = ChdbEngine(str(tmp_path_factory.mktemp("chdb")))
    else:
        server = request.getfixturevalue("clickhouse")
        engine = server.engine()
        engine.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    yield engine
    engine.close()


def facts_of(events, calendar) -> list:
    """The facts of every received dossier among events (grouped by dossier)."""
    from streams.rules.facts import dossier_facts

    histories: dict[str, list] = {}
    for e in events:
        histories.setdefault(e.dossier_id, []).append(e)
    return [f for h in histories.values() if (f := dossier_facts(h, calendar))]


def load_facts(engine, events, computed_at, calendar) -> int:
    """Fold events into facts and store them; returns the number of dossiers."""
    from streams.clickhouse.queries import insert_facts
    from streams.clickhouse.rows import fact_row

    rows = [fact_row(f, computed_at) for f in facts_of(events, calendar)]
    insert_facts(engine, rows)
    return len(rows)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration and tests/faults needs real services:
    marked `integration` whatever its module says (`-m "not integration"` runs
    the rest, which needs nothing running)."""
    for item in items:
        if {"integration", "faults"} & set(item.path.parts):
            item.add_marker(pytest.mark.integration)
