"""Each running service's /metrics passes `promtool check metrics` and exposes what the dashboards
and alerts read, with bounded labels."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from services.monitor.telemetry import MAX_CAMPAIGN_SERIES
from tests.observability.conftest import ObservedStack, tool

pytestmark = pytest.mark.e2e

EXPECTED = {
    "ingest": (
        "pulse_ingest_events_total",
        "pulse_ingest_rejected_events_total",
        "pulse_ingest_broker_unavailable_total",
        "pulse_ingest_request_duration_seconds_bucket",
    ),
    "api": ("pulse_api_requests_total", "pulse_api_request_duration_seconds_bucket"),
    "monitor": (
        "pulse_monitor_events_total",
        "pulse_monitor_messages_total",
        "pulse_monitor_dead_letters_total",
        "pulse_monitor_ingest_to_processed_seconds_bucket",
        "pulse_monitor_snapshot_duration_seconds_bucket",
        "pulse_monitor_event_time_lag_seconds",
        "pulse_monitor_consumer_lag_messages",
        "pulse_campaigns",
        "pulse_campaign_status",
        "pulse_campaign_engagement_rate_by_views",
        "pulse_campaign_cac",
        "pulse_campaign_roas",
    ),
}


def exposition(url: str) -> str:
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.text


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_metrics_pass_promtool_and_expose_what_dashboards_read(
    observed_stack: ObservedStack, service: str
) -> None:
    text = exposition(observed_stack.metrics_urls()[service])
    result = subprocess.run(
        [tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    names = set(re.findall(r"^(\w+)[{ ]", text, flags=re.MULTILINE))
    assert [name for name in EXPECTED[service] if name not in names] == []
    assert "creator_id=" not in text


def test_rejections_are_labelled_by_bounded_reasons(observed_stack: ObservedStack) -> None:
    text = exposition(observed_stack.metrics_urls()["ingest"])
    reasons = set(re.findall(r'^pulse_ingest_rejected_events_total\{.*reason="(\w+)"', text, re.M))
    assert {"missing", "greater_than_equal", "extra_forbidden", "not_an_object"} <= reasons


def test_campaign_series_stay_under_the_cap(observed_stack: ObservedStack) -> None:
    text = exposition(observed_stack.metrics_urls()["monitor"])
    campaigns = set(re.findall(r'^pulse_campaign_status\{campaign_id="([^"]+)"', text, re.M))
    assert 0 < len(campaigns) <= MAX_CAMPAIGN_SERIES
