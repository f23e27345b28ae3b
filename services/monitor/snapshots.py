"""Status snapshots: the monitor's state turned into views and written to the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from services.domain.detection import CampaignTargets, detect
from services.domain.views import CampaignView, CreatorView, campaign_view, creator_view
from services.monitor.processor import Processor

NO_TARGETS = CampaignTargets()


def build_views(
    processor: Processor,
    campaign_ids: Iterable[str],
    now: datetime,
    targets: Mapping[str, CampaignTargets] | None = None,
) -> tuple[list[CampaignView], list[CreatorView]]:
    campaigns: list[CampaignView] = []
    creators: list[CreatorView] = []
    for campaign_id in campaign_ids:
        campaign = processor.load_campaign(campaign_id)
        if campaign is None:
            continue
        members = processor.load_campaign_creators(campaign)
        goals = (targets or {}).get(campaign_id, NO_TARGETS)
        assessment = detect(members, campaign.watermark, goals)
        campaigns.append(
            campaign_view(
                campaign_id,
                campaign.currency,
                members,
                campaign.watermark,
                assessment.status,
                assessment.reasons,
                now,
                assessment.contributors,
            )
        )
        for creator in members:
            own = detect([creator], campaign.watermark, goals)
            creators.append(creator_view(creator, campaign.watermark, own.status, own.reasons, now))
    return campaigns, creators
