"""The Grafana ClickHouse plugin's macros (pkg/macros) and template variables,
expanded the way the plugin does, so a panel's SQL can run outside Grafana
(tests, benchmarks)."""

from __future__ import annotations

import re
from datetime import datetime


def expand(sql: str, start: datetime, end: datetime, variables: dict[str, str]) -> str:
    """`sql` with $__timeFilter(col), $__fromTime, $__toTime for [start, end] and
    each ${name} / $name replaced; raises ValueError if any `$` is left."""
    f, t = int(start.timestamp()), int(end.timestamp())
    sql = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        lambda m: f"{m[1]} >= toDateTime({f}) AND {m[1]} <= toDateTime({t})",
        sql,
    )
    sql = sql.replace("$__fromTime", f"toDateTime({f})").replace("$__toTime", f"toDateTime({t})")
    for name, value in variables.items():
        sql = sql.replace(f"${{{name}}}", value).replace(f"${name}", value)
    if "$" in sql:
        raise ValueError(f"unexpanded macro or variable in: {sql}")
    return sql
