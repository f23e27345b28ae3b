"""A campaign's budget recommendation from what the monitor last stored: each creator's view
(its last seven days of spend and new customers, tier, status) and the campaign's configuration
(a target CAC switches from a fixed budget to the target)."""

from __future__ import annotations

from services.domain.allocation import (
    AllocationSettings,
    Recommendation,
    creator_input,
    recommend,
)
from services.storage.repository import StatusRepository
from services.storage.webhooks import CampaignConfigRepository


def campaign_recommendation(
    statuses: StatusRepository,
    configs: CampaignConfigRepository,
    campaign_id: str,
    settings: AllocationSettings | None = None,
) -> Recommendation | None:
    """None when the campaign is unknown."""
    campaign = statuses.get_campaign(campaign_id)
    if campaign is None:
        return None
    config = configs.get(campaign_id)
    target = config.target_cac if config is not None else None
    creators = [creator_input(view) for view in statuses.list_creators(campaign_id)]
    return recommend(
        campaign_id,
        campaign.currency,
        campaign.as_of,
        creators,
        float(target) if target is not None else None,
        settings,
    )
