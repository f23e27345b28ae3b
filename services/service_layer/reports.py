"""Weekly reviews: the inputs read from storage, handed to the one computation
(``services.domain.weekly``) that the API, the CLI and the notifier all use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from services.domain.weekly import (
    HISTORY_WEEKS,
    IsoWeek,
    ReviewInputs,
    portfolio,
    weekly_report,
)
from services.domain.weekly_model import PortfolioReport, WeeklyReport
from services.storage.alerts import AlertRepository
from services.storage.repository import StatusRepository
from services.storage.rollups import RollupRepository
from services.storage.webhooks import CampaignConfigRepository

# Far more alerts than a campaign opens in a week: one open alert per cause at a time.
MAX_ALERTS = 10_000


@dataclass(frozen=True)
class ReviewSources:
    statuses: StatusRepository
    rollups: RollupRepository
    alerts: AlertRepository
    configs: CampaignConfigRepository

    @classmethod
    def on(cls, engine: Engine) -> ReviewSources:
        return cls(
            StatusRepository(engine),
            RollupRepository(engine),
            AlertRepository(engine),
            CampaignConfigRepository(engine),
        )


def campaign_review(sources: ReviewSources, campaign_id: str, week: IsoWeek) -> WeeklyReport | None:
    """The campaign's review of ``week``; None when the campaign is unknown (no status, no
    rollup in the weeks the review covers)."""
    first_day = week.shifted(1 - HISTORY_WEEKS).first_day
    rollups = sources.rollups.read(first_day, week.last_day, campaign_id)
    campaign = sources.statuses.get_campaign(campaign_id)
    if campaign is None and not rollups:
        return None
    config = sources.configs.get(campaign_id)
    alerts, _ = sources.alerts.list(
        campaign_id=campaign_id, since=week.start(), until=week.end(), limit=MAX_ALERTS
    )
    currency = campaign.currency if campaign is not None else None
    return weekly_report(
        ReviewInputs(
            campaign_id=campaign_id,
            week=week,
            rollups=rollups,
            creators=sources.statuses.list_creators(campaign_id),
            alerts=alerts,
            currency=currency or (config.currency if config else None),
            target_cac=float(config.target_cac) if config and config.target_cac else None,
            time_zone=config.time_zone if config else None,
            status=campaign.status if campaign is not None else None,
        )
    )


def portfolio_review(sources: ReviewSources, week: IsoWeek) -> PortfolioReport:
    """Every campaign with figures that week, worst first."""
    reports = (
        campaign_review(sources, campaign_id, week)
        for campaign_id in sources.rollups.campaign_ids(week.first_day, week.last_day)
    )
    return portfolio(week, (report for report in reports if report is not None))
