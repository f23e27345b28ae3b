"""Campaign configuration: what a campaign team tells the monitor about a campaign.

The API validates it, stores it and produces it to a compacted Kafka topic keyed by campaign id,
whose value is ``CampaignConfig`` as JSON; the monitor reads it from there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from services.domain.detection import CampaignTargets, Sensitivity
from services.domain.events import Amount, CurrencyCode, Identifier


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"'{name}' is not an IANA time zone") from None
    return name


PositiveAmount = Annotated[Decimal, Field(gt=0, le=10**9, decimal_places=6, allow_inf_nan=False)]


class CampaignSettings(BaseModel):
    """The part of a campaign's configuration a client sets (the body of ``PUT .../config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_cac: PositiveAmount | None = Field(
        default=None, description="Customer acquisition cost the campaign aims at, in currency."
    )
    budget: Amount | None = Field(default=None, description="Total budget, in currency.")
    currency: CurrencyCode | None = Field(
        default=None, validate_default=True, description="ISO 4217 code, e.g. EUR."
    )
    sensitivity: Sensitivity = Field(
        default="normal", description="How readily the monitor calls the campaign decaying."
    )
    time_zone: Annotated[str, AfterValidator(_known_zone), Field(max_length=64)] | None = Field(
        default=None,
        description="IANA zone (e.g. Europe/Berlin) the team reads weekly reviews in; "
        "reviews add up UTC days and name the offset.",
    )

    @field_validator("currency")
    @classmethod
    def _money_has_a_currency(cls, currency: str | None, info: ValidationInfo) -> str | None:
        # target_cac and budget come first, so they are validated by now.
        money = [name for name in ("target_cac", "budget") if info.data.get(name) is not None]
        if currency is None and money:
            raise ValueError(f"is required when {' and '.join(money)} is set")
        return currency


class CampaignConfig(CampaignSettings):
    """A campaign's configuration as stored and as produced to the config topic."""

    campaign_id: Identifier
    updated_at: AwareDatetime


def parse_config(value: bytes | None) -> CampaignConfig | None:
    """A configuration as read from the config topic; None for a deleted or malformed record."""
    if value is None:
        return None
    try:
        return CampaignConfig.model_validate_json(value)
    except ValidationError:
        return None


def targets_of(config: CampaignConfig) -> CampaignTargets:
    return CampaignTargets(
        target_cac=float(config.target_cac) if config.target_cac is not None else None,
        sensitivity=config.sensitivity,
    )
