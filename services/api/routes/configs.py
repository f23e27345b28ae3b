"""A campaign's configuration: target CAC, budget, currency, sensitivity, and the promo codes of
its Shopify shop.

Produced to the config topic before it is stored (see ``services.api.config_publisher``): when
the broker does not answer the client gets 503 and nothing is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from services.api.config_publisher import ConfigNotPublished
from services.api.deps import Audit, CampaignsReader, CampaignsWriter, Configs, Publisher, Settings
from services.domain.config import CampaignConfig, CampaignSettings
from services.storage.promo_codes import PromoCodeTaken

CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$"
CampaignId = Annotated[str, Path(min_length=1, max_length=128, pattern=CAMPAIGN_ID_PATTERN)]

router = APIRouter(tags=["campaigns"])


@router.put(
    "/v1/campaigns/{campaign_id}/config",
    response_model=CampaignConfig,
    responses={
        status.HTTP_409_CONFLICT: {
            "description": "a promo code is already mapped by another campaign of the shop "
            "(each named); nothing stored"
        },
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "description": "the broker did not acknowledge; nothing stored, retry"
        },
    },
)
def put_config(
    campaign_id: CampaignId,
    body: CampaignSettings,
    principal: CampaignsWriter,
    configs: Configs,
    publisher: Publisher,
    audit: Audit,
    settings: Settings,
) -> CampaignConfig:
    """Set a campaign's target CAC, budget, currency, sensitivity, shop and promo codes
    (replacing them all)."""
    config = CampaignConfig(
        campaign_id=campaign_id, updated_at=datetime.now(UTC), **body.model_dump()
    )
    taken = configs.promo_code_conflicts(config)
    if taken:
        raise _conflict(PromoCodeTaken(config.shop_domain or "", taken))
    try:
        publisher.publish(config)
    except ConfigNotPublished as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the broker did not acknowledge the configuration ({exc}); nothing was stored, retry",
            headers={"Retry-After": str(settings.config_retry_after_seconds)},
        ) from exc
    try:
        configs.save(config)
    except PromoCodeTaken as exc:
        raise _conflict(exc) from exc
    audit.record(principal.name, principal.key_id, "campaign.configure", campaign_id)
    return config


@router.get(
    "/v1/campaigns/{campaign_id}/config",
    response_model=CampaignConfig,
    responses={status.HTTP_404_NOT_FOUND: {"description": "the campaign has no configuration"}},
)
def get_config(campaign_id: CampaignId, _: CampaignsReader, configs: Configs) -> CampaignConfig:
    config = configs.get(campaign_id)
    if config is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"campaign '{campaign_id}' has no configuration"
        )
    return config


def _conflict(taken: PromoCodeTaken) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT,
        f"promo_codes: {taken}; a code belongs to one campaign of a shop, nothing was stored",
    )
