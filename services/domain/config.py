"""Campaign configuration: what a campaign team tells the monitor about a campaign.

The API validates it, stores it and produces it to a compacted Kafka topic keyed by campaign id,
whose value is ``CampaignConfig`` as JSON; the monitor reads it from there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
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
from services.domain.shopify import PromoCode, ShopDomain, normalise_code

MAX_PROMO_CODES = 1_000


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
    shop_domain: ShopDomain | None = Field(
        default=None,
        description="The Shopify shop (`name.myshopify.com`) whose orders carry the promo codes.",
    )
    promo_codes: dict[PromoCode, Identifier] = Field(
        default_factory=dict,
        max_length=MAX_PROMO_CODES,
        description="Discount code → creator id. Case-insensitive (stored upper-case); a code "
        "belongs to one campaign of a shop. Needs `shop_domain`.",
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

    @field_validator("promo_codes", mode="before")
    @classmethod
    def _codes_differ_once_normalised(cls, codes: Any) -> Any:
        if not isinstance(codes, dict):
            return codes
        seen: dict[str, Any] = {}
        for code in codes:
            key = normalise_code(code) if isinstance(code, str) else code
            if key in seen:
                raise ValueError(
                    f"{seen[key]!r} and {code!r} are the same code: codes are case-insensitive"
                )
            seen[key] = code
        return codes

    @field_validator("promo_codes")
    @classmethod
    def _codes_name_their_shop(cls, codes: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if codes and info.data.get("shop_domain") is None:
            raise ValueError("need shop_domain: a code is only unique within one shop")
        return codes


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
