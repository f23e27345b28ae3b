"""Views: totals, efficiency and event-time windows (statuses are tested in test_detection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from services.domain.state import CampaignState, CreatorState, Outcome
from services.domain.views import CampaignView, CreatorView, Totals, campaign_view, creator_view
from services.domain.windows import DAY, HOUR
from tests.unit.strategies import (
    CAMPAIGN,
    T0,
    Event,
    apply,
    conversion,
    new_state,
    snapshot,
    spend,
)

TOTALS = {
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "engagements",
    "engagement_rate_by_views",
    "spend",
    "conversions",
    "new_customers",
    "revenue",
    "cac",
    "roas",
}
UPDATED = datetime(2025, 4, 1, tzinfo=UTC)


def applied(
    events: Sequence[Event], creators: Sequence[str] = ("creator-1",)
) -> tuple[CampaignState, list[CreatorState]]:
    campaign = CampaignState(CAMPAIGN)
    states = {c: CreatorState(CAMPAIGN, c) for c in creators}
    for event in events:
        assert apply(campaign, states[event.creator_id], event).outcome is Outcome.APPLIED
    return campaign, list(states.values())


def view_of(campaign: CampaignState, creators: Sequence[CreatorState]) -> CampaignView:
    return campaign_view(
        campaign.campaign_id,
        campaign.currency,
        creators,
        campaign.watermark,
        "healthy",
        [],
        UPDATED,
    )


def creator_view_of(campaign: CampaignState, creator: CreatorState) -> CreatorView:
    return creator_view(creator, campaign.watermark, "healthy", [], UPDATED)


def test_totals_have_exactly_the_documented_fields() -> None:
    campaign, creators = applied([snapshot(views=100, likes=3), spend("s")])
    assert set(Totals.model_fields) == TOTALS
    assert set(view_of(campaign, creators).totals.model_dump()) == TOTALS
    assert set(creator_view_of(campaign, creators[0]).totals.model_dump()) == TOTALS


def test_totals_add_up_every_creator() -> None:
    campaign, creators = applied(
        [
            snapshot(creator_id="a", views=1_000, likes=30, comments=5, shares=4, saves=1),
            snapshot(creator_id="b", views=3_000, likes=50, comments=10),
            spend("s1", creator_id="a", amount="40"),
            spend("s2", creator_id="b", amount="60"),
            conversion("c1", creator_id="a", revenue="150", new_customer=True),
            conversion("c2", creator_id="b", revenue="50", new_customer=False),
            conversion("c3", creator_id="b", revenue="100", new_customer=True),
        ],
        creators=("a", "b"),
    )
    view = view_of(campaign, creators)
    assert view.totals == Totals(
        views=4_000,
        likes=80,
        comments=15,
        shares=4,
        saves=1,
        engagements=100,
        engagement_rate_by_views=0.025,
        spend=100.0,
        conversions=3,
        new_customers=2,
        revenue=300.0,
        cac=50.0,
        roas=3.0,
    )
    assert (view.creators, view.posts, view.currency) == (2, 2, "USD")
    assert view.efficiency.cpe == 1.0
    assert view.efficiency.cpm == 25.0


def test_ratios_are_null_without_their_denominators() -> None:
    campaign, creator = new_state()
    totals = creator_view_of(campaign, creator).totals
    assert (totals.engagement_rate_by_views, totals.cac, totals.roas) == (None, None, None)

    campaign, creators = applied([snapshot(views=0), conversion("c", new_customer=False)])
    totals = view_of(campaign, creators).totals
    assert (totals.engagement_rate_by_views, totals.cac, totals.roas) == (None, None, None)
    efficiency = view_of(campaign, creators).efficiency
    assert (efficiency.cpe, efficiency.cpm, efficiency.click_through_rate) == (None, None, None)


def test_roas_is_zero_and_cac_null_when_money_was_spent_without_customers() -> None:
    campaign, creators = applied([spend("s", amount="25")])
    totals = view_of(campaign, creators).totals
    assert (totals.spend, totals.cac, totals.roas) == (25.0, None, 0.0)


def test_money_sums_are_exact() -> None:
    campaign, creators = applied([spend("a", amount="0.1"), spend("b", amount="0.2")])
    view = view_of(campaign, creators)
    assert view.totals.spend == 0.3
    assert view.windows["24h"].spend == 0.3
    assert view.windows["7d"].spend == 0.3


def test_windows_include_only_the_buckets_in_range() -> None:
    two_days_later = T0 + 2 * DAY + 1_800
    campaign, creators = applied(
        [
            snapshot(post_id="old", observed_at=T0, views=1_000, likes=10),
            spend("old", occurred_at=T0, amount="5"),
            snapshot(post_id="new", observed_at=two_days_later, views=500, likes=50),
            spend("new", occurred_at=two_days_later, amount="7"),
        ]
    )
    view = view_of(campaign, creators)
    assert set(view.windows) == {"24h", "7d"}
    day, week = view.windows["24h"], view.windows["7d"]
    assert (day.views, day.likes, day.spend) == (500, 50, 7.0)
    assert (week.views, week.likes, week.spend) == (1_500, 60, 12.0)
    assert day.end == datetime.fromtimestamp(T0 + 2 * DAY + HOUR, UTC)
    assert day.start == datetime.fromtimestamp(T0 + DAY + HOUR, UTC)
    # Beyond two days the buckets are six-hour blocks: the week starts at the first block inside it.
    assert week.end - week.start == timedelta(days=7, hours=-5)
    assert week.start.hour % 6 == 0
    assert view.as_of == datetime.fromtimestamp(two_days_later, UTC)
    assert view.totals.views == 1_500


def test_window_rate_by_followers_counts_posts_published_in_the_window() -> None:
    campaign, creators = applied(
        [
            snapshot(post_id="old", posted_at=T0 - 3 * DAY, followers=1_000, views=9, likes=100),
            snapshot(post_id="new", observed_at=T0, posted_at=T0, followers=1_000, likes=20),
        ]
    )
    view = view_of(campaign, creators)
    assert view.windows["24h"].engagement_rate_by_followers == 0.02
    assert view.windows["7d"].engagement_rate_by_followers == pytest.approx(0.06)
    assert view.efficiency.engagement_rate_by_followers == pytest.approx(0.06)


def test_a_post_without_followers_is_left_out_of_the_rate_by_followers() -> None:
    campaign, creators = applied(
        [
            snapshot(post_id="a", followers=0, likes=5),
            snapshot(post_id="b", followers=100, likes=5),
        ]
    )
    assert view_of(campaign, creators).efficiency.engagement_rate_by_followers == 0.05


def test_a_view_without_events_has_no_windows() -> None:
    campaign, creator = new_state()
    view = creator_view_of(campaign, creator)
    assert view.windows == {}
    assert view.as_of is None
    assert view.posts == 0
    assert view.updated_at == UPDATED


def test_a_creator_view_describes_the_creator() -> None:
    campaign, (creator,) = applied(
        [
            snapshot(post_id="a", followers=49_999, views=10),
            snapshot(post_id="b", observed_at=T0 + HOUR, followers=50_000, views=10),
        ]
    )
    view = creator_view_of(campaign, creator)
    assert (view.campaign_id, view.creator_id, view.platform) == (
        CAMPAIGN,
        "creator-1",
        "instagram",
    )
    assert (view.followers, view.tier, view.posts) == (50_000, "mid", 2)
    custom = creator_view(creator, campaign.watermark, "watch", [], UPDATED, (("all", 0),))
    assert (custom.tier, custom.status) == ("all", "watch")


def test_customers_without_spend_in_a_window_give_no_cac_rather_than_zero() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, spend("fee", occurred_at=T0, amount="300"))
    apply(campaign, creator, conversion("buy-1", occurred_at=T0 + 3 * DAY))
    apply(campaign, creator, conversion("buy-2", occurred_at=T0 + 3 * DAY + HOUR))
    updated = datetime.fromtimestamp(T0 + 3 * DAY + 2 * HOUR, UTC)
    view = creator_view(creator, campaign.watermark, "healthy", [], updated)

    assert view.windows["24h"].new_customers == 2 and view.windows["24h"].spend == 0
    assert view.windows["24h"].cac is None
    assert view.totals.cac == 150.0
    trend = campaign_view(
        CAMPAIGN, "USD", [creator], campaign.watermark, "healthy", [], updated
    ).trend
    unpaid = [point for point in trend if point.new_customers and not point.spend]
    assert unpaid and all(point.cac is None for point in unpaid)
    assert unpaid[-1].cac_to_date == 150.0
