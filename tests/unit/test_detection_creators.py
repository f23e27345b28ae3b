"""A creator's own status on the simulator's collapses: one creator of a large campaign losing half
its engagement per view, replayed through the same state and detector as `pulse eval`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.domain.detection import CREATOR_SETTINGS, detect
from services.domain.windows import HOUR
from services.evaluation.harness import START, decline_floor
from services.simulator.plans import CampaignPlan, generate_campaigns
from tests.simulated import replayed


def collapse(seed: int) -> CampaignPlan:
    """The creator collapse among a tuning seed's twenty campaigns."""
    plans = generate_campaigns(seed, 20, START, timedelta(days=10))
    return next(p for p in plans if p.scenario == "creator_collapse")


def first_decaying(plan: CampaignPlan, hours_after_onset: int) -> float | None:
    """When the collapsing creator's own status is first decaying after onset, assessed hourly
    at the campaign's watermark as the events arrive; None if not within ``hours_after_onset``."""
    assert plan.onset is not None and plan.collapsing is not None
    for watermark, creators in replayed(plan, plan.onset + timedelta(hours=hours_after_onset)):
        if watermark < plan.onset.timestamp():
            continue
        mine = creators.get(plan.collapsing)
        if mine is not None and detect([mine], watermark, settings=CREATOR_SETTINGS).status == (
            "decaying"
        ):
            return watermark
    return None


@pytest.mark.parametrize("seed", [2, 3, 10])
def test_a_simulated_collapse_is_decaying_on_its_creator_within_48_hours_of_its_floor(
    seed: int,
) -> None:
    # Tuning seeds' collapses: seed 2's creator is the latest of the seven (44.4 h beyond its
    # floor), seed 3's is caught on its previous post's views, before its first post after onset
    # (37.4 h), seed 10's is the soonest (27.1 h).
    plan = collapse(seed)
    floor = decline_floor(plan)
    assert floor is not None
    caught = first_decaying(plan, 72)
    assert caught is not None
    assert caught - floor <= 48 * HOUR
