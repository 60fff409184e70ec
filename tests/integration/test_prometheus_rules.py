"""The shipped Prometheus rules: `promtool check rules` and their unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def test_rules_are_valid() -> None:
    out = subprocess.run(
        ["promtool", "check", "rules", "rules.yml"], cwd=RULES, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 rules found" in out.stdout


def test_rules_unit_tests_pass() -> None:
    out = subprocess.run(
        ["promtool", "test", "rules", "rules_test.yml"], cwd=RULES, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
