"""Messages packed by partition: ingest's grouping, and the monitor applying them exactly."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.windows import HOUR
from services.ingest.publisher import batch_messages, pack_messages
from services.monitor.processor import Placement, Processor
from services.runtime.topics import campaign_partition
from tests.unit.strategies import T0, conversion_raw, post_metrics_raw, spend_raw
from tests.unit.test_processor import new_processor, only_dead_letter, tables

PARTITIONS = 4
CAMPAIGNS = [f"camp-{k}" for k in range(12)]


def on_partition(partition: int) -> list[str]:
    return [c for c in CAMPAIGNS if campaign_partition(c, PARTITIONS) == partition]


def events_of(campaign_id: str, count: int) -> list[dict[str, Any]]:
    """Snapshots of two creators' posts, a spend and a conversion, all of ``campaign_id``."""
    events: list[dict[str, Any]] = []
    for k in range(count):
        creator = f"creator-{k % 2}"
        events.append(
            post_metrics_raw(
                campaign_id=campaign_id,
                creator_id=creator,
                post_id=f"{campaign_id}-post-{k % 3}",
                observed_at=T0 + k * HOUR,
                views=1000 * (k + 1),
                likes=50 * (k + 1),
            )
        )
    events.append(spend_raw("s1", campaign_id=campaign_id, occurred_at=T0, amount="12.5"))
    events.append(conversion_raw("c1", campaign_id=campaign_id, occurred_at=T0, revenue="40"))
    return events


def interleaved(*campaigns: str, count: int = 6) -> list[dict[str, Any]]:
    per_campaign = [events_of(c, count) for c in campaigns]
    return [event for rank in zip(*per_campaign, strict=True) for event in rank]


def apply_keyed(processor: Processor, events: list[dict[str, Any]]) -> None:
    """The contract's shape: one message per campaign, keyed by it."""
    for message in batch_messages(((e["campaign_id"], e) for e in events), 500):
        assert message.key is not None
        processor.process(message.key.encode(), orjson.dumps(message.events))


def test_a_packed_message_of_many_campaigns_gives_the_state_of_keyed_messages() -> None:
    campaigns = on_partition(1)
    assert len(campaigns) >= 2
    events = interleaved(*campaigns)
    packed = new_processor()

    result = packed.process(None, orjson.dumps(events), placement=Placement(1, PARTITIONS))

    keyed = new_processor()
    apply_keyed(keyed, events)
    assert result.dead_letters == []
    assert result.touched_campaigns == set(campaigns)
    assert sum(result.outcomes.values()) == len(events)
    assert tables(packed) == tables(keyed)


def test_an_event_of_a_campaign_from_another_partition_is_dead_lettered() -> None:
    home, stranger = on_partition(1)[0], on_partition(2)[0]
    events = interleaved(home, stranger, count=2)
    processor = new_processor()

    result = processor.process(None, orjson.dumps(events), placement=Placement(1, PARTITIONS))

    strays = [e for e in events if e["campaign_id"] == stranger]
    assert [letter.event for letter in result.dead_letters] == strays
    for letter in result.dead_letters:
        assert letter.field == "(message partition)"
        assert letter.campaign_id == stranger
        assert letter.reason.startswith(f"campaign '{stranger}' belongs on partition 2 of 4, not 1")
    assert result.touched_campaigns == {home}
    keyed = new_processor()
    apply_keyed(keyed, [e for e in events if e["campaign_id"] == home])
    assert tables(processor) == tables(keyed)


def test_a_message_without_a_key_or_placement_is_dead_lettered_by_key() -> None:
    (event,) = events_of(on_partition(0)[0], 1)[:1]

    dead = only_dead_letter(new_processor().process(None, orjson.dumps([event])))

    assert dead.field == "(message key)"


def test_a_keyed_message_is_applied_wherever_it_was_read() -> None:
    campaign = on_partition(3)[0]
    events = events_of(campaign, 4)
    placed = new_processor()

    result = placed.process(campaign.encode(), orjson.dumps(events), placement=Placement(0, 4))

    keyed = new_processor()
    apply_keyed(keyed, events)
    assert result.dead_letters == []
    assert tables(placed) == tables(keyed)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.sampled_from(CAMPAIGNS), max_size=300),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=40),
)
def test_packing_puts_each_campaign_on_its_partition_in_order(
    campaigns: list[str], partitions: int, bound: int
) -> None:
    items = [
        (campaign_id, {"n": n, "campaign_id": campaign_id})
        for n, campaign_id in enumerate(campaigns)
    ]

    messages = pack_messages(items, partitions, bound)

    assert all(m.key is None and 0 < len(m.events) <= bound for m in messages)
    for m in messages:
        assert m.partition is not None
        assert {campaign_partition(e["campaign_id"], partitions) for e in m.events} == {m.partition}
    sent = [e for m in messages for e in m.events]
    assert sorted(e["n"] for e in sent) == list(range(len(campaigns)))
    for campaign_id in set(campaigns):
        order = [e["n"] for e in sent if e["campaign_id"] == campaign_id]
        assert order == sorted(order)
