"""The weekly review as the API, the CLI and the webhooks hand it out (``weekly.py`` builds it).

Ratios are ``null`` where their denominator is zero: a week without spend has no CAC, not a CAC
of zero. Money is in the campaign's currency.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.domain.views import Reason, StatusName


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class WeekFigures(_Model):
    """A week's figures, added up from the daily rollups of its seven UTC days."""

    week: str
    first_day: date
    last_day: date
    views: int
    engagements: int
    clicks: int
    conversions: int
    new_customers: int
    spend: float
    revenue: float
    cac: float | None
    roas: float | None
    engagement_rate_by_views: float | None


class Change(_Model):
    """This week against last week; ``relative`` is null when last week's figure is null or 0."""

    metric: str
    this_week: float | None
    last_week: float | None
    relative: float | None


class Summary(_Model):
    headline: str
    target_cac: float | None
    status: StatusName | None
    decision: str
    this_week: WeekFigures
    last_week: WeekFigures
    changes: list[Change]


class FunnelStep(_Model):
    step: Literal["views", "engagements", "clicks", "conversions"]
    count: int
    rate_from_previous: float | None


class CreatorWeek(_Model):
    """A creator's week, ranked by value: revenue less spend, then new customers."""

    creator_id: str
    tier: str | None
    platform: str | None
    status: StatusName | None
    spend: float
    new_customers: int
    revenue: float
    value: float
    cac: float | None
    roas: float | None
    engagement_rate_by_views: float | None


class PostNote(_Model):
    """A post published in the week, with its figures to date (its latest snapshot)."""

    creator_id: str
    post_id: str
    posted_at: datetime
    views: int
    engagements: int
    clicks: int
    engagement_rate_by_views: float | None


class Posts(_Model):
    """The week's posts with the highest and the lowest engagement rate by views."""

    published: int
    best: list[PostNote]
    worst: list[PostNote]


class WatchedCreator(_Model):
    creator_id: str
    status: StatusName
    reasons: list[Reason]


class AlertLine(_Model):
    alert_id: str
    cause: str
    severity: str
    state: str
    summary: str
    creator_id: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    hours_to_acknowledge: float | None


class AlertsOfWeek(_Model):
    """Alerts opened, acknowledged or resolved during the week (wall-clock UTC times)."""

    opened: int
    acknowledged: int
    resolved: int
    median_hours_to_acknowledge: float | None
    items: list[AlertLine]


class SuspiciousEngagement(_Model):
    creator_id: str
    kind: str
    post_id: str | None
    since: datetime | None
    evidence: dict[str, Any]


class FlagsSection(_Model):
    """The suspicious-engagement flags found by the end of the week."""

    available: bool
    note: str
    items: list[SuspiciousEngagement] = []


class BudgetMovesSection(_Model):
    """The budget moves recommended when the review was made (docs/budget-moves.md)."""

    available: bool
    note: str
    items: list[dict[str, Any]] = []


class PartnershipCandidate(_Model):
    creator_id: str
    tier: str | None
    weekly_new_customers: list[int]
    weekly_roas: list[float | None]
    four_week_cac: float | None


class WeekPoint(_Model):
    week: str
    cac: float | None
    engagement_rate_by_views: float | None
    spend: float
    new_customers: int


class WeeklyReport(_Model):
    campaign_id: str
    week: str
    currency: str | None
    time_zone: str | None
    day_boundaries: str = Field(description="How the week's days are cut.")
    summary: Summary
    funnel: list[FunnelStep]
    creators: list[CreatorWeek]
    posts: Posts
    decay_watch: list[WatchedCreator]
    alerts: AlertsOfWeek
    suspicious_engagement: FlagsSection
    budget_moves: BudgetMovesSection
    partnership_candidates: list[PartnershipCandidate]
    history: list[WeekPoint] = Field(description="The last five weeks, oldest first.")


class PortfolioLine(_Model):
    campaign_id: str
    status: StatusName | None
    headline: str
    decision: str
    this_week: WeekFigures
    last_week: WeekFigures
    target_cac: float | None


class PortfolioReport(_Model):
    """Every campaign with figures that week, worst first."""

    week: str
    campaigns: list[PortfolioLine]
