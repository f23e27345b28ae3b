from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.egress import AllowCidrs, allow_cidrs_field
from services.settings import SharedSettings


class ApiSettings(SharedSettings):
    """API settings; environment prefix ``PULSE_API_`` (``PULSE_API_PORT``…), except
    ``PULSE_METRICS_TOKEN``, which every service reads."""

    model_config = SettingsConfigDict(env_prefix="PULSE_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    config_partitions: int = Field(
        default=4, description="Partitions of the config topic: as many as the events topic."
    )
    config_produce_timeout_seconds: float = 5.0
    config_retry_after_seconds: int = 5
    session_hours: float = Field(
        default=12.0, gt=0, description="How long a status-page sign-in lasts."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the session cookie Secure; set it when the API is served over HTTPS.",
    )
    webhook_allow_cidrs: AllowCidrs = allow_cidrs_field()
    webhook_secret_overlap_seconds: float = Field(
        default=86_400.0,
        ge=0,
        description="How long a webhook's previous secret still signs deliveries after a rotation.",
    )
    webhook_test_timeout_seconds: float = Field(
        default=15.0, gt=0, le=60, description="Deadline of a webhook test delivery."
    )
