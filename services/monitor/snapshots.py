"""Status snapshots: the monitor's state turned into views and written to the database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.domain.status import assess
from services.domain.views import CampaignView, CreatorView, campaign_view, creator_view
from services.monitor.processor import Processor


def build_views(
    processor: Processor, campaign_ids: Iterable[str], now: datetime
) -> tuple[list[CampaignView], list[CreatorView]]:
    campaigns: list[CampaignView] = []
    creators: list[CreatorView] = []
    for campaign_id in campaign_ids:
        campaign = processor.load_campaign(campaign_id)
        if campaign is None:
            continue
        members = processor.load_campaign_creators(campaign)
        status, reasons = assess(members, campaign.watermark)
        campaigns.append(
            campaign_view(
                campaign_id, campaign.currency, members, campaign.watermark, status, reasons, now
            )
        )
        for creator in members:
            creator_status, creator_reasons = assess([creator], campaign.watermark)
            creators.append(
                creator_view(creator, campaign.watermark, creator_status, creator_reasons, now)
            )
    return campaigns, creators
