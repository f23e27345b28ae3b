"""A simulated campaign replayed hourly through the same validation and state as `pulse eval`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from services.domain.events import parse_event
from services.domain.state import CampaignState, CreatorState, apply_event
from services.evaluation.harness import ALLOWED_LATENESS, RETENTION, START
from services.simulator.model import Simulation
from services.simulator.plans import CampaignPlan


def replayed(
    plan: CampaignPlan, until: datetime
) -> Iterator[tuple[float, dict[str, CreatorState]]]:
    """The campaign's watermark and creators every simulated hour until ``until``, its events
    delivered as the simulator delivers them: late, out of order, duplicated."""
    simulation = Simulation([plan], START)
    campaign = CampaignState(plan.campaign_id)
    creators: dict[str, CreatorState] = {}
    clock = START
    while clock < until:
        clock += timedelta(hours=1)
        for delivery in simulation.advance(clock):
            event = parse_event(delivery.event)
            assert not isinstance(event, list)
            creator = creators.setdefault(
                event.creator_id, CreatorState(event.campaign_id, event.creator_id)
            )
            apply_event(campaign, creator, event, ALLOWED_LATENESS, RETENTION)
        if campaign.watermark is not None:
            yield campaign.watermark, creators
