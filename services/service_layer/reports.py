"""Weekly reviews: the inputs read from storage, handed to the one computation
(``services.domain.weekly``) that the API, the CLI and the notifier all use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine

from services.domain.weekly import HISTORY_WEEKS, ReviewInputs, portfolio, weekly_report
from services.domain.weekly_model import BudgetMovesSection, PortfolioReport, WeeklyReport
from services.domain.weeks import IsoWeek
from services.service_layer.recommendations import campaign_recommendation
from services.storage.alerts import AlertRepository
from services.storage.report_events import ReportEventRepository
from services.storage.repository import StatusRepository
from services.storage.rollups import RollupRepository
from services.storage.webhooks import CampaignConfigRepository

# Far more alerts than a campaign opens in a week: one open alert per cause at a time.
MAX_ALERTS = 10_000
_PAGE = 500


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
            posts=sources.rollups.posts(campaign_id, week.start(), week.end()),
            alerts=alerts,
            currency=currency or (config.currency if config else None),
            target_cac=float(config.target_cac) if config and config.target_cac else None,
            time_zone=config.time_zone if config else None,
            status=campaign.status if campaign is not None else None,
            budget_moves=_budget_moves(sources, campaign_id),
        )
    )


def _budget_moves(sources: ReviewSources, campaign_id: str) -> BudgetMovesSection:
    """The moves recommended now (they look at the last seven days, whichever week is
    reviewed)."""
    recommendation = campaign_recommendation(sources.statuses, sources.configs, campaign_id)
    if recommendation is None:
        return BudgetMovesSection(
            available=False, note="No current figures to recommend budget moves from."
        )
    note = "Recommended now, from the last seven days of spend and new customers."
    if not recommendation.moves and recommendation.reason:
        note = f"{note} No moves: {recommendation.reason}"
    return BudgetMovesSection(
        available=True,
        note=note,
        items=[move.model_dump(mode="json") for move in recommendation.moves],
    )


def portfolio_review(sources: ReviewSources, week: IsoWeek) -> PortfolioReport:
    """Every campaign with figures that week, worst first."""
    reports = (
        campaign_review(sources, campaign_id, week)
        for campaign_id in sources.rollups.campaign_ids(week.first_day, week.last_day)
    )
    return portfolio(week, (report for report in reports if report is not None))


def report_event(report: WeeklyReport, base_url: str) -> dict[str, Any]:
    """The ``report.weekly`` event: the one-page summary and where to fetch the whole review
    (each URL needs a key with ``campaigns:read``)."""
    path = f"{base_url.rstrip('/')}/v1/campaigns/{quote(report.campaign_id, safe='')}"
    query = f"reports/weekly?week={report.week}&format="
    return {
        "event": "report.weekly",
        "campaign_id": report.campaign_id,
        "week": report.week,
        "summary": report.summary.model_dump(mode="json"),
        "urls": {fmt: f"{path}/{query}{fmt}" for fmt in ("html", "pdf", "json")},
    }


def record_closed_weeks(
    sources: ReviewSources, outbox: ReportEventRepository, base_url: str, now: datetime
) -> int:
    """Record a ``report.weekly`` event for each campaign whose event time has moved past the
    end of a week with figures not recorded yet (the week before the one its data has reached);
    how many."""
    recorded, offset = 0, 0
    with_figures: dict[IsoWeek, set[str]] = {}
    while True:
        page, total = sources.statuses.list_campaigns(limit=_PAGE, offset=offset)
        for campaign in page:
            if campaign.as_of is None:
                continue
            week = IsoWeek.of(campaign.as_of.astimezone(UTC).date()).shifted(-1)
            if week not in with_figures:
                with_figures[week] = set(
                    sources.rollups.campaign_ids(week.first_day, week.last_day)
                )
            if campaign.campaign_id not in with_figures[week] or outbox.recorded(
                campaign.campaign_id, week.label
            ):
                continue
            report = campaign_review(sources, campaign.campaign_id, week)
            if report is not None and outbox.record(
                campaign.campaign_id, week.label, report_event(report, base_url), now
            ):
                recorded += 1
        offset += _PAGE
        if offset >= total:
            return recorded
