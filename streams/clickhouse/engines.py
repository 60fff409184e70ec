"""Two ways to run the project's SQL: a ClickHouse server over the native
protocol (clickhouse-driver) and the in-process current engine (chdb)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from schemas.settings import Settings


class DriverEngine:
    """A ClickHouse server, through clickhouse-driver's native protocol."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9000,
        user: str = "default",
        password: str = "",
        **settings: Any,
    ) -> None:
        from clickhouse_driver import Client

        self.client = Client(
            host=host,
            port=port,
            user=user,
            password=password,
            settings={"use_client_time_zone": False, **settings},
        )

    def command(self, sql: str) -> None:
        self.client.execute(sql)

    def rows(self, sql: str) -> list[tuple]:
        return self.client.execute(sql)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        # by column: the driver's own transposition of rows is a Python loop
        # per column, zip is one C pass
        self.client.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES",
            list(zip(*rows, strict=True)),
            columnar=True,
        )

    def close(self) -> None:
        self.client.disconnect()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


class ChdbEngine:
    """The current ClickHouse engine in-process (chdb), on a local directory."""

    def __init__(self, path: str) -> None:
        from chdb import session

        self.session = session.Session(path)

    def command(self, sql: str) -> None:
        self.session.query(sql)

    def rows(self, sql: str) -> list[tuple]:
        result = self.session.query(sql, "JSONCompact")
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        if not text.strip():
            return []
        return [tuple(r) for r in orjson.loads(text)["data"]]

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        lines = b"\n".join(
            orjson.dumps({c: _json_value(v) for c, v in zip(columns, row, strict=True)})
            for row in rows
        )
        self.session.query(
            f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONEachRow\n" + lines.decode()
        )

    def close(self) -> None:
        self.session.close()


def connect(settings: Settings, role: str) -> DriverEngine:
    """The configured ClickHouse server as the admin, writer or reader user
    (the one place the connection settings are read)."""
    user = getattr(settings, f"clickhouse_{role}_user")
    password = getattr(settings, f"clickhouse_{role}_password").get_secret_value()
    return DriverEngine(settings.clickhouse_host, settings.clickhouse_port, user, password)
