"""Idempotent state: exact totals whatever the delivery order and duplication."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.counters import Counters
from services.domain.events import Conversion, PostMetrics, Spend
from services.domain.state import CampaignState, CreatorState, Outcome
from services.domain.windows import BLOCK, DAY, HOUR, block_start, bucket_start, hourly_from
from tests.unit.strategies import (
    CREATOR,
    FOREVER,
    LATENESS,
    RETENTION,
    T0,
    Event,
    apply,
    conversion,
    deliveries,
    moments,
    money_events,
    new_state,
    post_histories,
    snapshot,
    spend,
)

FAST = settings(max_examples=150, deadline=None)


def bucket_sum(creator: CreatorState) -> Counters:
    total = Counters()
    for bucket in creator.buckets.values():
        total.add(bucket.counters)
    return total


def counts_of(event: PostMetrics) -> Counters:
    return Counters(
        views=event.views,
        likes=event.likes,
        comments=event.comments,
        shares=event.shares,
        saves=event.saves,
        clicks=event.clicks,
    )


def money_of(events: Sequence[Spend | Conversion]) -> Counters:
    total = Counters()
    for event in events:
        if isinstance(event, Spend):
            total.spend_micros += event.amount_micros
        else:
            total.conversions += 1
            total.new_customers += int(event.new_customer)
            total.revenue_micros += event.revenue_micros
    return total


def replay(events: Sequence[Event]) -> tuple[CampaignState, CreatorState, list[Outcome]]:
    campaign, creator = new_state()
    outcomes = [apply(campaign, creator, e, FOREVER, FOREVER).outcome for e in events]
    return campaign, creator, outcomes


def dumped(campaign: CampaignState, creator: CreatorState) -> bytes:
    return orjson.dumps([campaign.to_dict(), creator.to_dict()])


@FAST
@given(st.data(), post_histories())
def test_lifetime_is_the_sum_of_each_posts_latest_snapshot(
    data: st.DataObject, posts: list[list[PostMetrics]]
) -> None:
    order = data.draw(deliveries([s for history in posts for s in history]))
    campaign, creator, _ = replay(order)

    latest = [max(history, key=lambda s: s.observed_at) for history in posts]
    expected = Counters()
    for s in latest:
        expected.add(counts_of(s))
    assert creator.lifetime == expected
    assert bucket_sum(creator) == expected
    assert {p: s.counts for p, s in creator.posts.items()} == {
        s.post_id: counts_of(s) for s in latest
    }
    newest = max(s.observed_at for s in latest)
    assert creator.followers in {s.followers for s in latest if s.observed_at == newest}
    assert campaign.watermark == newest.timestamp()
    assert campaign.creator_ids == [CREATOR]


@FAST
@given(st.data(), money_events())
def test_spend_and_conversions_count_once_per_event_id(
    data: st.DataObject, events: list[Spend | Conversion]
) -> None:
    order = data.draw(deliveries(events))
    campaign, creator, outcomes = replay(order)

    assert creator.lifetime == money_of(events)
    assert bucket_sum(creator) == money_of(events)
    assert outcomes.count(Outcome.APPLIED) == len(events)
    assert outcomes.count(Outcome.DUPLICATE) == len(order) - len(events)
    assert campaign.currency == "USD"


@FAST
@given(st.data(), post_histories(), money_events())
def test_mixed_events_give_the_same_state_in_any_order(
    data: st.DataObject, posts: list[list[PostMetrics]], money: list[Spend | Conversion]
) -> None:
    events: list[Event] = [*(s for history in posts for s in history), *money]
    in_order = sorted(events, key=lambda e: e.event_time)
    _, ordered, _ = replay(in_order)
    _, shuffled, _ = replay(data.draw(deliveries(events)))

    assert shuffled.lifetime == ordered.lifetime
    assert bucket_sum(shuffled) == shuffled.lifetime


@FAST
@given(post_histories(), money_events())
def test_state_round_trips_through_json(
    posts: list[list[PostMetrics]], money: list[Spend | Conversion]
) -> None:
    campaign, creator, _ = replay([*(s for history in posts for s in history), *money])

    creator_again = CreatorState.from_dict(orjson.loads(orjson.dumps(creator.to_dict())))
    campaign_again = CampaignState.from_dict(orjson.loads(orjson.dumps(campaign.to_dict())))
    assert creator_again == creator
    assert campaign_again == campaign


def test_state_written_with_buckets_keyed_by_start_is_still_read() -> None:
    _, creator, _ = replay([spend("s1", occurred_at=T0), spend("s2", occurred_at=T0 + 7200)])
    stored = creator.to_dict()
    stored["buckets"] = {
        str(start): [bucket.counters.to_list(), sorted(bucket.event_ids or ())]
        for start, bucket in creator.buckets.items()
    }
    assert CreatorState.from_dict(orjson.loads(orjson.dumps(stored))) == creator


def test_a_conversion_records_how_many_blocks_past_its_own_the_watermark_was() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, conversion("on-time", occurred_at=T0 + HOUR))
    apply(campaign, creator, spend("later", occurred_at=T0 + 20 * HOUR))
    apply(campaign, creator, conversion("three-blocks-late", occurred_at=T0 + 2 * HOUR))
    apply(campaign, creator, conversion("same-block", occurred_at=T0 + 19 * HOUR))
    apply(campaign, creator, spend("much-later", occurred_at=T0 + 60 * HOUR))
    apply(campaign, creator, conversion("two-days-late", occurred_at=T0 + 3 * HOUR))
    apply(campaign, creator, spend("a-spend", occurred_at=T0 + 4 * HOUR))

    # The hours of the first block were merged into it once the watermark moved two days on.
    assert creator.buckets[block_start(T0)].arrivals == (1, 0, 0, 1, 1)
    assert creator.buckets[int(T0 + 19 * HOUR)].arrivals == (1, 0, 0, 0, 0)
    assert sum(sum(b.arrivals or ()) for b in creator.buckets.values()) == 4


def test_state_written_before_arrivals_were_recorded_is_still_read() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, conversion("c1", occurred_at=T0))
    apply(campaign, creator, conversion("c2", occurred_at=T0 + 7200))
    stored = creator.to_dict()
    assert all(len(row) == 4 for row in stored["buckets"])
    stored["buckets"] = [row[:3] for row in stored["buckets"]]

    read = CreatorState.from_dict(orjson.loads(orjson.dumps(stored)))
    assert all(bucket.arrivals is None for bucket in read.buckets.values())
    assert {s: b.counters for s, b in read.buckets.items()} == {
        s: b.counters for s, b in creator.buckets.items()
    }
    assert {s: b.event_ids for s, b in read.buckets.items()} == {
        s: b.event_ids for s, b in creator.buckets.items()
    }


def test_empty_state_round_trips_through_json() -> None:
    campaign, creator = new_state()
    assert CreatorState.from_dict(orjson.loads(orjson.dumps(creator.to_dict()))) == creator
    assert CampaignState.from_dict(orjson.loads(orjson.dumps(campaign.to_dict()))) == campaign


LATE_EVENTS: list[tuple[Callable[[float], Event], str]] = [
    (lambda at: snapshot(post_id="late-post", observed_at=at, views=5), "observed_at"),
    (lambda at: spend("late-spend", occurred_at=at), "occurred_at"),
    (lambda at: conversion("late-conversion", occurred_at=at), "occurred_at"),
]


@FAST
@given(
    st.sampled_from(LATE_EVENTS),
    st.sampled_from([(HOUR, "1 h"), (1.5 * HOUR, "1.5 h"), (LATENESS, "72 h")]),
    st.floats(min_value=0.001, max_value=30 * 86_400),
)
def test_an_event_beyond_the_allowed_lateness_is_rejected_and_changes_nothing(
    late: tuple[Callable[[float], Event], str], lateness: tuple[float, str], behind: float
) -> None:
    make, field = late
    allowed, label = lateness
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(observed_at=T0 + 40 * 86_400, views=10), allowed, FOREVER)
    assert campaign.watermark is not None
    before = dumped(campaign, creator)

    result = apply(campaign, creator, make(campaign.watermark - allowed - behind), allowed, FOREVER)

    assert result.outcome is Outcome.REJECTED
    assert result.field == field
    assert f"{label} behind" in result.reason
    assert "allowed lateness" in result.reason
    assert dumped(campaign, creator) == before


@pytest.mark.parametrize(("make", "field"), LATE_EVENTS)
def test_an_event_exactly_at_the_allowed_lateness_is_applied(
    make: Callable[[float], Event], field: str
) -> None:
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(observed_at=T0 + 10 * 86_400, views=10))
    event = make(T0 + 10 * 86_400 - LATENESS)
    assert apply(campaign, creator, event).outcome is Outcome.APPLIED


def test_the_watermark_only_moves_forward() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, spend("a", occurred_at=T0 + 10 * HOUR))
    apply(campaign, creator, spend("b", occurred_at=T0 + 2 * HOUR))
    assert campaign.watermark == T0 + 10 * HOUR


@pytest.mark.parametrize(
    "other",
    [
        spend("s-eur", currency="EUR"),
        conversion("c-eur", currency="EUR"),
        spend("first", currency="EUR"),
    ],
)
def test_money_in_another_currency_is_rejected_and_changes_nothing(other: Event) -> None:
    campaign, creator = new_state()
    apply(campaign, creator, spend("first", amount="5"))
    before = dumped(campaign, creator)

    result = apply(campaign, creator, other)

    assert result.outcome is Outcome.REJECTED
    assert result.field == "currency"
    assert "EUR" in result.reason
    assert "USD" in result.reason
    assert dumped(campaign, creator) == before


def test_the_first_money_event_sets_the_currency_and_snapshots_do_not() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(views=10))
    assert campaign.currency is None
    apply(campaign, creator, conversion("c", currency="JPY"))
    assert campaign.currency == "JPY"
    assert apply(campaign, creator, spend("s", currency="JPY")).outcome is Outcome.APPLIED


def test_a_revised_down_snapshot_reduces_the_totals() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(observed_at=T0, views=1_000, likes=100))
    result = apply(campaign, creator, snapshot(observed_at=T0 + 2 * HOUR, views=900, likes=70))

    assert result.outcome is Outcome.APPLIED
    assert (creator.lifetime.views, creator.lifetime.likes) == (900, 70)
    revision = creator.buckets[bucket_start(T0 + 2 * HOUR)].counters
    assert (revision.views, revision.likes) == (-100, -30)
    assert bucket_sum(creator) == creator.lifetime


@pytest.mark.parametrize("offset", [0, -1, -HOUR])
def test_an_older_or_equal_snapshot_is_a_duplicate(offset: int) -> None:
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(observed_at=T0, views=1_000, likes=100))
    before = dumped(campaign, creator)

    result = apply(campaign, creator, snapshot(observed_at=T0 + offset, views=5_000, likes=7))

    assert result.outcome is Outcome.DUPLICATE
    assert dumped(campaign, creator) == before


def test_a_redelivered_spend_is_a_duplicate_while_the_watermark_moves_on() -> None:
    campaign, creator = new_state()
    first = spend("s1", occurred_at=T0, amount="9.99")
    apply(campaign, creator, first)
    apply(campaign, creator, snapshot(observed_at=T0 + LATENESS, views=1))
    assert apply(campaign, creator, first).outcome is Outcome.DUPLICATE
    assert creator.lifetime.spend_micros == 9_990_000


@FAST
@given(
    st.lists(moments, min_size=1, max_size=30),
    st.sampled_from([6 * HOUR, 1.5 * 86_400, RETENTION]),
)
def test_buckets_are_hourly_then_blocks_and_pruned_past_the_retention(
    times: list[int], retention: float
) -> None:
    campaign, creator = new_state()
    accepted = []
    for index, offset in enumerate(times):
        event = spend(f"s{index}", occurred_at=T0 + offset)
        if apply(campaign, creator, event, retention, retention).outcome is Outcome.APPLIED:
            accepted.append(offset)
        assert campaign.watermark is not None
        keep_after = campaign.watermark - retention
        # Settling runs when the hourly horizon moves a block on: at most two blocks late.
        assert all(start + 2 * BLOCK > keep_after for start in creator.buckets)
        horizon = hourly_from(campaign.watermark) - BLOCK
        assert all(start % BLOCK == 0 for start in creator.buckets if start < horizon)
        for t in accepted:
            if T0 + t >= keep_after:
                assert {bucket_start(T0 + t), block_start(T0 + t)} & set(creator.buckets)


@FAST
@given(st.lists(moments, min_size=1, max_size=30))
def test_merging_hours_into_blocks_keeps_every_count(times: list[int]) -> None:
    campaign, creator = new_state()
    for index, offset in enumerate(times):
        apply(campaign, creator, spend(f"s{index}", occurred_at=T0 + offset), FOREVER, FOREVER)
    assert bucket_sum(creator) == creator.lifetime
    assert creator.lifetime.spend_micros == len(times) * 10_000_000


def test_a_redelivered_spend_is_recognised_after_its_hour_joined_its_block() -> None:
    campaign, creator = new_state()
    first = spend("s1", occurred_at=T0 + HOUR + 5)
    apply(campaign, creator, first)
    apply(campaign, creator, snapshot(observed_at=T0 + 3 * DAY, views=1))
    assert bucket_start(T0 + HOUR) not in creator.buckets
    assert apply(campaign, creator, first).outcome is Outcome.DUPLICATE
    assert creator.lifetime.spend_micros == 10_000_000


def test_ids_past_the_lateness_are_forgotten_and_their_events_refused() -> None:
    campaign, creator = new_state()
    first = spend("s1", occurred_at=T0)
    apply(campaign, creator, first)
    apply(campaign, creator, snapshot(observed_at=T0 + LATENESS + BLOCK, views=1))
    assert all(not bucket.event_ids for bucket in creator.buckets.values())
    assert apply(campaign, creator, first).outcome is Outcome.REJECTED
    assert creator.lifetime.spend_micros == 10_000_000


def test_pruning_keeps_lifetime_totals() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, spend("old", occurred_at=T0, amount="1"))
    latest = T0 + RETENTION + BLOCK + HOUR
    apply(campaign, creator, spend("new", occurred_at=latest, amount="2"))
    assert set(creator.buckets) == {bucket_start(latest)}
    assert creator.lifetime.spend_micros == 3_000_000


def test_creators_are_listed_once_in_order_of_first_event() -> None:
    campaign = CampaignState("camp-1")
    second = CreatorState("camp-1", "second")
    first = CreatorState("camp-1", "first")
    for creator, event_id in [(second, "a"), (first, "b"), (second, "c")]:
        apply(campaign, creator, spend(event_id, creator_id=creator.creator_id))
    assert campaign.creator_ids == ["second", "first"]


def test_a_rejected_first_event_does_not_register_the_creator() -> None:
    campaign, creator = new_state()
    other = CreatorState(campaign.campaign_id, "other")
    apply(campaign, other, spend("a", currency="USD", creator_id="other"))
    apply(campaign, creator, spend("b", currency="EUR"))
    assert campaign.creator_ids == ["other"]
    assert creator == CreatorState(campaign.campaign_id, CREATOR)


def test_followers_come_from_the_latest_snapshot_of_any_post() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(post_id="a", observed_at=T0 + HOUR, followers=12_000))
    apply(campaign, creator, snapshot(post_id="b", observed_at=T0, followers=11_000))
    assert creator.followers == 12_000
    assert creator.platform == "instagram"
