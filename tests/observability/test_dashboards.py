"""The Grafana dashboards: well-formed, bound to the provisioned data source, and every panel's
query returns data from a real Prometheus scraping the running services."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.observability.conftest import ROOT, ObservedStack

GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
DATA_TIMEOUT_SECONDS = 30.0
# What Grafana substitutes for its interval variables, for a 1 s scrape interval.
GRAFANA_VARIABLES = {"__rate_interval": "10s", "__interval": "1s", "__range": "1m"}


def provisioned_datasource_uid() -> str:
    text = (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text("utf-8")
    match = re.search(r"^\s*uid:\s*(\S+)\s*$", text, flags=re.MULTILINE)
    assert match, "the provisioned data source has no uid"
    return match.group(1)


def load(path: Path) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return dashboard


def variable_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """Each template variable's current value, as Grafana interpolates it into a regex match."""
    values = dict(GRAFANA_VARIABLES)
    for variable in dashboard.get("templating", {}).get("list", []):
        current = variable["current"]["value"]
        current = current if isinstance(current, list) else [current]
        if "$__all" in current:
            values[variable["name"]] = variable.get("allValue") or ".*"
        else:
            values[variable["name"]] = "|".join(current)
    return values


def interpolate(expr: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in values, f"unknown variable ${name} in {expr!r}"
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def panel_queries() -> list[tuple[str, str]]:
    """(dashboard / panel / refId, interpolated expression) for every target of every panel."""
    queries = []
    for path in DASHBOARDS:
        dashboard = load(path)
        values = variable_values(dashboard)
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                name = f"{dashboard['uid']} / {panel['title']} / {target['refId']}"
                queries.append((name, interpolate(target["expr"], values)))
    return queries


def test_dashboards_are_well_formed_and_use_the_provisioned_datasource() -> None:
    uid = provisioned_datasource_uid()
    assert {path.stem for path in DASHBOARDS} >= {"campaigns", "pipeline"}
    uids = set()
    for path in DASHBOARDS:
        dashboard = load(path)
        assert dashboard["uid"] and dashboard["title"] and dashboard["panels"], path
        uids.add(dashboard["uid"])
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in dashboard["panels"]:
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"
            assert panel["datasource"]["uid"] == uid, panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == uid, panel["title"]
                assert target["expr"].strip(), panel["title"]
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable["type"] == "query":
                assert variable["datasource"]["uid"] == uid, variable["name"]
    assert len(uids) == len(DASHBOARDS)


@pytest.mark.e2e
def test_every_panel_query_returns_data(observed_stack: ObservedStack) -> None:
    queries = panel_queries()
    deadline = time.monotonic() + DATA_TIMEOUT_SECONDS
    empty = queries
    while empty and time.monotonic() < deadline:
        empty = [(name, expr) for name, expr in empty if not observed_stack.prometheus.query(expr)]
        if empty:
            time.sleep(1)
    assert empty == [], "panels without data:\n" + "\n".join(f"{n}: {e}" for n, e in empty)


@pytest.mark.e2e
def test_alerting_rules_carry_severity_team_and_annotations(
    observed_stack: ObservedStack,
) -> None:
    response = observed_stack.prometheus.client.get("/api/v1/rules", params={"type": "alert"})
    rules = [rule for group in response.json()["data"]["groups"] for rule in group["rules"]]
    assert len(rules) >= 5
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["name"]
        assert rule["labels"]["team"] in ("campaigns", "platform"), rule["name"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["name"]
        if rule["labels"]["team"] == "campaigns":
            assert "$labels.campaign_id" in rule["annotations"]["summary"], rule["name"]
            assert "by (campaign_id)" in rule["query"], rule["name"]
