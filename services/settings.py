"""Settings every service shares. Each service adds its own in ``services/<name>/settings.py``
under its own environment prefix (``PULSE_INGEST_``, ``PULSE_MONITOR_``, ``PULSE_API_``); the broker
and database addresses keep their conventional unprefixed names."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.domain.tiers import DEFAULT_TIER_BOUNDS, TierBounds, tier_bounds


class SharedSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "PULSE_KAFKA_BOOTSTRAP_SERVERS"),
        description="Comma-separated host:port list of Kafka brokers.",
    )
    database_url: str = Field(
        default="sqlite:///.run/pulse.db",
        validation_alias=AliasChoices("DATABASE_URL", "PULSE_DATABASE_URL"),
        description="SQLAlchemy URL of the status database.",
    )
    events_topic: str = Field(
        default="pulse.events", validation_alias=AliasChoices("PULSE_EVENTS_TOPIC")
    )
    dead_letter_topic: str = Field(
        default="pulse.dead-letters", validation_alias=AliasChoices("PULSE_DEAD_LETTER_TOPIC")
    )
    config_topic: str = Field(
        default="pulse.campaign-config", validation_alias=AliasChoices("PULSE_CONFIG_TOPIC")
    )
    log_level: str = Field(default="WARNING", validation_alias=AliasChoices("PULSE_LOG_LEVEL"))
    metrics_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PULSE_METRICS_TOKEN"),
        description="When set, /metrics wants it as a bearer token; open otherwise.",
    )
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        validation_alias=AliasChoices("PULSE_KEY_CACHE_SECONDS"),
        description="How long a service trusts what it looked up about a key (revocation delay).",
    )
    tier_bounds: TierBounds = Field(
        default=DEFAULT_TIER_BOUNDS,
        validation_alias=AliasChoices("PULSE_TIER_BOUNDS"),
        description="Follower tiers by their lowest follower count, as a JSON object: "
        '{"nano": 0, "micro": 10000, "mid": 50000, "macro": 500000, "mega": 1000000}.',
    )

    @field_validator("tier_bounds", mode="before")
    @classmethod
    def _ordered_tiers(cls, value: object) -> object:
        return tier_bounds(value) if isinstance(value, dict) else value
