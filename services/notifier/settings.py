from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.notifier.schedule import RetryPolicy
from services.runtime.egress import AllowCidrs, EgressPolicy, allow_cidrs_field
from services.settings import SharedSettings

# Svix's schedule: the waits after the first, second… failure in a row; the last one repeats.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class NotifierSettings(SharedSettings):
    """Webhook notifier settings; environment prefix ``PULSE_NOTIFIER_``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_NOTIFIER_", extra="ignore")

    poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often each webhook looks for new outbox events."
    )
    request_timeout_seconds: float = Field(
        default=15.0, gt=0, le=60, description="Deadline of one delivery attempt, all included."
    )
    retry_schedule_seconds: tuple[float, ...] = Field(
        default=DEFAULT_RETRY_SCHEDULE,
        min_length=1,
        description="Waits after the 1st, 2nd… failure in a row (JSON list); the last repeats.",
    )
    retry_jitter: float = Field(
        default=0.2, ge=0, lt=1, description="Each wait is varied by up to this fraction."
    )
    retry_after_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest Retry-After honoured from a receiver."
    )
    disable_after_seconds: float = Field(
        default=5 * 86_400.0,
        gt=0,
        description="A webhook failing without a success for this long is disabled.",
    )
    time_scale: float = Field(
        default=1.0,
        gt=0,
        description="Multiplies every wait above and each Retry-After (tests run days in seconds)",
    )
    batch_size: int = Field(default=100, ge=1, description="Outbox events read at a time.")
    report_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The API's address as receivers reach it, for the links in report.weekly.",
    )
    report_check_seconds: float = Field(
        default=60.0, gt=0, description="How often campaigns are checked for a newly closed week."
    )
    budget_moves_check_seconds: float = Field(
        default=600.0, gt=0, description="How often every campaign's budget moves are computed."
    )
    budget_moves_min_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="A campaign's budget.moves event is emitted at most this often.",
    )
    webhook_allow_cidrs: AllowCidrs = allow_cidrs_field()
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8003

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            schedule=self.retry_schedule_seconds,
            jitter=self.retry_jitter,
            retry_after_max=self.retry_after_max_seconds,
            disable_after=timedelta(seconds=self.disable_after_seconds),
            time_scale=self.time_scale,
        )

    def egress_policy(self) -> EgressPolicy:
        return EgressPolicy(self.webhook_allow_cidrs)
