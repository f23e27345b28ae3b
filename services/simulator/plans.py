"""Campaign plans: each campaign's scenario, creators and labelled behaviour, and the ground truth
the evaluation scores against. Pure and seeded (see ``services.simulator.model``)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypedDict, get_args

from services.simulator.draws import lognormal, money, pick, rfc3339, whole_seconds
from services.simulator.fraud import FraudPlan
from services.simulator.profiles import CURRENCIES, PLATFORMS, TIERS, Platform

Scenario = Literal[
    "healthy",
    "micro_healthy",
    "engagement_fatigue",
    "sudden_drop",
    "cac_creep",
    "recovering",
    "creator_collapse",
    "cost_escalation",
]

SCENARIOS: tuple[Scenario, ...] = get_args(Scenario)
HEALTHY_SCENARIOS: tuple[Scenario, ...] = SCENARIOS[:2]
DECAYING_SCENARIOS: tuple[Scenario, ...] = SCENARIOS[2:]
HEALTHY_SHARE = 0.6
# One healthy campaign in four is a noisy micro-creator campaign: a few nano and micro creators,
# few views, so every hour is sparse and a single post moves the campaign's rates.
MICRO_EVERY = 4
MICRO_TIERS = ("nano", "micro")
# One creator of a large campaign collapses: its engagement per view halves over half a day to
# three days. It is one of the roster's larger half (by engagements a post): a creator with a few
# dozen engagements a post has too little data for a status of its own (insufficient_data).
COLLAPSE_MIN_CREATORS = 15
COLLAPSE_DROP = 0.5
COLLAPSE_DAYS = (0.5, 3.0)

# Fees and boosts escalate: each creator's cost per post grows by the campaign's growth per day
# times its susceptibility, so the campaign's rises 25% in about one to one and a half days and
# doubles in three to five, capped where a real campaign would have stopped paying.
COST_GROWTH_PER_DAY = (0.15, 0.3)
COST_FACTOR_CAP = 4.0
# The rise of the cost per post from which a CAC reason is due (the detector's minimum CAC rise).
COST_RISE_LABELLED = 0.25

DAY = timedelta(days=1)
FACTOR_FLOOR = 0.3
# Every delivery, re-sends included, lands inside the monitor's default 72 h allowed lateness.
MAX_DELAY = timedelta(hours=71)


@dataclass(frozen=True)
class CreatorPlan:
    creator_id: str
    platform: Platform
    tier: str
    followers: int
    follower_growth_per_day: float
    er_by_views: float
    views_per_post: float
    click_through: float
    orders_per_click: float
    fee: float
    product_value: float
    cadence: timedelta
    snapshot_every: timedelta
    susceptibility: float


@dataclass(frozen=True)
class CampaignPlan:
    """One campaign and its labelled behaviour.

    ``onset`` is when the decline starts; for ``recovering`` the decline stops at ``turn`` and the
    rate is back at its baseline at ``recovers_at``; for ``creator_collapse`` only the creator
    ``collapsing`` declines, by half at ``decline_per_day``.
    """

    seed: int
    campaign_id: str
    scenario: Scenario
    currency: str
    start: datetime
    end: datetime
    onset: datetime | None
    turn: datetime | None
    recovers_at: datetime | None
    decline_per_day: float
    drop: float
    order_value: float
    new_customer_share: float
    promo_code_share: float
    creators: tuple[CreatorPlan, ...]
    collapsing: str | None = None
    cost_growth_per_day: float = 0.0
    # Creators with labelled suspicious behaviour (services.simulator.fraud).
    frauds: tuple[FraudPlan, ...] = ()

    def fraud_of(self, creator_id: str) -> FraudPlan | None:
        return next((f for f in self.frauds if f.creator_id == creator_id), None)

    def _declined(self, creator: CreatorPlan, onset: datetime, at: datetime) -> float:
        rate = min(0.5, self.decline_per_day * creator.susceptibility)
        return max(FACTOR_FLOOR, math.pow(1.0 - rate, (at - onset) / DAY))

    def engagement_factor(self, creator: CreatorPlan, at: datetime) -> float:
        """Engagement per view at ``at`` relative to the creator's baseline."""
        if self.onset is None or at <= self.onset:
            return 1.0
        if self.scenario == "engagement_fatigue":
            return self._declined(creator, self.onset, at)
        if self.scenario == "sudden_drop":
            return 1.0 - min(0.8, self.drop * creator.susceptibility)
        if self.scenario == "recovering" and self.turn is not None and self.recovers_at is not None:
            if at >= self.recovers_at:
                return 1.0
            low = self._declined(creator, self.onset, min(at, self.turn))
            if at <= self.turn:
                return low
            return low + (1.0 - low) * ((at - self.turn) / (self.recovers_at - self.turn))
        if self.scenario == "creator_collapse" and creator.creator_id == self.collapsing:
            return max(1.0 - COLLAPSE_DROP, 1.0 - self.decline_per_day * ((at - self.onset) / DAY))
        return 1.0

    def cost_factor(self, creator: CreatorPlan, at: datetime) -> float:
        """Cost per post (fee and boost) at ``at`` relative to the creator's baseline."""
        if self.scenario != "cost_escalation" or self.onset is None or at <= self.onset:
            return 1.0
        growth = 1.0 + self.cost_growth_per_day * creator.susceptibility
        return min(COST_FACTOR_CAP, math.pow(growth, (at - self.onset) / DAY))

    def cost_risen_at(self, rise: float) -> datetime | None:
        """When the cost per post, averaged over the creators, first rose by ``rise`` (to the
        hour after onset); None if it never does."""
        if self.onset is None:
            return None
        at = self.onset
        while at < self.end:
            if sum(self.cost_factor(c, at) for c in self.creators) >= len(self.creators) * (
                1.0 + rise
            ):
                return at
            at += timedelta(hours=1)
        return None

    def conversion_factor(self, creator: CreatorPlan, at: datetime) -> float:
        """Orders per click at ``at`` relative to the creator's baseline."""
        if self.scenario == "cac_creep" and self.onset is not None and at > self.onset:
            return self._declined(creator, self.onset, at)
        return 1.0


