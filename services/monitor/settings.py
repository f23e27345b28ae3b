from __future__ import annotations

from typing import Literal

from pydantic_settings import SettingsConfigDict

from services.domain.suspicion import DEFAULT_SUSPICION, SuspicionSettings
from services.settings import SharedSettings


class MonitorSettings(SharedSettings):
    """Monitor worker settings; environment prefix ``PULSE_MONITOR_``.

    The consumer-group timeouts are short so that the embedded broker's first join (which holds
    for about half the session timeout) is quick; on a real Kafka cluster raise them (see README).
    """

    model_config = SettingsConfigDict(env_prefix="PULSE_MONITOR_", extra="ignore")

    app_id: str = "campaign-pulse-monitor"
    partitions: int = 4
    allowed_lateness_hours: float = 72.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8002
    web_port: int = 6066
    data_dir: str = ".run/monitor"
    store: str = "memory://"
    snapshot_interval_seconds: float = 0.25
    # A status round takes at most this many campaigns and stops taking more after this long;
    # the rest wait for the next rounds.
    snapshot_max_campaigns: int = 500
    snapshot_round_seconds: float = 0.1
    # A campaign's status is re-tested at least this often while its event time stays in one
    # six-hour block (its figures are rebuilt every round).
    reassess_interval_seconds: float = 5.0
    session_timeout_seconds: float = 6.0
    heartbeat_interval_seconds: float = 1.0
    rebalance_timeout_seconds: float = 6.0
    commit_interval_seconds: float = 1.0
    # How long the broker may hold a fetch that finds nothing new (Faust's own is 1,500 ms; a
    # broker that does not answer as soon as data arrives adds up to this to every event).
    fetch_max_wait_ms: int = 100
    # Table writes are held and flushed per partition after this many messages or this long.
    # Views are built from held state, so this delays only the changelog and the offset commit
    # (what a crashed worker's successor processes again), not what the API shows. A busy
    # creator costs one encoding and one changelog record per flush (docs/performance.md).
    flush_max_messages: int = 1000
    flush_interval_seconds: float = 1.0
    # Recently used campaign and creator states kept decoded (each table), besides held ones.
    decoded_states: int = 2048
    alerts_topic: str = "pulse.alerts"
    # Suspicious-engagement thresholds, as JSON naming the fields to change, e.g.
    # PULSE_MONITOR_SUSPICION='{"burst_factor": 4}' (docs/suspicious-engagement.md).
    suspicion: SuspicionSettings = DEFAULT_SUSPICION
    # exactly_once needs a broker with transactions (real Kafka); the embedded Tansu has none.
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
