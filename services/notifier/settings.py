from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import SharedSettings


class NotifierSettings(SharedSettings):
    """Webhook notifier settings; environment prefix ``PULSE_NOTIFIER_``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_NOTIFIER_", extra="ignore")

    poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often each webhook looks for new outbox events."
    )
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    initial_backoff_seconds: float = Field(
        default=0.5, gt=0, description="Wait before the first retry of a failed delivery."
    )
    max_backoff_seconds: float = Field(
        default=60.0, gt=0, description="Cap on the doubling wait between retries."
    )
    batch_size: int = Field(default=100, ge=1, description="Outbox events read at a time.")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8003
