"""Emitting ``budget.moves``: every campaign's recommendation, appended to the outbox when its
moves changed (at most once per ``min_interval`` per campaign), for the notifier to deliver."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.service_layer.recommendations import campaign_recommendation
from services.storage.budget_moves import BudgetMovesOutbox
from services.storage.repository import StatusRepository
from services.storage.webhooks import CampaignConfigRepository

PAGE = 500


def emit_budget_moves(
    statuses: StatusRepository,
    configs: CampaignConfigRepository,
    outbox: BudgetMovesOutbox,
    now: datetime,
    min_interval: timedelta,
) -> list[int]:
    """The outbox ids of the events appended, one per campaign whose moves changed."""
    appended = []
    offset = 0
    while True:
        campaigns, total = statuses.list_campaigns(limit=PAGE, offset=offset)
        for campaign in campaigns:
            found = campaign_recommendation(statuses, configs, campaign.campaign_id)
            if found is None:
                continue
            event_id = outbox.append_if_changed(found, now, min_interval)
            if event_id is not None:
                appended.append(event_id)
        offset += PAGE
        if offset >= total:
            return appended
