"""The monitor's Prometheus metrics. Labels are bounded: event type, outcome, status."""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import Counter, Gauge, Histogram

from services.domain.views import CampaignView
from services.monitor.processor import BatchResult

EVENTS = Counter(
    "pulse_monitor_events",
    "Events handled by the monitor, by type and outcome (applied, duplicate, rejected, invalid).",
    ["type", "outcome"],
)
MESSAGES = Counter("pulse_monitor_messages", "Kafka messages consumed from the event topic.")
DEAD_LETTERS = Counter(
    "pulse_monitor_dead_letters", "Events sent to the dead-letter topic, with their reason."
)
INGEST_TO_PROCESSED = Histogram(
    "pulse_monitor_ingest_to_processed_seconds",
    "Time from ingest's broker acknowledgement to the monitor applying the message.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SNAPSHOT_SECONDS = Histogram(
    "pulse_monitor_snapshot_duration_seconds",
    "Time to build and store one round of status snapshots.",
)
CAMPAIGNS = Gauge("pulse_campaigns", "Campaigns owned by this worker, by status.", ["status"])

_status_by_campaign: dict[str, str] = {}


def record_batch(result: BatchResult, accepted_at: float | None) -> None:
    MESSAGES.inc()
    for (event_type, outcome), count in result.outcomes.items():
        EVENTS.labels(event_type, outcome).inc(count)
    DEAD_LETTERS.inc(len(result.dead_letters))
    if accepted_at is not None:
        INGEST_TO_PROCESSED.observe(max(0.0, time.time() - accepted_at))


def record_snapshot(campaigns: Sequence[CampaignView], seconds: float) -> None:
    SNAPSHOT_SECONDS.observe(seconds)
    for campaign in campaigns:
        _status_by_campaign[campaign.campaign_id] = campaign.status
    counts: dict[str, int] = dict.fromkeys(("healthy", "watch", "decaying", "insufficient_data"), 0)
    for status in _status_by_campaign.values():
        counts[status] += 1
    for status, count in counts.items():
        CAMPAIGNS.labels(status).set(count)
