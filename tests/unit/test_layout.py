"""The layout's one-way rule: entry points → adapters → rules (docs/ARCHITECTURE.md).

Read from the source (every import, also those inside functions), so a
change that makes an arrow point back fails here rather than in review.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Top-level packages from the bottom up: each may import only those before it.
LAYERS = ["schemas", "streams", "ingest", "reports", "dashboards", "motcua"]
# Inside streams: the rules import no other part of streams; the adapters of
# one external system do not import each other.
STREAMS_ALLOWED = {
    "streams.rules": {"streams.rules"},
    "streams.clickhouse": {"streams.rules", "streams.clickhouse"},
    "streams.kafka": {"streams.rules", "streams.kafka"},
}
FORBIDDEN_IN_RULES = [
    "faust", "aiokafka", "kafka", "clickhouse_driver", "chdb", "aiohttp", "requests", "httpx",
]  # fmt: skip


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for top in LAYERS:
        base = ROOT / top
        paths = base.rglob("*.py") if base.is_dir() else [ROOT / f"{top}.py"]
        found |= {_module_of(p): p for p in paths if p.exists()}
    return found


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n.split(".")[0] in LAYERS}


def test_every_arrow_between_top_level_packages_points_down() -> None:
    wrong = []
    for module, path in _sources().items():
        layer = LAYERS.index(module.split(".")[0])
        for imported in _imports(path):
            if LAYERS.index(imported.split(".")[0]) > layer:
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_rules_and_adapters_inside_streams_point_one_way() -> None:
    wrong = []
    for module, path in _sources().items():
        own = next((p for p in STREAMS_ALLOWED if module.startswith(p)), None)
        if own is None:
            continue
        for imported in _imports(path):
            if imported.startswith("streams.") and not any(
                imported.startswith(allowed) for allowed in STREAMS_ALLOWED[own]
            ):
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_the_whole_rules_package_and_the_schemas_import_no_io_library() -> None:
    rules = sorted(m for m in _sources() if m.startswith(("streams.rules", "schemas")))
    assert {"streams.rules.processor", "streams.rules.period", "streams.rules.calendar"} <= set(
        rules
    )
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in rules)
        + f"print(sorted(m for m in {FORBIDDEN_IN_RULES!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
