"""The production deployment files, checked with the tools available here
(no container engine runs on these machines): docker-compose's own parser,
promtool and amtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _run(*argv: str, cwd: Path) -> str:
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _compose(tmp_path: Path) -> Path:
    compose = tmp_path / "deploy" / "compose"
    compose.mkdir(parents=True)
    shutil.copy(DEPLOY / "compose" / "docker-compose.yml", compose)
    shutil.copy(DEPLOY / "compose" / "motcua.env", compose)
    shutil.copy(DEPLOY / "compose" / ".env.example", compose / ".env")
    return compose


def test_compose_file_parses_with_the_example_env(tmp_path: Path) -> None:
    compose = _compose(tmp_path)
    _run("docker-compose", "config", "-q", cwd=compose)
    services = _run("docker-compose", "config", "--services", cwd=compose).split()
    assert set(services) == {
        "kafka",
        "clickhouse",
        "migrate",
        "worker",
        "ingest",
        "tools",
        "grafana",
        "prometheus",
        "alertmanager",
    }
    rendered = _run("docker-compose", "config", cwd=compose)
    assert "change-me" in rendered  # secrets come from .env, not the compose file
    assert "change-me" not in (DEPLOY / "compose" / "docker-compose.yml").read_text()


# Each secret of .env.example (all "change-me-...") and the services allowed to see it.
SECRETS = {
    "change-me-admin": {"clickhouse", "migrate"},
    "change-me-writer": {"clickhouse", "worker", "tools"},
    "change-me-reader": {"clickhouse", "grafana", "tools"},
    "change-me-grafana": {"grafana"},
    "change-me-ingest-token": {"ingest"},
}


def test_each_service_gets_only_its_own_secrets(tmp_path: Path) -> None:
    compose = _compose(tmp_path)
    rendered = yaml.safe_load(_run("docker-compose", "config", cwd=compose))["services"]
    # every value a container receives, env_file included (config merges it in)
    seen = {
        name: {str(v) for v in (service.get("environment") or {}).values()}
        for name, service in rendered.items()
    }
    for secret, allowed in SECRETS.items():
        holders = {name for name, values in seen.items() if secret in values}
        assert holders == allowed, secret
    # no service reads .env itself (it would hand every secret to the container)
    source = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())
    for name, service in {**source["services"], "x-motcua": source["x-motcua"]}.items():
        files = _listed(service.get("env_file") or [])
        assert all(Path(f).name != ".env" for f in files), name
    shared = (DEPLOY / "compose" / "motcua.env").read_text()
    assert not any(word in shared.upper() for word in ("PASSWORD=", "TOKEN=", "SECRET="))
    env = {name: service.get("environment") or {} for name, service in rendered.items()}
    # workers connect as the writer and never migrate; only `migrate` migrates
    assert env["worker"]["MOTCUA_CLICKHOUSE_WRITER_USER"] == "motcua_writer"
    assert env["worker"]["MOTCUA_WORKER_MIGRATE"] == "false"
    assert not any("ADMIN" in key or "READER" in key for key in env["worker"])
    assert env["migrate"]["MOTCUA_CLICKHOUSE_ADMIN_USER"] == "admin"
    commands = {name: service.get("command") for name, service in rendered.items()}
    assert [name for name, command in commands.items() if command and "migrate" in command] == [
        "migrate"
    ]
    assert commands["worker"] == ["worker"]
    assert rendered["worker"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    # the push endpoint talks to Kafka only: no database credentials at all
    assert not any("PASSWORD" in key for key in env["ingest"])
    assert env["grafana"]["MOTCUA_CLICKHOUSE_READER_USER"] == "motcua_reader"


def _listed(files: object) -> list[str]:
    return [files] if isinstance(files, str) else [str(f) for f in files]  # type: ignore[union-attr]


def test_prometheus_config_and_rules() -> None:
    out = _run("promtool", "check", "config", "prometheus.yml", cwd=DEPLOY / "prometheus")
    assert "1 rule files found" in out


@pytest.mark.parametrize("path", ["deploy/compose/.env", ".env", "reports/.env"])
def test_env_file_is_not_committed(path: str) -> None:
    # settings read `.env` from the working directory: wherever it is, git ignores it
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=DEPLOY.parent)
    assert ignored.returncode == 0
