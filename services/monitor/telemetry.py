"""The monitor's Prometheus metrics.

Labels are bounded: event type, outcome, status, partition, alert severity and state, event-time
window name, and the campaign id of at most ``MAX_CAMPAIGN_SERIES`` campaigns. Per-campaign series
exist for the active campaigns this worker owns: those whose status it snapshotted most recently,
up to the cap (the least recently updated lose their series first), and only while the campaign's
partition stays assigned to this worker, so a rebalance moves the series with the campaign.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence, Sized
from contextlib import suppress
from typing import get_args

import faust
import structlog
from aiokafka.errors import KafkaError
from faust.exceptions import ConsumerNotStarted
from prometheus_client import Counter, Gauge, Histogram

from services.domain.alerts import Alert, AlertState, Severity
from services.domain.views import CampaignView, StatusName
from services.domain.windows import WINDOWS
from services.monitor.processor import BatchResult
from services.runtime.topics import campaign_partition

log = structlog.get_logger(__name__)

MAX_CAMPAIGN_SERIES = 500
LAG_SAMPLE_INTERVAL_SECONDS = 5.0
STATUSES: tuple[StatusName, ...] = get_args(StatusName)
WINDOW_NAMES = tuple(window.name for window in WINDOWS)

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
STATE_KEYS = Gauge(
    "pulse_monitor_state_keys",
    "Keys held in this worker's state tables (campaigns, creators).",
    ["table"],
)
CAMPAIGNS = Gauge("pulse_campaigns", "Campaigns owned by this worker, by status.", ["status"])
EVENT_TIME_LAG = Gauge(
    "pulse_monitor_event_time_lag_seconds",
    "Wall-clock time minus the newest event time this worker has processed (NaN before the first).",
)
CONSUMER_LAG = Gauge(
    "pulse_monitor_consumer_lag_messages",
    "Messages in an assigned event-topic partition that this worker has not processed yet.",
    ["partition"],
)
ENGAGEMENT_RATE = Gauge(
    "pulse_campaign_engagement_rate_by_views",
    "Engagements / views over an event-time window, per active campaign (capped).",
    ["campaign_id", "window"],
)
CAC = Gauge(
    "pulse_campaign_cac",
    "Spend / new customers over an event-time window, in the campaign's currency (capped).",
    ["campaign_id", "window"],
)
ROAS = Gauge(
    "pulse_campaign_roas",
    "Revenue / spend over an event-time window, per active campaign (capped).",
    ["campaign_id", "window"],
)
CAMPAIGN_STATUS = Gauge(
    "pulse_campaign_status",
    "1 for the campaign's current status and 0 for the others, per active campaign (capped).",
    ["campaign_id", "status"],
)
TARGET_CAC = Gauge(
    "pulse_campaign_target_cac",
    "The CAC a campaign is expected to stay under, in the campaign's currency.",
    ["campaign_id"],
)
OPEN_ALERTS = Gauge(
    "pulse_monitor_open_alerts",
    "Alerts this worker holds open, by severity and state (firing or acknowledged).",
    ["severity", "state"],
)

_status_by_campaign: dict[str, StatusName] = {}
_with_series: OrderedDict[str, None] = OrderedDict()
_open_alerts: dict[str, tuple[str, Severity, AlertState]] = {}
_lag_partitions: set[int] = set()
_newest_event_time: float | None = None


def _event_time_lag() -> float:
    return math.nan if _newest_event_time is None else time.time() - _newest_event_time


EVENT_TIME_LAG.set_function(_event_time_lag)


def watch_state_size(table: str, keys: Sized) -> None:
    STATE_KEYS.labels(table).set_function(lambda: len(keys))


def record_batch(result: BatchResult, accepted_at: float | None) -> None:
    global _newest_event_time
    MESSAGES.inc()
    for (event_type, outcome), count in result.outcomes.items():
        EVENTS.labels(event_type, outcome).inc(count)
    DEAD_LETTERS.inc(len(result.dead_letters))
    if accepted_at is not None:
        INGEST_TO_PROCESSED.observe(max(0.0, time.time() - accepted_at))
    newest = result.newest_event_time
    if newest is not None and (_newest_event_time is None or newest > _newest_event_time):
        _newest_event_time = newest


def record_snapshot(
    campaigns: Sequence[CampaignView], seconds: float, cap: int = MAX_CAMPAIGN_SERIES
) -> None:
    """Count campaigns by status and set the per-campaign series of the ``cap`` most recent."""
    SNAPSHOT_SECONDS.observe(seconds)
    for campaign in campaigns:
        _status_by_campaign[campaign.campaign_id] = campaign.status
        _set_campaign_series(campaign)
        _with_series[campaign.campaign_id] = None
        _with_series.move_to_end(campaign.campaign_id)
    while len(_with_series) > cap:
        evicted, _ = _with_series.popitem(last=False)
        _remove_campaign_series(evicted)
    _count_statuses()


def record_targets(targets: Mapping[str, float | None]) -> None:
    """Set (or, for ``None``, clear) the target CAC of campaigns that have series."""
    for campaign_id, target in targets.items():
        if target is not None and campaign_id in _with_series:
            TARGET_CAC.labels(campaign_id).set(target)
        else:
            with suppress(KeyError):
                TARGET_CAC.remove(campaign_id)


def record_alerts(changed: Iterable[Alert]) -> None:
    """Count open alerts from each round's new and changed ones (resolved ones close).

    The count starts from zero when the worker starts and follows the alerts that change after.
    """
    for alert in changed:
        if alert.state == "resolved":
            _open_alerts.pop(alert.alert_id, None)
        else:
            _open_alerts[alert.alert_id] = (alert.campaign_id, alert.severity, alert.state)
    _count_alerts()


async def sample_consumer_lag(app: faust.App, events_topic: str) -> None:
    """Set the lag of each assigned partition of ``events_topic``: its end offset minus the next
    offset this worker will process. Campaigns on partitions no longer assigned lose their series.

    The next offset is one past the last message a stream read, else the committed offset, else the
    consumer's position. On the embedded Tansu broker end offsets read low, and so does the lag.
    Before the consumer started, or while a rebalance moves partitions, nothing changes.
    """
    if app.rebalancing:
        return
    try:
        owned, lags = await _partition_lags(app, events_topic)
        partitions = app.consumer.topic_partitions(events_topic)
    except (ConsumerNotStarted, KafkaError, TimeoutError):
        log.debug("consumer lag not sampled", exc_info=True)
        return
    for partition, lag in lags.items():
        CONSUMER_LAG.labels(str(partition)).set(lag)
    for partition in _lag_partitions - lags.keys():
        CONSUMER_LAG.remove(str(partition))
    _lag_partitions.clear()
    _lag_partitions.update(lags)
    if partitions:
        forget_campaigns_outside(owned, partitions)


async def _partition_lags(app: faust.App, events_topic: str) -> tuple[set[int], dict[int, int]]:
    """The assigned partitions, and the lag of those whose offsets are known."""
    consumer = app.consumer
    assigned = sorted(tp for tp in consumer.assignment() if tp.topic == events_topic)
    highwaters = await consumer.highwaters(*assigned) if assigned else {}
    read = app.monitor.tp_read_offsets
    committed = app.monitor.tp_committed_offsets
    lags: dict[int, int] = {}
    for tp in assigned:
        if tp in read:
            processed: int | None = read[tp] + 1
        elif tp in committed:
            processed = committed[tp]
        else:
            processed = await consumer.position(tp)
        end = highwaters.get(tp)
        if end is not None and processed is not None:
            lags[tp.partition] = max(0, end - processed)
    return {tp.partition for tp in assigned}, lags


def forget_campaigns_outside(owned: set[int], partitions: int) -> None:
    """Drop the campaigns (counts and series) whose key hashes to a partition not in ``owned``."""
    for campaign_id in list(_status_by_campaign):
        if campaign_partition(campaign_id, partitions) not in owned:
            del _status_by_campaign[campaign_id]
            if campaign_id in _with_series:
                del _with_series[campaign_id]
                _remove_campaign_series(campaign_id)
    for alert_id, (campaign_id, _, _) in list(_open_alerts.items()):
        if campaign_id not in _status_by_campaign:
            del _open_alerts[alert_id]
    _count_statuses()
    _count_alerts()


def _count_statuses() -> None:
    counts = dict.fromkeys(STATUSES, 0)
    for status in _status_by_campaign.values():
        counts[status] += 1
    for status, count in counts.items():
        CAMPAIGNS.labels(status).set(count)


def _count_alerts() -> None:
    counts = {
        (severity, state): 0
        for severity in get_args(Severity)
        for state in get_args(AlertState)
        if state != "resolved"
    }
    for _, severity, state in _open_alerts.values():
        counts[severity, state] += 1
    for (severity, state), count in counts.items():
        OPEN_ALERTS.labels(severity, state).set(count)


def _set_campaign_series(campaign: CampaignView) -> None:
    campaign_id = campaign.campaign_id
    for status in STATUSES:
        CAMPAIGN_STATUS.labels(campaign_id, status).set(1 if status == campaign.status else 0)
    for name in WINDOW_NAMES:
        figures = campaign.windows.get(name)
        values = (
            (ENGAGEMENT_RATE, figures.engagement_rate_by_views if figures else None),
            (CAC, figures.cac if figures else None),
            (ROAS, figures.roas if figures else None),
        )
        for gauge, value in values:
            if value is None:
                with suppress(KeyError):
                    gauge.remove(campaign_id, name)
            else:
                gauge.labels(campaign_id, name).set(value)


def _remove_campaign_series(campaign_id: str) -> None:
    with suppress(KeyError):
        TARGET_CAC.remove(campaign_id)
    for status in STATUSES:
        with suppress(KeyError):
            CAMPAIGN_STATUS.remove(campaign_id, status)
    for gauge in (ENGAGEMENT_RATE, CAC, ROAS):
        for name in WINDOW_NAMES:
            with suppress(KeyError):
                gauge.remove(campaign_id, name)


_count_alerts()
