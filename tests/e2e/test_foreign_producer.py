"""Events written straight to the event topic by a client that is not ours (confluent-kafka, as
the README's contract describes) are counted exactly by the monitor and shown by the API."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from tests.e2e.events import Expected, messy_campaign
from tests.e2e.harness import RunningStack, eventually
from tests.e2e.test_pipeline import as_expected, totals_match
from tests.foreign_producer import produce_contract_events

pytestmark = pytest.mark.e2e


def test_contract_events_from_confluent_kafka_are_counted_exactly(
    shared_stack: RunningStack,
) -> None:
    campaigns: dict[str, Expected] = {}
    events: list[dict[str, Any]] = []
    for seed, campaign_id in enumerate(("foreign-a", "foreign-b", "foreign-c"), start=31):
        messy, campaigns[campaign_id] = messy_campaign(campaign_id, creators=3, posts=2, seed=seed)
        events += messy
    config = shared_stack.config
    produce_contract_events(config.bootstrap_servers, config.events_topic, events, per_message=25)

    for campaign_id, expected in campaigns.items():
        eventually(partial(totals_match, shared_stack, campaign_id, expected))
        for c in range(3):
            creator = shared_stack.creator(campaign_id, f"creator-{c}")
            assert creator is not None
            assert as_expected(creator) == expected.totals(campaign_id, f"creator-{c}")
