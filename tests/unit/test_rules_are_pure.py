"""The rules must not pull in Kafka, ClickHouse or network code (DESIGN.md)."""

import subprocess
import sys

RULE_MODULES = [
    "schemas.events",
    "schemas.personal",
    "schemas.settings",
    "streams.calendar",
    "streams.lifecycle",
    "streams.facts",
    "streams.hotspots",
    "streams.deadlines",
    "streams.watch",
    "streams.integrity",
    "reports.period",
    "reports.offline",
    "schemas.scoring",
    "schemas.catalogue",
    "streams.rules.scorecard",
    "streams.rules.forecast",
]
FORBIDDEN = [
    "faust",
    "aiokafka",
    "kafka",
    "clickhouse_driver",
    "chdb",
    "aiohttp",
    "requests",
    "httpx",
]


def test_rule_modules_import_no_io_libraries() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in RULE_MODULES)
        + f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
