"""The deployment's Prometheus configuration, rules and Alertmanager routing, checked by the tools
that load them: promtool and amtool (Debian packages prometheus and prometheus-alertmanager)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.observability.conftest import PROMETHEUS_DIR, ROOT, tool

ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=60)


def alert_names() -> list[str]:
    text = (PROMETHEUS_DIR / "rules" / "alerts.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s*- alert: (\w+)\s*$", text, flags=re.MULTILINE)


def test_prometheus_config_and_its_rule_files_are_valid() -> None:
    result = run(tool("promtool"), "check", "config", PROMETHEUS_DIR / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_rules_are_valid() -> None:
    result = run(tool("promtool"), "check", "rules", *sorted(PROMETHEUS_DIR.glob("rules/*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    assert RULE_TESTS
    result = run(tool("promtool"), "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_unit_tests_firing_and_not_firing() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in RULE_TESTS)
    expectations = re.findall(r"alertname: (\w+)\s+exp_alerts:(.*)", text)
    firing = {name for name, rest in expectations if rest.strip() != "[]"}
    silent = {name for name, rest in expectations if rest.strip() == "[]"}
    names = alert_names()
    assert set(names) >= {
        "CampaignDecaying",
        "CampaignCacAboveTarget",
        "PipelineStalled",
        "ConsumerLagGrowing",
        "DeadLettersAppearing",
    }
    assert [n for n in names if n not in firing] == []
    assert [n for n in names if n not in silent] == []


def test_alertmanager_config_is_valid() -> None:
    result = run(tool("amtool"), "check-config", ALERTMANAGER_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (("alertname=CampaignDecaying", "team=campaigns", "campaign_id=c1"), "campaign-team"),
        (("alertname=CampaignCacAboveTarget", "team=campaigns"), "campaign-team"),
        (("alertname=PipelineStalled", "team=platform", "severity=critical"), "operators"),
        (("alertname=DeadLettersAppearing", "team=platform", "severity=warning"), "operators"),
    ],
)
def test_alerts_route_to_their_receiver(labels: tuple[str, ...], receiver: str) -> None:
    result = run(
        tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}", *labels
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receiver]