class CampaignTruth(TypedDict):
    campaign_id: str
    scenario: Scenario
    decays: bool
    onset: str | None
    recovers_at: str | None
    creators: int
    currency: str
    # The creator whose collapse is labelled (creator_collapse), else None.
    collapsing_creator: str | None
    # When the cost per post, averaged over the creators, had risen COST_RISE_LABELLED
    # (cost_escalation), else None: a CAC reason is due within 48 h of it.
    cost_risen_at: str | None


def _creator(
    rng: random.Random, creator_id: str, currency_rate: float, tiers: Sequence[str] = tuple(TIERS)
) -> CreatorPlan:
    tier = pick(rng, {name: TIERS[name].weight for name in tiers})
    profile = TIERS[tier]
    platform = pick(rng, {name: p.weight for name, p in PLATFORMS.items()})
    venue = PLATFORMS[platform]
    low, high = profile.followers
    followers = int(math.exp(rng.uniform(math.log(low), math.log(high - 1))))
    views_per_post = followers * profile.views_per_follower * venue.reach * lognormal(rng, 0.35)
    fee_usd = max(25.0, views_per_post / 1000 * rng.uniform(*profile.fee_cpm_usd))
    gets_product = rng.random() < profile.product_share
    return CreatorPlan(
        creator_id=creator_id,
        platform=platform,
        tier=tier,
        followers=followers,
        follower_growth_per_day=rng.uniform(0.0005, 0.003),
        er_by_views=profile.er_by_views * venue.engagement * lognormal(rng, 0.2),
        views_per_post=views_per_post,
        click_through=rng.uniform(*venue.click_through),
        orders_per_click=rng.uniform(0.02, 0.05) * lognormal(rng, 0.25),
        fee=round(fee_usd * currency_rate / 5) * 5.0,
        product_value=money(rng.uniform(30, 150) * currency_rate) if gets_product else 0.0,
        cadence=timedelta(hours=rng.uniform(24, 72)),
        snapshot_every=timedelta(hours=rng.choice((3, 4, 4, 6))),
        susceptibility=rng.uniform(0.6, 1.4),
    )


def _scenarios(rng: random.Random, count: int) -> list[Scenario]:
    healthy = round(HEALTHY_SHARE * count)
    chosen: list[Scenario] = [
        "micro_healthy" if i % MICRO_EVERY == MICRO_EVERY - 1 else "healthy" for i in range(healthy)
    ]
    chosen += [DECAYING_SCENARIOS[i % len(DECAYING_SCENARIOS)] for i in range(count - healthy)]
    rng.shuffle(chosen)
    return chosen


