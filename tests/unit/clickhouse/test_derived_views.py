"""Migration 0013's views copy every fact column: a view names its columns
when it is created, so a fact column added later without re-creating the
views would never reach open_dossiers or dossier_periods."""

from __future__ import annotations

import re

from streams.clickhouse.migrations import load_migrations
from streams.clickhouse.rows import FACT_COLUMNS


def _views() -> dict[str, list[str]]:
    """view name → the plain column names its SELECT lists (in order)."""
    views = {}
    for migration in load_migrations():
        for statement in migration.statements:
            found = re.match(
                r"CREATE MATERIALIZED VIEW IF NOT EXISTS motcua\.(\w+).*?AS SELECT(.*?)FROM",
                statement,
                re.S,
            )
            if found:
                listed = [c.strip() for c in found[2].replace("\n", " ").split(",")]
                views[found[1]] = [c for c in listed if re.fullmatch(r"\w+", c)]
    return views


def test_both_views_copy_every_fact_column_in_order() -> None:
    views = _views()
    assert set(views) == {"open_dossiers_from_facts", "dossier_periods_from_facts"}
    for name, columns in views.items():
        assert columns == list(FACT_COLUMNS), name
