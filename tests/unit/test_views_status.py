"""Views (totals, efficiency, event-time windows) and the status assessed from history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from services.domain.state import CampaignState, CreatorState, Outcome
from services.domain.status import StatusRules, assess
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
WEEK = 7 * 24

T = TypeVar("T")


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
    assert week.end - week.start == (day.end - day.start) * 7
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


def history(
    engagement_rate: Callable[[int], float],
    customer_every: Callable[[int], int] | None = None,
    views_per_hour: int = 1_000,
    hours: int = WEEK,
) -> tuple[CampaignState, list[CreatorState]]:
    """Two creators with a post each, snapshotted hourly, in time order; optionally spend and
    a new customer every ``customer_every(hour)`` hours."""
    events: list[Event] = []
    for creator in ("a", "b"):
        likes = 0
        for hour in range(hours):
            likes += round(engagement_rate(hour) * views_per_hour)
            events.append(
                snapshot(
                    creator_id=creator,
                    post_id=f"{creator}-post",
                    observed_at=T0 + hour * HOUR + 1_800,
                    views=(hour + 1) * views_per_hour,
                    likes=likes,
                )
            )
    if customer_every is not None:
        for hour in range(hours):
            at = T0 + hour * HOUR + 600
            events.append(spend(f"s{hour}", creator_id="a", occurred_at=at, amount="10"))
            if hour % customer_every(hour) == 0:
                events.append(conversion(f"c{hour}", creator_id="a", occurred_at=at))
    return applied(sorted(events, key=lambda e: e.event_time), creators=("a", "b"))


def on_the_last_day(before: T, after: T) -> Callable[[int], T]:
    return lambda hour: after if hour >= WEEK - 24 else before


def test_no_events_is_insufficient_data() -> None:
    assert assess([], None) == ("insufficient_data", [])


def test_too_few_views_is_insufficient_data() -> None:
    campaign, creators = history(on_the_last_day(0.05, 0.01), views_per_hour=5)
    assert assess(creators, campaign.watermark) == ("insufficient_data", [])


def test_without_a_baseline_it_is_insufficient_data() -> None:
    campaign, creators = history(lambda _: 0.05, hours=24)
    assert assess(creators, campaign.watermark) == ("insufficient_data", [])


def test_thresholds_are_configurable() -> None:
    campaign, creators = history(lambda _: 0.05)
    rules = StatusRules(min_views=10**9)
    assert assess(creators, campaign.watermark, rules) == ("insufficient_data", [])


def test_a_steady_campaign_is_healthy() -> None:
    campaign, creators = history(lambda _: 0.05, customer_every=lambda _: 4)
    assert assess(creators, campaign.watermark) == ("healthy", [])


def test_rising_engagement_is_healthy() -> None:
    campaign, creators = history(on_the_last_day(0.05, 0.08))
    assert assess(creators, campaign.watermark) == ("healthy", [])


def test_an_engagement_rate_drop_of_a_half_is_decaying() -> None:
    campaign, creators = history(on_the_last_day(0.05, 0.025))
    status, reasons = assess(creators, campaign.watermark)
    assert status == "decaying"
    (reason,) = reasons
    assert (reason.kind, reason.metric, reason.window) == (
        "engagement_rate_drop",
        "engagement_rate_by_views",
        "24h",
    )
    assert reason.baseline == pytest.approx(0.05)
    assert reason.current == pytest.approx(0.025)
    assert reason.relative_change == pytest.approx(-0.5)


def test_an_engagement_rate_drop_of_a_quarter_is_watch() -> None:
    campaign, creators = history(on_the_last_day(0.05, 0.0375))
    status, reasons = assess(creators, campaign.watermark)
    assert status == "watch"
    assert [r.kind for r in reasons] == ["engagement_rate_drop"]


def test_a_drop_before_the_last_day_is_part_of_the_baseline() -> None:
    campaign, creators = history(lambda hour: 0.025 if WEEK - 48 <= hour < WEEK - 24 else 0.05)
    status, _ = assess(creators, campaign.watermark)
    assert status == "healthy"


def test_a_cac_that_triples_is_decaying() -> None:
    campaign, creators = history(lambda _: 0.05, customer_every=on_the_last_day(2, 6))
    status, reasons = assess(creators, campaign.watermark)
    assert status == "decaying"
    (reason,) = reasons
    assert (reason.kind, reason.metric) == ("cac_rise", "cac")
    assert reason.baseline == pytest.approx(20.0)
    assert reason.current == pytest.approx(60.0)
    assert reason.relative_change == pytest.approx(2.0)


def test_every_reason_is_reported_with_the_worst_status() -> None:
    campaign, creators = history(
        on_the_last_day(0.05, 0.0375), customer_every=on_the_last_day(2, 6)
    )
    status, reasons = assess(creators, campaign.watermark)
    assert status == "decaying"
    assert [r.kind for r in reasons] == ["engagement_rate_drop", "cac_rise"]
