"""The monitor's service layer: a Kafka message in, table state and dead letters out."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.monitor import codec
from services.monitor.buffer import HeldWrites
from services.monitor.processor import (
    BatchResult,
    DeadLetter,
    Processor,
    creator_key,
    decode_items,
)
from tests.unit.strategies import (
    CAMPAIGN,
    CREATOR,
    LATENESS,
    RETENTION,
    T0,
    conversion_raw,
    moments,
    post_metrics_raw,
    small_amounts,
    small_counts,
    spend_raw,
)

KEY = CAMPAIGN.encode()


def new_processor() -> Processor:
    return Processor(
        HeldWrites({}, codec.CAMPAIGNS), HeldWrites({}, codec.CREATORS), LATENESS, RETENTION
    )


def message(*items: Any) -> bytes:
    return orjson.dumps(list(items))


def tables(processor: Processor) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The tables' bytes once everything held is flushed."""
    encoded = []
    for held in (processor.campaigns, processor.creators):
        assert isinstance(held, HeldWrites)
        held.flush(0)
        encoded.append(dict(held.table))
    return encoded[0], encoded[1]


def only_dead_letter(result: BatchResult) -> DeadLetter:
    (dead,) = result.dead_letters
    return dead


def test_a_single_event_object_is_applied() -> None:
    processor = new_processor()
    result = processor.process(KEY, orjson.dumps(spend_raw("s1", amount="12.5")))

    assert result.dead_letters == []
    assert result.outcomes == {("spend", "applied"): 1}
    assert result.touched_campaigns == {CAMPAIGN}
    assert result.newest_event_time == T0
    creator = processor.load_creator(CAMPAIGN, CREATOR)
    assert creator is not None
    assert creator.lifetime.spend_micros == 12_500_000
    campaign = processor.load_campaign(CAMPAIGN)
    assert campaign is not None
    assert (campaign.currency, campaign.watermark, campaign.creator_ids) == ("USD", T0, [CREATOR])
    assert processor.load_campaign_creators(campaign) == [creator]
    assert set(processor.creators) == {creator_key(CAMPAIGN, CREATOR)}


def test_a_batch_counts_outcomes_by_type() -> None:
    processor = new_processor()
    snap = post_metrics_raw(views=100, likes=5)
    result = processor.process(
        KEY,
        message(
            snap,
            snap,
            spend_raw("s1"),
            conversion_raw("c1"),
            conversion_raw("c2", occurred_at=T0 + 60),
            spend_raw("s1"),
            {"type": "spend"},
            {"type": "nonsense"},
        ),
    )
    assert result.outcomes == {
        ("post_metrics", "applied"): 1,
        ("post_metrics", "duplicate"): 1,
        ("spend", "applied"): 1,
        ("spend", "duplicate"): 1,
        ("conversion", "applied"): 2,
        ("spend", "invalid"): 1,
        ("unknown", "invalid"): 1,
    }
    assert len(result.dead_letters) == 2
    assert result.newest_event_time == T0 + 60


@pytest.mark.parametrize("value", [b"{not json", b"", b"[1, 2", b"\xff\xfe", None])
def test_an_undecodable_message_is_one_dead_letter(value: bytes | None) -> None:
    processor = new_processor()
    result = processor.process(KEY, value)

    dead = only_dead_letter(result)
    assert dead.field == "(message)"
    assert dead.reason
    assert result.outcomes == {}
    assert tables(processor) == ({}, {})


def test_decode_items_accepts_an_object_or_an_array() -> None:
    assert decode_items(b'{"a": 1}') == [{"a": 1}]
    assert decode_items(b'[{"a": 1}, 2]') == [{"a": 1}, 2]
    assert decode_items(b"[]") == []


def test_an_empty_batch_changes_nothing() -> None:
    processor = new_processor()
    assert processor.process(KEY, b"[]") == BatchResult()
    assert tables(processor) == ({}, {})


@pytest.mark.parametrize("key", [b"another-campaign", None, b""])
def test_an_event_keyed_by_another_campaign_is_a_dead_letter(key: bytes | None) -> None:
    processor = new_processor()
    item = spend_raw("s1")
    result = processor.process(key, message(item))

    dead = only_dead_letter(result)
    assert dead.field == "(message key)"
    assert "campaign_id" in dead.reason
    assert (dead.event, dead.campaign_id) == (item, CAMPAIGN)
    assert result.outcomes == {("spend", "invalid"): 1}
    assert tables(processor) == ({}, {})


