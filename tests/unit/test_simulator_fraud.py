"""The simulator's labelled suspicious behaviour shows in the events it produces, and the flag
evaluation scores flags against the labels."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from services.evaluation.flags import CreatorOutcome, PurgeOutcome, score
from services.evaluation.harness import START
from services.simulator.fraud import FraudPlan
from services.simulator.fraud_plans import with_frauds
from services.simulator.model import EventPayload, post_deliveries, post_times
from services.simulator.plans import CampaignPlan, CreatorPlan, generate_campaigns


def _healthy() -> tuple[CampaignPlan, CreatorPlan]:
    plans = generate_campaigns(7, 12, START, timedelta(days=10))
    campaign = next(p for p in plans if p.scenario == "healthy")
    return campaign, max(campaign.creators, key=lambda c: c.views_per_post)


def _snapshots(campaign: CampaignPlan, creator: CreatorPlan, index: int) -> list[EventPayload]:
    posted_at = post_times(campaign, creator)[index]
    deliveries = post_deliveries(campaign, creator, index, posted_at)
    events = {d.event_id: d.event for d in deliveries if d.event["type"] == "post_metrics"}
    return [events[key] for key in sorted(events)]


def test_bought_likes_arrive_at_once_on_their_post() -> None:
    campaign, creator = _healthy()
    start = post_times(campaign, creator)[1] + timedelta(hours=12)
    fraud = FraudPlan(creator.creator_id, "bought_likes", start, post_index=1, size=1.0)
    bought = replace(campaign, frauds=(fraud,))

    honest = _snapshots(campaign, creator, 1)
    faked = _snapshots(bought, creator, 1)

    added = [int(f["likes"]) - int(h["likes"]) for h, f in zip(honest, faked, strict=True)]
    before = [
        a
        for h, a in zip(honest, added, strict=True)
        if datetime.fromisoformat(str(h["observed_at"])) < start
    ]
    assert set(before) == {0} and len(set(added[len(before) :])) == 1 and added[-1] > 0
    assert _snapshots(bought, creator, 0) == _snapshots(campaign, creator, 0)


def test_a_pod_engages_and_views_within_the_first_hour_of_every_later_post() -> None:
    campaign, creator = _healthy()
    fraud = FraudPlan(
        creator.creator_id, "engagement_pod", campaign.start, amount=500, comment_share=0.4
    )
    pod = replace(campaign, frauds=(fraud,))

    honest, joined = _snapshots(campaign, creator, 1), _snapshots(pod, creator, 1)

    last_honest, last_joined = honest[-1], joined[-1]
    assert int(last_joined["comments"]) - int(last_honest["comments"]) == 200
    assert int(last_joined["likes"]) - int(last_honest["likes"]) == 300
    assert int(last_joined["views"]) - int(last_honest["views"]) == 500


def test_every_healthy_campaign_gets_one_or_two_labelled_creators_in_turn() -> None:
    plans = with_frauds(generate_campaigns(7, 12, START, timedelta(days=10)), 7)

    behaviours = [f.behaviour for p in plans for f in p.frauds]

    assert all(1 <= len(p.frauds) <= 2 for p in plans if p.scenario in ("healthy",))
    assert all(not p.frauds for p in plans if p.onset is not None)
    assert behaviours[:4] == ["bought_likes", "bought_followers", "engagement_pod", "purge"]


def test_flags_are_scored_per_kind_against_the_labels() -> None:
    outcomes = [
        CreatorOutcome(1, "c", "a", "purge", ["purge"], ["purge"]),
        CreatorOutcome(1, "c", "b", "bought_followers", ["follower_spike"], []),
        CreatorOutcome(1, "c", "h1", None, [], ["purge"]),
        CreatorOutcome(1, "c", "h2", None, [], []),
    ]
    purges = [PurgeOutcome(1, "c", "a", decaying=[0, 0], decaying_raw=[1, 0])]

    scores = score(outcomes, purges, [1])

    assert scores.by_kind["purge"]["precision"] == 0.5
    assert scores.by_kind["purge"]["recall"] == 1.0
    assert scores.by_kind["follower_spike"]["recall"] == 0.0
    assert (scores.honest, scores.honest_flagged, scores.honest_flagged_share) == (2, 1, 0.5)
    assert (scores.purge_decay_alerts, scores.purge_decay_alerts_raw) == (0, 1)
