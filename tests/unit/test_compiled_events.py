"""The monitor's compiled decoder against the contract: it accepts only what the contract accepts,
reads every field to the same value, and a refused item gets the contract's field and reason."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.domain.compiled_events import decode_valid_message
from services.domain.events import FieldError, parse_event
from services.monitor import codec
from services.monitor.buffer import HeldWrites
from services.monitor.processor import Processor
from tests.unit.strategies import (
    CAMPAIGN,
    LATENESS,
    RETENTION,
    conversion_raw,
    post_metrics_raw,
    raw_events,
    spend_raw,
)

SNAPSHOT = post_metrics_raw(views=1_000, likes=40)
SPEND = spend_raw("spend-1")
CONVERSION = conversion_raw("conversion-1")
REVERSAL = {
    **conversion_raw("reversal-1"),
    "type": "conversion_reversal",
    "reverses": "conversion-1",
}

BAD_ITEMS: list[dict[str, Any]] = [
    {k: v for k, v in SNAPSHOT.items() if k != "views"},
    {k: v for k, v in SPEND.items() if k != "type"},
    {**SNAPSHOT, "colour": "red"},
    {**SNAPSHOT, "type": "post_metric"},
    {**SNAPSHOT, "views": -1},
    {**SNAPSHOT, "views": 10**15 + 1},
    {**SNAPSHOT, "likes": "many"},
    {**SNAPSHOT, "likes": True},
    {**SNAPSHOT, "shares": 1.0},
    {**SNAPSHOT, "observed_at": "2025-03-03T00:00:00"},
    {**SNAPSHOT, "observed_at": 1741000000},
    {**SNAPSHOT, "observed_at": "yesterday"},
    {**SNAPSHOT, "posted_at": "2003-12-31T23:00:00Z"},
    {**SNAPSHOT, "posted_at": "2025-03-04T00:00:00Z"},
    {**SNAPSHOT, "platform": "TikTok"},
    {**SNAPSHOT, "post_id": ".hidden"},
    {**SNAPSHOT, "creator_id": "-creator"},
    {**SNAPSHOT, "creator_id": "creator\n"},
    {**SNAPSHOT, "event_id": ""},
    {**SNAPSHOT, "event_id": "e" * 129},
    {**SPEND, "amount": "-1"},
    {**SPEND, "amount": "1000000000.01"},
    {**SPEND, "amount": "0.0000001"},
    {**SPEND, "amount": "NaN"},
    {**SPEND, "amount": "Infinity"},
    {**SPEND, "amount": True},
    {**SPEND, "currency": "usd"},
    {**SPEND, "currency": "USD\n"},
    {**SPEND, "kind": "bribe"},
    {**SPEND, "occurred_at": "2001-01-01T00:00:00Z"},
    {**CONVERSION, "new_customer": "yes"},
    {**CONVERSION, "new_customer": 1},
    {**CONVERSION, "attribution": "tv"},
    {**CONVERSION, "kind": "Purchase"},
    {**CONVERSION, "revenue": "12.1234567"},
    {**REVERSAL, "reverses": ""},
    {k: v for k, v in REVERSAL.items() if k != "reverses"},
]

# Valid, but read differently by msgspec (sub-microsecond digits are rounded there, truncated by
# the contract) or spelled unusually: each must come out as the contract reads it.
UNUSUAL_VALID: list[dict[str, Any]] = [
    {**SNAPSHOT, "observed_at": "2025-03-03T00:00:00.1234567Z"},
    {**SNAPSHOT, "observed_at": "2025-03-03T05:30:00.999999+05:30"},
    {**SNAPSHOT, "observed_at": "2025-03-03 00:00:00z"},
    {**SPEND, "amount": 1e3},
    {**SPEND, "amount": "1e3"},
    {**SPEND, "amount": 0.1},
    {**SPEND, "amount": "1000000000"},
    {**SPEND, "amount": "1.0000000"},
    {**CONVERSION, "revenue": 12},
    REVERSAL,
]


def _fields(event: Any) -> dict[str, Any]:
    names = type(event).model_fields if hasattr(type(event), "model_fields") else None
    if names is None:
        names = (*event.__struct_fields__, "type")
    return {name: getattr(event, name) for name in names}


def _contract_rejection(item: dict[str, Any]) -> FieldError:
    found = parse_event(item)
    assert isinstance(found, list), f"the contract accepts {item!r}"
    return found[0]


@pytest.mark.parametrize("item", BAD_ITEMS)
def test_the_compiled_decoder_refuses_what_the_contract_refuses(item: dict[str, Any]) -> None:
    _contract_rejection(item)
    assert decode_valid_message(orjson.dumps([SNAPSHOT, item])) is None
    assert decode_valid_message(orjson.dumps(item)) is None


@pytest.mark.parametrize("item", BAD_ITEMS)
def test_a_refused_item_is_dead_lettered_with_the_contracts_field_and_reason(
    item: dict[str, Any],
) -> None:
    processor = Processor(
        HeldWrites({}, codec.CAMPAIGNS), HeldWrites({}, codec.CREATORS), LATENESS, RETENTION
    )
    result = processor.process(CAMPAIGN.encode(), orjson.dumps([SNAPSHOT, item]))
    (dead,) = result.dead_letters
    expected = _contract_rejection(item)
    assert (dead.field, dead.reason, dead.event) == (expected.field, expected.reason, item)
    assert result.touched_creators == {(CAMPAIGN, SNAPSHOT["creator_id"])}


@pytest.mark.parametrize("item", UNUSUAL_VALID)
def test_an_accepted_item_reads_as_the_contract_reads_it(item: dict[str, Any]) -> None:
    contract = parse_event(item)
    assert not isinstance(contract, list), contract
    compiled = decode_valid_message(orjson.dumps([item]))
    if compiled is not None:
        (event,) = compiled
        assert _fields(event) == _fields(contract)
        assert event.event_time.timestamp() == contract.event_time.timestamp()


def test_sub_microsecond_times_take_the_contracts_path() -> None:
    assert decode_valid_message(orjson.dumps([UNUSUAL_VALID[0]])) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(raw_events, min_size=1, max_size=5))
def test_any_valid_message_decodes_to_the_contracts_events(items: list[dict[str, Any]]) -> None:
    compiled = decode_valid_message(orjson.dumps(items))
    assert compiled is not None
    contract = [parse_event(item) for item in items]
    assert [_fields(event) for event in compiled] == [_fields(event) for event in contract]
    assert [_micros(event) for event in compiled] == [_micros(event) for event in contract]


def _micros(event: Any) -> tuple[int | None, int | None]:
    return getattr(event, "revenue_micros", None), getattr(event, "amount_micros", None)
