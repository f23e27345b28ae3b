"""Hand-written scenarios shaped like real fraud and its honest look-alikes, none of them tuned on:
the simulator's campaigns (seed 7, neither a tuning nor a scoring seed) replayed through the
monitor's domain code with one creator behaving as described; and the boundary with decay
detection on a purge."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.evaluation.flags import CreatorOutcome, PurgeOutcome, replay_plans
from services.evaluation.harness import START
from services.simulator.fraud import FraudPlan
from services.simulator.fraud_plans import with_frauds
from services.simulator.model import post_times
from services.simulator.plans import CampaignPlan, CreatorPlan, generate_campaigns

HORIZON_DAYS = 8


def _campaign(creators: int) -> tuple[CampaignPlan, CreatorPlan]:
    """A healthy campaign of ``creators`` creators and its creator with the most views."""
    plans = generate_campaigns(7, 12, START, timedelta(days=HORIZON_DAYS))
    healthy = next(p for p in plans if p.scenario == "healthy" and len(p.creators) >= creators)
    roster = tuple(sorted(healthy.creators, key=lambda c: c.views_per_post)[-creators:])
    return replace(healthy, creators=roster), roster[-1]


def _replay(
    campaign: CampaignPlan, fraud: FraudPlan
) -> tuple[dict[str, CreatorOutcome], list[PurgeOutcome]]:
    outcomes, purges = replay_plans([replace(campaign, frauds=(fraud,))], HORIZON_DAYS)
    return {o.creator_id: o for o in outcomes}, purges


def test_likes_bought_in_several_smaller_batches_are_a_burst() -> None:
    campaign, creator = _campaign(4)
    posted_at = post_times(campaign, creator)[1]
    fraud = FraudPlan(
        creator.creator_id,
        "bought_likes",
        posted_at + timedelta(hours=20),
        post_index=1,
        size=0.2,
        batches=4,
        spacing=timedelta(hours=9),
    )

    outcomes, _ = _replay(campaign, fraud)

    assert "engagement_burst" in outcomes[creator.creator_id].flagged
    assert not any(o.flagged for o in outcomes.values() if o.creator_id != creator.creator_id)


def test_a_viral_post_bringing_followers_with_its_views_is_not_flagged() -> None:
    campaign, creator = _campaign(4)
    index = 2
    posted_at = post_times(campaign, creator)[index]
    views = creator.views_per_post * 12
    fraud = FraudPlan(
        creator.creator_id,
        "viral_post",
        posted_at,
        post_index=index,
        size=12.0,
        amount=round(0.006 * views),
    )

    outcomes, _ = _replay(campaign, fraud)

    assert outcomes[creator.creator_id].flagged == []


def test_a_purge_is_flagged_and_alone_never_makes_the_campaign_decaying() -> None:
    # The labelled campaign of tuning seed 1 whose purge the detector, on the raw counts, reads
    # as the campaign decaying; here only its purge is kept.
    plans = with_frauds(generate_campaigns(1, 30, START, timedelta(days=10)), 1)
    campaign = next(p for p in plans if p.campaign_id == "sim1-c020")
    fraud = next(f for f in campaign.frauds if f.behaviour == "purge")
    days = (fraud.start - START) / timedelta(days=1) + 3

    outcomes, (purge,) = replay_plans([replace(campaign, frauds=(fraud,))], days)

    assert [o.flagged for o in outcomes if o.creator_id == fraud.creator_id] == [["purge"]]
    # Entries into decaying after the purge, [campaign, purged creator]: none with the flagged
    # counts left out, where the raw counts make the campaign decaying.
    assert purge.decaying == [0, 0]
    assert purge.decaying_raw == [1, 0]
