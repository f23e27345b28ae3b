"""Campaign views with zero figures, for tests of what reads a view's status, reasons and rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from services.domain.views import (
    CampaignView,
    Contributor,
    Efficiency,
    Reason,
    StatusName,
    Totals,
    WindowFigures,
)


def campaign_view(
    campaign_id: str,
    status: StatusName,
    *,
    as_of: datetime | None,
    updated_at: datetime,
    reasons: Sequence[Reason] = (),
    contributors: Sequence[Contributor] = (),
    windows: Mapping[str, WindowFigures] | None = None,
) -> CampaignView:
    totals = Totals(
        views=0,
        likes=0,
        comments=0,
        shares=0,
        saves=0,
        engagements=0,
        engagement_rate_by_views=None,
        spend=0.0,
        conversions=0,
        new_customers=0,
        revenue=0.0,
        cac=None,
        roas=None,
    )
    efficiency = Efficiency(
        clicks=0, engagement_rate_by_followers=None, cpe=None, cpm=None, click_through_rate=None
    )
    return CampaignView(
        campaign_id=campaign_id,
        currency="USD",
        status=status,
        reasons=list(reasons),
        contributors=list(contributors),
        creators=1,
        posts=1,
        totals=totals,
        efficiency=efficiency,
        windows=dict(windows or {}),
        trend=[],
        as_of=as_of,
        updated_at=updated_at,
    )
