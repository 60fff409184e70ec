"""The shipped migrations, read as text: the Enum8 code columns name every
value the workers write (an unknown value would fail a whole insert)."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from schemas.events import Channel, OnlineLevel
from streams.clickhouse.migrations import MIGRATIONS_DIR, load_migrations
from streams.rules.lifecycle import Outcome, Standing

CODES: dict[str, type[StrEnum]] = {
    "channel": Channel,
    "online_level": OnlineLevel,
    "outcome": Outcome,
    "final_standing": Standing,
    "change_standing": Standing,
}
TABLES = ("dossier_facts", "dossier_periods", "open_dossiers")
MODIFY = re.compile(r"MODIFY COLUMN (\w+) (?:Array\()?Enum8\(([^)]*)\)")


def enum_columns(table: str) -> dict[str, dict[str, int]]:
    """column → {value: number} of the last migration typing it as Enum8."""
    found: dict[str, dict[str, int]] = {}
    for migration in load_migrations(MIGRATIONS_DIR):
        for statement in migration.statements:
            if not re.match(rf"ALTER TABLE motcua\.{table}\b", statement):
                continue
            for column, values in MODIFY.findall(statement):
                pairs = re.findall(r"'(\w*)' = (\d+)", values)
                found[column] = {name: int(number) for name, number in pairs}
    return found


@pytest.mark.parametrize("table", TABLES)
def test_each_code_column_holds_every_value_and_the_empty_default(table: str) -> None:
    columns = enum_columns(table)
    assert set(columns) == set(CODES)
    for column, values in columns.items():
        assert set(values) == {""} | {v.value for v in CODES[column]}, column
        assert values[""] == 0 and min(n for name, n in values.items() if name) > 0
        assert len(set(values.values())) == len(values), f"{column}: a number used twice"
