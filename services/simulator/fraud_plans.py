"""Labelled suspicious behaviour added to generated campaigns: in every healthy campaign one or
two creators take up a behaviour, in turn bought likes, bought followers, an engagement pod and
fake likes later purged; every other creator is honest. Pure and seeded."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from services.simulator.fraud import FRAUDULENT, Behaviour, FraudPlan
from services.simulator.model import post_times
from services.simulator.plans import HEALTHY_SCENARIOS, CampaignPlan, CreatorPlan
from services.simulator.profiles import PLATFORMS

POD_TIERS = ("nano", "micro")
# A purge is visible only on posts with likes to lose: creators with at least this many organic
# likes a post.
PURGE_MIN_LIKES = 60.0


def _likes_per_post(creator: CreatorPlan) -> float:
    return creator.views_per_post * creator.er_by_views * PLATFORMS[creator.platform].mix[0]


def _eligible(campaign: CampaignPlan, creator: CreatorPlan, behaviour: Behaviour) -> bool:
    if behaviour == "engagement_pod":
        return creator.tier in POD_TIERS
    if behaviour == "purge":
        return _likes_per_post(creator) >= PURGE_MIN_LIKES
    if behaviour == "bought_likes":
        return len(post_times(campaign, creator)) >= 3
    return True


def fraud_plan(
    rng: random.Random, campaign: CampaignPlan, creator: CreatorPlan, behaviour: Behaviour
) -> FraudPlan:
    """``behaviour`` for ``creator``, sized as ``services.simulator.fraud`` describes."""
    begin = campaign.start
    if behaviour == "bought_likes":
        post_index = rng.randint(1, 2)
        posted_at = post_times(campaign, creator)[post_index]
        return FraudPlan(
            creator.creator_id,
            behaviour,
            posted_at + timedelta(hours=rng.uniform(8, 30)),
            post_index=post_index,
            size=rng.uniform(0.15, 1.5),
        )
    if behaviour == "bought_followers":
        return FraudPlan(
            creator.creator_id,
            behaviour,
            begin + timedelta(days=rng.uniform(2, 6)),
            amount=max(600, round(rng.uniform(0.05, 0.3) * creator.followers)),
            hours=rng.uniform(2, 20),
        )
    if behaviour == "engagement_pod":
        return FraudPlan(
            creator.creator_id,
            behaviour,
            begin + timedelta(days=rng.uniform(2, 4)),
            amount=round(rng.uniform(3, 8) * creator.views_per_post * creator.er_by_views),
            comment_share=rng.uniform(0.3, 0.5),
        )
    return FraudPlan(
        creator.creator_id,
        behaviour,
        begin + timedelta(days=rng.uniform(3, 6)),
        size=rng.uniform(0.4, 0.8),
    )


def with_frauds(plans: Sequence[CampaignPlan], seed: int) -> list[CampaignPlan]:
    """``plans`` with one or two creators of every healthy campaign behaving suspiciously, the
    behaviours taken in turn so each is about equally common."""
    rng = random.Random(f"{seed}:frauds")
    turn = 0
    changed = []
    for campaign in plans:
        if campaign.scenario not in HEALTHY_SCENARIOS:
            changed.append(campaign)
            continue
        frauds: list[FraudPlan] = []
        taken: set[str] = set()
        for _ in range(rng.randint(1, 2)):
            behaviour = FRAUDULENT[turn % len(FRAUDULENT)]
            candidates = [
                c
                for c in campaign.creators
                if c.creator_id not in taken and _eligible(campaign, c, behaviour)
            ]
            if not candidates:
                continue
            creator = rng.choice(candidates)
            taken.add(creator.creator_id)
            frauds.append(fraud_plan(rng, campaign, creator, behaviour))
            turn += 1
        changed.append(replace(campaign, frauds=tuple(frauds)))
    return changed
