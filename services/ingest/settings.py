from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.http import HttpLimits
from services.settings import SharedSettings


class IngestSettings(SharedSettings):
    """Ingest service settings; environment prefix ``PULSE_INGEST_``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    partitions: int = 4
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    max_events_per_request: int = Field(default=20_000, gt=0)
    max_clock_skew_seconds: float = 300.0
    events_per_message: int = 500
    # Pack the events of every campaign hashing to the same partition into one unkeyed message
    # sent to that partition (publisher.py); false: one message per campaign keyed by it, the
    # shape other producers send.
    pack_by_partition: bool = True
    broker_timeout_seconds: float = 10.0
    retry_after_seconds: int = 5
    # Per API key, in events: the benchmark's 500-event batches reach about 60,000 events/s on
    # one key on the development machine, so the default only stops a client far beyond what one
    # ingest process serves; set it to each producer's share of the capacity.
    rate_limit_events_per_second: float = Field(default=100_000.0, gt=0)
    rate_limit_burst_events: int = Field(default=200_000, gt=0)
    # Slow clients: see services.runtime.http.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    max_header_bytes: int = Field(default=64 * 1024, gt=0)
    max_connections: int = Field(default=1000, gt=0)
    keep_alive_seconds: int = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _a_full_request_fits_the_burst(self) -> IngestSettings:
        if self.max_events_per_request > self.rate_limit_burst_events:
            raise ValueError(
                f"rate_limit_burst_events ({self.rate_limit_burst_events}) must be at least "
                f"max_events_per_request ({self.max_events_per_request}), or a full request "
                "could never be accepted"
            )
        return self

    @property
    def http_limits(self) -> HttpLimits:
        return HttpLimits(**self.model_dump(include=set(HttpLimits.__dataclass_fields__)))
