"""The production deployment files, checked with the tools available here
(no container engine runs on these machines): docker-compose's own parser,
promtool and amtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _run(*argv: str, cwd: Path) -> str:
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_compose_file_parses_with_the_example_env(tmp_path: Path) -> None:
    compose = tmp_path / "deploy" / "compose"
    compose.mkdir(parents=True)
    shutil.copy(DEPLOY / "compose" / "docker-compose.yml", compose)
    shutil.copy(DEPLOY / "compose" / ".env.example", compose / ".env")
    _run("docker-compose", "config", "-q", cwd=compose)
    services = _run("docker-compose", "config", "--services", cwd=compose).split()
    assert set(services) == {
        "kafka",
        "clickhouse",
        "migrate",
        "worker",
        "ingest",
        "grafana",
        "prometheus",
        "alertmanager",
    }
    rendered = _run("docker-compose", "config", cwd=compose)
    assert "change-me" in rendered  # secrets come from .env, not the compose file
    assert "change-me" not in (DEPLOY / "compose" / "docker-compose.yml").read_text()


def test_prometheus_config_and_rules() -> None:
    out = _run("promtool", "check", "config", "prometheus.yml", cwd=DEPLOY / "prometheus")
    assert "1 rule files found" in out


def test_env_file_is_not_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/compose/.env"], cwd=DEPLOY.parent
    )
    assert ignored.returncode == 0
