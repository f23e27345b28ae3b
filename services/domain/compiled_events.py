"""The event contract compiled for the monitor: a message decoded and validated in one pass.

The same four event types and constraints as ``events`` (the contract, in pydantic, which the
HTTP API keeps), as msgspec structs in a union tagged by ``type``: a message of valid events is
decoded straight from its bytes into typed events by msgspec's compiled decoder, about ten times
faster than JSON decoding followed by pydantic.

This path only ever accepts what the contract accepts, with the same values; whatever it refuses,
or might read differently, is handed to the contract (``parse_event``), which gives the reasons
and field names the producers know. Where the two differ, the contract decides:

- msgspec rounds digits beyond the microsecond, pydantic truncates them: a message with seven or
  more digits after a point anywhere takes the contract's path;
- ``$`` in Python's patterns also matches before a final newline, in pydantic's it does not: the
  patterns here end in ``\\Z``;
- amounts have no numeric constraints in msgspec: bounds, finiteness and decimal places are
  checked after decoding, as the contract's ``Amount`` does.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

import msgspec

from services.domain.events import EARLIEST_EVENT_TIME, AnyEvent
from services.domain.money import to_micros

_IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:@-]*\Z"
_POST_IDENTIFIER = r"^[A-Za-z0-9_-][A-Za-z0-9._:@-]*\Z"

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_IDENTIFIER)]
PostIdentifier = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=_POST_IDENTIFIER)
]
Count = Annotated[int, msgspec.Meta(ge=0, le=10**15)]
CurrencyCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}\Z")]
EventTime = Annotated[datetime, msgspec.Meta(tz=True)]

AMOUNT_LIMIT = Decimal(10**9)
AMOUNT_DECIMAL_PLACES = 6
# Seven or more digits after a point: a time finer than a microsecond (see the module docstring).
_SUB_MICROSECOND = re.compile(rb"\.[0-9]{7}")


def _check_amount(value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    if (
        not isinstance(exponent, int)
        or not Decimal(0) <= value <= AMOUNT_LIMIT
        or exponent < -AMOUNT_DECIMAL_PLACES
    ):
        raise ValueError("outside the contract's amounts")


def _check_time(value: datetime) -> None:
    if value < EARLIEST_EVENT_TIME:
        raise ValueError("before the earliest event time")


class _Event(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    event_id: Identifier
    campaign_id: Identifier
    creator_id: Identifier


class PostMetricsEvent(_Event, tag="post_metrics", frozen=True):
    type: ClassVar[Literal["post_metrics"]] = "post_metrics"
    platform: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}\Z")]
    post_id: PostIdentifier
    posted_at: EventTime
    observed_at: EventTime
    followers: Count
    views: Count
    likes: Count
    comments: Count
    shares: Count
    saves: Count
    clicks: Count

    def __post_init__(self) -> None:
        _check_time(self.posted_at)
        if self.observed_at < self.posted_at:
            raise ValueError("observed before posted")

    @property
    def event_time(self) -> datetime:
        return self.observed_at

    @property
    def engagements(self) -> int:
        return self.likes + self.comments + self.shares + self.saves


class _RevenueEvent(_Event, frozen=True):
    occurred_at: EventTime
    revenue: Decimal
    currency: CurrencyCode

    def __post_init__(self) -> None:
        _check_time(self.occurred_at)
        _check_amount(self.revenue)

    @property
    def event_time(self) -> datetime:
        return self.occurred_at

    @property
    def revenue_micros(self) -> int:
        return to_micros(self.revenue)


class ConversionEvent(_RevenueEvent, tag="conversion", frozen=True):
    type: ClassVar[Literal["conversion"]] = "conversion"
    new_customer: bool
    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}\Z")] = "purchase"
    attribution: Literal["promo_code", "link", "other"] = "link"


class ConversionReversalEvent(_RevenueEvent, tag="conversion_reversal", frozen=True):
    type: ClassVar[Literal["conversion_reversal"]] = "conversion_reversal"
    reverses: Identifier
    new_customer: bool = False


class SpendEvent(_Event, tag="spend", frozen=True):
    type: ClassVar[Literal["spend"]] = "spend"
    occurred_at: EventTime
    amount: Decimal
    currency: CurrencyCode
    kind: Literal["fee", "product", "boost", "other"] = "fee"

    def __post_init__(self) -> None:
        _check_time(self.occurred_at)
        _check_amount(self.amount)

    @property
    def event_time(self) -> datetime:
        return self.occurred_at

    @property
    def amount_micros(self) -> int:
        return to_micros(self.amount)


CompiledEvent = PostMetricsEvent | ConversionEvent | SpendEvent | ConversionReversalEvent
# What the state's rules apply: an event from either path.
StreamEvent = AnyEvent | CompiledEvent
_DECODER = msgspec.json.Decoder(list[CompiledEvent] | CompiledEvent)


def decode_valid_message(value: bytes) -> list[CompiledEvent] | None:
    """Every event of a message (one JSON object or an array of them) when all are valid and read
    exactly as the contract reads them; None when the contract must look at the message."""
    if _SUB_MICROSECOND.search(value) is not None:
        return None
    try:
        decoded = _DECODER.decode(value)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return decoded if isinstance(decoded, list) else [decoded]
