"""Metric bookkeeping without services: the per-campaign cap, ownership after a rebalance, alert
counts, and bounded rejection reasons."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.domain.alerts import Alert, AlertState
from services.domain.views import CampaignView, StatusName, WindowFigures
from services.ingest import telemetry as ingest_telemetry
from services.monitor import telemetry
from services.runtime.topics import campaign_partition
from tests.views import campaign_view

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def view(
    campaign_id: str, status: StatusName = "healthy", cac: float | None = 12.5
) -> CampaignView:
    figures = WindowFigures(
        start=NOW,
        end=NOW,
        views=0,
        likes=0,
        comments=0,
        shares=0,
        saves=0,
        clicks=0,
        engagements=0,
        engagement_rate_by_views=0.05,
        engagement_rate_by_followers=None,
        spend=0.0,
        conversions=0,
        new_customers=0,
        revenue=0.0,
        cac=cac,
        roas=2.0,
        cpe=None,
        cpm=None,
    )
    return campaign_view(
        campaign_id,
        status,
        as_of=NOW,
        updated_at=NOW,
        windows={"24h": figures, "7d": figures},
    )


def alert(alert_id: str, campaign_id: str, state: AlertState = "firing") -> Alert:
    return Alert(
        alert_id=alert_id,
        campaign_id=campaign_id,
        cause="cac_rise",
        severity="warning",
        state=state,
        status="decaying",
        summary="",
        reasons=[],
        contributors=[],
        revision=1,
        opened_at=NOW,
        updated_at=NOW,
        event_time=NOW,
    )


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def campaigns_with_series() -> set[str]:
    return {
        sample.labels["campaign_id"]
        for family in telemetry.CAMPAIGN_STATUS.collect()
        for sample in family.samples
    }


@pytest.fixture(autouse=True)
def forget_everything() -> Iterator[None]:
    yield
    telemetry.forget_campaigns_outside(set(), 1)


def test_campaign_series_follow_the_latest_snapshot() -> None:
    telemetry.record_snapshot([view("a", "healthy")], 0.01)
    telemetry.record_snapshot([view("a", "decaying", cac=None)], 0.01)
    assert value("pulse_campaign_status", campaign_id="a", status="decaying") == 1
    assert value("pulse_campaign_status", campaign_id="a", status="healthy") == 0
    assert value("pulse_campaign_cac", campaign_id="a", window="7d") is None
    assert value("pulse_campaign_roas", campaign_id="a", window="24h") == 2.0
    assert value("pulse_campaigns", status="decaying") == 1


def test_only_the_most_recently_updated_campaigns_keep_series() -> None:
    telemetry.record_snapshot([view("old"), view("mid")], 0.01, cap=2)
    telemetry.record_targets({"old": 10.0, "mid": 20.0, "unknown": 5.0})
    telemetry.record_snapshot([view("new")], 0.01, cap=2)
    assert campaigns_with_series() == {"mid", "new"}
    assert value("pulse_campaign_engagement_rate_by_views", campaign_id="old", window="7d") is None
    assert value("pulse_campaign_target_cac", campaign_id="old") is None
    assert value("pulse_campaign_target_cac", campaign_id="mid") == 20.0
    assert value("pulse_campaign_target_cac", campaign_id="unknown") is None
    assert value("pulse_campaigns", status="healthy") == 3


def test_campaigns_on_partitions_this_worker_lost_are_forgotten() -> None:
    ids = [f"c{i}" for i in range(20)]
    telemetry.record_snapshot([view(i) for i in ids], 0.01)
    telemetry.record_alerts([alert(f"alert-{i}", i) for i in ids])
    telemetry.forget_campaigns_outside({0, 1}, 4)
    kept = {i for i in ids if campaign_partition(i, 4) in (0, 1)}
    assert 0 < len(kept) < len(ids)
    assert campaigns_with_series() == kept
    assert value("pulse_campaigns", status="healthy") == len(kept)
    assert value("pulse_monitor_open_alerts", severity="warning", state="firing") == len(kept)


def test_open_alerts_close_when_resolved() -> None:
    telemetry.record_snapshot([view("a")], 0.01)
    telemetry.record_alerts([alert("x", "a"), alert("y", "a")])
    telemetry.record_alerts([alert("x", "a", "acknowledged"), alert("y", "a", "resolved")])
    assert value("pulse_monitor_open_alerts", severity="warning", state="firing") == 0
    assert value("pulse_monitor_open_alerts", severity="warning", state="acknowledged") == 1


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"type": "spend"}, "missing"),
        ("text", ingest_telemetry.NOT_AN_OBJECT),
        ({"type": "refund"}, "union_tag_invalid"),
        ({"event_id": "x"}, "union_tag_not_found"),
    ],
)
def test_rejection_reasons_are_pydantic_error_types(item: Any, reason: str) -> None:
    assert ingest_telemetry.rejection_reason(item) == reason
    assert reason in ingest_telemetry.PYDANTIC_ERROR_TYPES or reason == "not_an_object"
