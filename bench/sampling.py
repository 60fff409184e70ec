"""A sampling profile of a running process with py-spy, when it is installed
(the `bench` extra, which `make bench` installs). Non-blocking and at a low
rate, so the process under test is barely slowed."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(pid: int, out: Path, rate: int = 20) -> subprocess.Popen | None:
    binary = py_spy()
    if binary is None:
        return None
    argv = [binary, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking"]
    argv += ["--full-filenames", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def _split(frame: str) -> tuple[str, Path]:
    """'name (/path/to/file.py:12)' → ('name', Path('/path/to/file.py'))."""
    name, _, where = frame.partition(" (")
    return name, Path(where.rstrip(")").rsplit(":", 1)[0])


def _label(frame: str) -> str:
    name, path = _split(frame)
    return f"{name} ({'/'.join(path.parts[-2:])})"


def _ours(frame: str) -> bool:
    """A function of the project itself: not a library in the venv, nor the CLI
    entry point (the motcua package's app), which is in every stack."""
    path = _split(frame)[1]
    return (
        path.is_relative_to(ROOT)
        and not path.is_relative_to(VENV)
        and path.parent != ROOT
        and path != ROOT / "motcua" / "app.py"
    )


def summary(out: Path, top: int = 10) -> dict:
    """Share of active samples: by leaf function (self time) and, for the
    project's own functions, inclusive of what they call."""
    total, leaf, inclusive = 0, Counter(), Counter()
    if not out.exists():
        return {}
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        leaf[_label(frames[-1])] += int(count)
        ours = {_label(f) for f in frames if _ours(f)}
        for label in ours:
            inclusive[label] += int(count)
    if not total:
        return {}
    return {
        "samples": total,
        "self": [(k, v / total) for k, v in leaf.most_common(top)],
        "project_inclusive": [(k, v / total) for k, v in inclusive.most_common(top)],
    }


def _package(frame: str) -> str:
    """Who a frame belongs to: an installed distribution's top-level package,
    the project, asyncio's event loop, or the rest of the standard library."""
    path = _split(frame)[1]
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if path.is_relative_to(ROOT) and not path.is_relative_to(VENV):
        return "project"
    if "asyncio" in path.parts or path.name == "selectors.py":
        return "asyncio"
    return "stdlib/other"


def by_package(out: Path, top: int = 8) -> list[tuple[str, float]]:
    """Share of active samples by the package of the leaf frame (self time)."""
    counts: Counter[str] = Counter()
    if not out.exists():
        return []
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[_package(stack.split(";")[-1])] += int(count)
    total = sum(counts.values())
    return [(k, v / total) for k, v in counts.most_common(top)] if total else []


def lines(profile: dict, what: str) -> list[str]:
    if not profile:
        return [f"- no profile of the {what} (py-spy not installed: `pip install py-spy`)"]
    return [
        f"- profile of the {what} (py-spy, 20 Hz, non-blocking, {profile['samples']} active "
        "samples over all threads):",
        "  - most self time: " + ", ".join(f"{k} {v:.0%}" for k, v in profile["self"]),
        "  - project functions, inclusive: "
        + ", ".join(f"{k} {v:.0%}" for k, v in profile["project_inclusive"]),
    ]
