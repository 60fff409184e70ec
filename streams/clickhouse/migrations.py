"""Migrations: the numbered SQL files of deploy/clickhouse/migrations, applied once each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from streams.clickhouse.rows import stored_time
from streams.clickhouse.sql import DATABASE, Engine, sql_string

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _statements(sql: str) -> tuple[str, ...]:
    text = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return tuple(s.strip() for s in text.split(";") if s.strip())


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = re.fullmatch(r"(\d+)_(\w+)\.sql", path.name)
        if not match:
            raise ValueError(f"migration file name must be NNNN_name.sql: {path.name}")
        statements = _statements(path.read_text(encoding="utf-8"))
        found.append(Migration(int(match[1]), match[2], statements))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return found


_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+)\.(\w+)\s+ADD COLUMN (\w+)\s", re.IGNORECASE)


def _column_already_added(engine: Engine, statement: str) -> bool:
    """True for `ALTER TABLE db.t ADD COLUMN c ...` (one action) when t has c.

    ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: this makes such a
    statement idempotent like the others, so a migration that failed after
    adding some columns can run again."""
    match = _ADD_COLUMN.match(statement)
    if match is None or len(re.findall(r"\b(ADD|DROP|MODIFY) COLUMN\b", statement, re.I)) != 1:
        return False
    database, table, column = match.groups()
    [(found,)] = engine.rows(
        "SELECT count() FROM system.columns WHERE "
        f"database = {sql_string(database)} AND table = {sql_string(table)} "
        f"AND name = {sql_string(column)}"
    )
    return int(found) > 0


def migrate(engine: Engine, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply the migrations not yet recorded, in order; returns those applied."""
    engine.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    engine.command(
        f"CREATE TABLE IF NOT EXISTS {DATABASE}.schema_migrations "
        "(version UInt32, name String, applied_at DateTime('UTC')) "
        "ENGINE = ReplacingMergeTree() ORDER BY version"
    )
    done = {int(r[0]) for r in engine.rows(f"SELECT version FROM {DATABASE}.schema_migrations")}
    applied = []
    for migration in load_migrations(directory):
        if migration.version in done:
            continue
        for statement in migration.statements:  # each is idempotent (IF NOT EXISTS)
            if not _column_already_added(engine, statement):
                engine.command(statement)
        engine.insert(
            f"{DATABASE}.schema_migrations",
            ("version", "name", "applied_at"),
            [(migration.version, migration.name, stored_time(datetime.now(UTC)))],
        )
        applied.append(migration.version)
    return applied


def pending_migrations(engine: Engine, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """The migration versions not applied yet; readable by the writer (no DDL)."""
    [(found,)] = engine.rows(
        "SELECT count() FROM system.tables WHERE "
        f"database = {sql_string(DATABASE)} AND name = 'schema_migrations'"
    )
    done: set[int] = set()
    if int(found):
        done = {int(r[0]) for r in engine.rows(f"SELECT version FROM {DATABASE}.schema_migrations")}
    return [m.version for m in load_migrations(directory) if m.version not in done]