def generate_campaigns(
    seed: int, count: int, start: datetime, history: timedelta
) -> list[CampaignPlan]:
    """``count`` campaigns starting in the first hours after ``start``.

    Onsets fall 40-65% of the way through ``history`` (at least two days in, so each campaign has
    a baseline), so a caller that replays ``history`` up to now sees every change happen. Campaigns
    keep posting for one to three weeks after the history ends.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = random.Random(f"{seed}:campaigns")
    plans = []
    for index, scenario in enumerate(_scenarios(rng, count)):
        campaign_id = f"sim{seed}-c{index:03d}"
        crng = random.Random(f"{seed}:{campaign_id}")
        currency = pick(crng, {code: share for code, (share, _) in CURRENCIES.items()})
        rate = CURRENCIES[currency][1]
        begin = whole_seconds(start) + timedelta(seconds=crng.randint(1, 6 * 3600))
        if scenario == "micro_healthy":
            creators = tuple(
                _creator(crng, f"{campaign_id}-cr{j:02d}", rate, MICRO_TIERS)
                for j in range(crng.randint(2, 8))
            )
        else:
            smallest = COLLAPSE_MIN_CREATORS if scenario == "creator_collapse" else 3
            creators = tuple(
                _creator(crng, f"{campaign_id}-cr{j:02d}", rate)
                for j in range(crng.randint(smallest, 25))
            )
        onset = turn = recovers_at = None
        if scenario not in HEALTHY_SCENARIOS:
            lead = max(2 * DAY, history * crng.uniform(0.4, 0.65))
            onset = whole_seconds(begin + lead)
        if scenario == "recovering" and onset is not None:
            turn = whole_seconds(onset + timedelta(days=crng.uniform(1.5, 3.0)))
            recovers_at = whole_seconds(turn + timedelta(days=crng.uniform(1.0, 2.0)))
        # Relative decline per day: fatigue loses a third of its engagement in three to five days,
        # CAC creep roughly doubles CAC in four to six.
        decline = {
            "engagement_fatigue": (0.08, 0.14),
            "recovering": (0.08, 0.12),
            "cac_creep": (0.12, 0.18),
        }.get(scenario, (0.0, 0.0))
        collapsing = _collapsing(crng, creators) if scenario == "creator_collapse" else None
        plans.append(
            CampaignPlan(
                seed=seed,
                campaign_id=campaign_id,
                scenario=scenario,
                currency=currency,
                start=begin,
                end=whole_seconds(begin + history + timedelta(days=crng.uniform(7, 21))),
                onset=onset,
                turn=turn,
                recovers_at=recovers_at,
                decline_per_day=(
                    crng.uniform(*decline)
                    if collapsing is None
                    else COLLAPSE_DROP / crng.uniform(*COLLAPSE_DAYS)
                ),
                drop=crng.uniform(0.4, 0.6) if scenario == "sudden_drop" else 0.0,
                order_value=crng.uniform(35, 120) * rate,
                new_customer_share=crng.uniform(0.6, 0.8),
                promo_code_share=crng.uniform(0.3, 0.5),
                creators=creators,
                collapsing=collapsing,
                cost_growth_per_day=(
                    crng.uniform(*COST_GROWTH_PER_DAY) if scenario == "cost_escalation" else 0.0
                ),
            )
        )
    return plans


def _collapsing(rng: random.Random, creators: Sequence[CreatorPlan]) -> str:
    """The creator that collapses: one of the larger half of the roster by engagements a post."""
    ranked = sorted(creators, key=lambda c: c.views_per_post * c.er_by_views, reverse=True)
    return rng.choice(ranked[: max(1, len(ranked) // 2)]).creator_id


def ground_truth(campaigns: Sequence[CampaignPlan]) -> list[CampaignTruth]:
    """The labels a detector is scored against, one entry per campaign."""
    return [
        CampaignTruth(
            campaign_id=c.campaign_id,
            scenario=c.scenario,
            decays=c.scenario not in HEALTHY_SCENARIOS,
            onset=rfc3339(c.onset) if c.onset else None,
            recovers_at=rfc3339(c.recovers_at) if c.recovers_at else None,
            creators=len(c.creators),
            currency=c.currency,
            collapsing_creator=c.collapsing,
            cost_risen_at=(
                rfc3339(risen) if (risen := c.cost_risen_at(COST_RISE_LABELLED)) else None
            ),
        )
        for c in campaigns
    ]
