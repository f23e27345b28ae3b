from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.settings import SharedSettings


class IngestSettings(SharedSettings):
    """Ingest service settings; environment prefix ``PULSE_INGEST_``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    partitions: int = 4
    max_body_bytes: int = 8 * 1024 * 1024
    max_events_per_request: int = 20_000
    max_clock_skew_seconds: float = 300.0
    events_per_message: int = 500
    broker_timeout_seconds: float = 10.0
    retry_after_seconds: int = 5
