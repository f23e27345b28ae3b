"""Ground truth of how each creator's new customers respond to weekly spend, and a campaign's
following week re-planned under another split of its spend.

A creator's curve is ``n(s) = A · (1 - exp(-s / B))`` and passes through what its plan makes at
its planned spend: ``n(s0) = m0``, where ``s0`` is its fees (and boosts) over a week of posts at
its cadence and ``m0`` the new customers those posts are expected to bring (views * click-through
* orders per click * the campaign's new-customer share). Its headroom ``h = B / s0`` says how much
more spend its audience can absorb: small audiences saturate sooner (nano creators run out of
people who have not seen the offer yet), large ones and TikTok's wider reach later. So creators
differ in their return per unit of spend (fees, click-through and conversion differ) and in how
fast that return falls, by tier and platform.

Drawn from its own seeded stream (``"{seed}:{creator}:response"``), so the event stream of the
simulation is unchanged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace

from services.simulator.plans import DAY, CampaignPlan, CreatorPlan
from services.simulator.profiles import BOOSTED_POST_SHARE, Platform

# Headroom ranges by tier, and a multiplier by platform (TikTok's feed reaches beyond followers).
HEADROOM: dict[str, tuple[float, float]] = {
    "nano": (0.6, 1.2),
    "micro": (0.8, 1.6),
    "mid": (1.0, 2.0),
    "macro": (1.2, 2.4),
    "mega": (1.4, 2.8),
}
PLATFORM_HEADROOM: dict[Platform, float] = {"instagram": 1.0, "tiktok": 1.25, "youtube": 0.9}
# Means of the per-post draws in ``services.simulator.model``: a post's views (lognormal 0.45),
# a boosted post's extra views (1.3x in one post of BOOSTED_POST_SHARE) and fee (+20-60%), and
# the click noise (lognormal 0.1).
_VIEWS_MEAN = math.exp(0.45**2 / 2) * (1 + 0.3 * BOOSTED_POST_SHARE)
_CLICKS_MEAN = math.exp(0.1**2 / 2)
_BOOST_MEAN = 1 + 0.4 * BOOSTED_POST_SHARE
WEEK = 7 * DAY


@dataclass(frozen=True)
class CreatorResponse:
    creator_id: str
    tier: str
    platform: Platform
    followers: int
    planned_spend: float
    planned_customers: float
    headroom: float

    def customers(self, spend: float) -> float:
        """Expected new customers in a week at ``spend``."""
        if spend <= 0:
            return 0.0
        scale = self.headroom * self.planned_spend
        ceiling = self.planned_customers / -math.expm1(-1.0 / self.headroom)
        return ceiling * -math.expm1(-spend / scale)


def _posts_a_week(creator: CreatorPlan) -> float:
    return WEEK / creator.cadence


def _planned_spend(creator: CreatorPlan) -> float:
    return creator.fee * _posts_a_week(creator) * _BOOST_MEAN


def _planned_customers(plan: CampaignPlan, creator: CreatorPlan) -> float:
    clicks = creator.views_per_post * _VIEWS_MEAN * creator.click_through * _CLICKS_MEAN
    return _posts_a_week(creator) * clicks * creator.orders_per_click * plan.new_customer_share


def responses(
    plan: CampaignPlan, common_headroom: float | None = None
) -> dict[str, CreatorResponse]:
    """Every creator's true response, by creator id; ``common_headroom`` gives every creator the
    same (for a campaign of alike creators)."""
    found = {}
    for creator in plan.creators:
        rng = random.Random(f"{plan.seed}:{creator.creator_id}:response")
        headroom = rng.uniform(*HEADROOM[creator.tier]) * PLATFORM_HEADROOM[creator.platform]
        if common_headroom is not None:
            headroom = common_headroom
        found[creator.creator_id] = CreatorResponse(
            creator_id=creator.creator_id,
            tier=creator.tier,
            platform=creator.platform,
            followers=creator.followers,
            planned_spend=_planned_spend(creator),
            planned_customers=_planned_customers(plan, creator),
            headroom=headroom,
        )
    return found


def alike(plan: CampaignPlan) -> tuple[CampaignPlan, float]:
    """The campaign with creators that are truly alike, and their one headroom: each creator's
    orders per click set so that its new customers per unit of spend are the campaign's."""
    total_spend = sum(_planned_spend(c) for c in plan.creators)
    total_customers = sum(_planned_customers(plan, c) for c in plan.creators)
    rate = total_customers / total_spend
    creators = tuple(
        replace(
            c,
            orders_per_click=c.orders_per_click
            * rate
            * _planned_spend(c)
            / _planned_customers(plan, c),
        )
        for c in plan.creators
    )
    headroom = random.Random(f"{plan.seed}:{plan.campaign_id}:alike").uniform(1.0, 2.0)
    return replace(plan, campaign_id=f"{plan.campaign_id}-alike", creators=creators), headroom


def following_week(
    truth: Mapping[str, CreatorResponse], spend: Mapping[str, float]
) -> dict[str, float]:
    """The campaign's following week re-planned at ``spend`` per creator: each creator's
    expected new customers."""
    return {
        creator_id: truth[creator_id].customers(spend.get(creator_id, 0.0)) for creator_id in truth
    }