def test_invalid_items_are_dead_letters_and_valid_ones_are_applied() -> None:
    processor = new_processor()
    bad_views = post_metrics_raw(views=-3)
    unknown = {**spend_raw("s2"), "colour": "red"}
    result = processor.process(
        KEY, message(bad_views, spend_raw("s1", amount="3"), unknown, "not an object")
    )

    assert [(d.field, d.event) for d in result.dead_letters] == [
        ("views", bad_views),
        ("colour", unknown),
        ("(event)", "not an object"),
    ]
    assert result.outcomes[("spend", "applied")] == 1
    creator = processor.load_creator(CAMPAIGN, CREATOR)
    assert creator is not None
    assert creator.lifetime.spend_micros == 3_000_000


def test_a_late_event_is_a_dead_letter_naming_the_lateness() -> None:
    processor = new_processor()
    processor.process(KEY, message(spend_raw("new", occurred_at=T0 + 10 * 86_400)))
    before = tables(processor)
    late = spend_raw("old", occurred_at=T0)
    result = processor.process(KEY, message(late))

    dead = only_dead_letter(result)
    assert (dead.field, dead.event, dead.campaign_id) == ("occurred_at", late, CAMPAIGN)
    assert "72 h" in dead.reason
    assert result.outcomes == {("spend", "rejected"): 1}
    assert tables(processor) == before


def test_money_in_another_currency_is_a_dead_letter() -> None:
    processor = new_processor()
    result = processor.process(
        KEY, message(spend_raw("s1", currency="USD"), conversion_raw("c1", currency="GBP"))
    )
    dead = only_dead_letter(result)
    assert dead.field == "currency"
    assert result.outcomes == {("spend", "applied"): 1, ("conversion", "rejected"): 1}


def test_a_dead_letter_serialises_with_its_source() -> None:
    dead = DeadLetter("bad", "views", {"views": -1}, CAMPAIGN)
    assert orjson.loads(dead.to_json({"partition": 2, "offset": 9})) == {
        "reason": "bad",
        "field": "views",
        "event": {"views": -1},
        "source": {"partition": 2, "offset": 9},
    }


def test_only_changed_state_is_written() -> None:
    writes: list[str] = []

    class Recording(dict[str, Any]):
        def __setitem__(self, key: str, value: Any) -> None:
            writes.append(key)
            super().__setitem__(key, value)

    processor = Processor(Recording(), Recording(), LATENESS, RETENTION)
    batch = message(*(spend_raw(f"s{i}") for i in range(5)))
    processor.process(KEY, batch)
    assert sorted(writes) == sorted([CAMPAIGN, creator_key(CAMPAIGN, CREATOR)])
    writes.clear()
    processor.process(KEY, batch)
    assert writes == []


@st.composite
def raw_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid events of one campaign across a few creators and posts, some repeated."""
    items: list[dict[str, Any]] = []
    for index in range(draw(st.integers(min_value=1, max_value=12))):
        creator = draw(st.sampled_from(["a", "b", "c"]))
        at = T0 + draw(moments)
        kind = draw(st.sampled_from(["post_metrics", "spend", "conversion"]))
        if kind == "post_metrics":
            post = draw(st.sampled_from(["p1", "p2"]))
            items.append(
                post_metrics_raw(
                    creator_id=creator,
                    post_id=f"{creator}-{post}",
                    observed_at=at,
                    views=draw(small_counts),
                    likes=draw(small_counts),
                )
            )
        elif kind == "spend":
            items.append(
                spend_raw(
                    f"s{index}", creator_id=creator, occurred_at=at, amount=draw(small_amounts)
                )
            )
        else:
            items.append(
                conversion_raw(
                    f"c{index}", creator_id=creator, occurred_at=at, revenue=draw(small_amounts)
                )
            )
    return items + draw(st.lists(st.sampled_from(items), max_size=4))


@settings(max_examples=100, deadline=None)
@given(raw_batches())
def test_processing_a_message_twice_leaves_the_state_byte_identical(
    items: list[dict[str, Any]],
) -> None:
    processor = new_processor()
    batch = message(*items)
    processor.process(KEY, batch)
    once = tables(processor)

    again = processor.process(KEY, batch)

    assert tables(processor) == once
    assert again.touched_campaigns == set()
    assert {outcome for _, outcome in again.outcomes} <= {"duplicate", "rejected"}


@settings(max_examples=100, deadline=None)
@given(raw_batches())
def test_batching_does_not_change_the_state(items: list[dict[str, Any]]) -> None:
    whole = new_processor()
    whole.process(KEY, message(*items))
    one_by_one = new_processor()
    for item in items:
        one_by_one.process(KEY, orjson.dumps(item))

    assert tables(whole) == tables(one_by_one)


def test_a_campaign_with_huge_valid_spends_does_not_crash_the_processor() -> None:
    processor = new_processor()
    spends = [spend_raw(f"s{i}", amount="1000000000") for i in range(20)]
    result = processor.process(KEY, message(*spends))
    assert sum(result.outcomes.values()) == len(spends)
