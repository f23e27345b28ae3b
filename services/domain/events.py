"""The public event contract: what producers send and what the monitor consumes.

Four event types share an envelope (``type``, ``event_id``, ``campaign_id``, ``creator_id`` and an
event time). Validation is strict: unknown fields, wrong types, negative counts and impossible
times are rejected with the field that is wrong and why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from services.domain.money import to_micros

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
]
# A platform's own post id: YouTube video ids are 11 characters of base64url and may start with
# "-" or "_", which every other identifier keeps refusing (an id that reads like a command-line
# option or a private name is more often a mistake than a real campaign or creator).
PostIdentifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._:@-]*$"),
]
Count = Annotated[int, Field(strict=True, ge=0, le=10**15)]
# A billion per event keeps every sum far inside 64-bit micro-units.
Amount = Annotated[Decimal, Field(ge=0, le=10**9, decimal_places=6, allow_inf_nan=False)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _require_text(value: Any) -> Any:
    # Pydantic would read a bare number as Unix time; the contract asks for a time zone.
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 string with a time zone, e.g. 2026-05-01T12:00:00Z")
    return value


EventTime = Annotated[AwareDatetime, BeforeValidator(_require_text)]

EARLIEST_EVENT_TIME = datetime(2004, 1, 1, tzinfo=UTC)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    event_id: Identifier
    campaign_id: Identifier
    creator_id: Identifier


def _not_before_social_media(value: datetime) -> datetime:
    if value < EARLIEST_EVENT_TIME:
        raise ValueError(f"is before {EARLIEST_EVENT_TIME.date()}: not a real event time")
    return value


class PostMetrics(_Event):
    """A cumulative snapshot of one post's lifetime counts at ``observed_at``."""

    type: Literal["post_metrics"]
    platform: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
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

    _posted_at_is_real = field_validator("posted_at")(_not_before_social_media)

    @field_validator("observed_at")
    @classmethod
    def _observed_after_posting(cls, value: datetime, info: ValidationInfo) -> datetime:
        posted_at = info.data.get("posted_at")
        if posted_at is not None and value < posted_at:
            raise ValueError("is before posted_at: a post cannot be observed before it exists")
        return value

    @property
    def event_time(self) -> datetime:
        return self.observed_at

    @property
    def engagements(self) -> int:
        return self.likes + self.comments + self.shares + self.saves


class _RevenueEvent(_Event):
    """What a conversion and its reversal share: when, and how much revenue in which currency."""

    occurred_at: EventTime
    revenue: Amount
    currency: CurrencyCode

    _occurred_at_is_real = field_validator("occurred_at")(_not_before_social_media)

    @property
    def event_time(self) -> datetime:
        return self.occurred_at

    @property
    def revenue_micros(self) -> int:
        return to_micros(self.revenue)


class Conversion(_RevenueEvent):
    """A purchase, sign-up or other conversion attributed to a creator."""

    type: Literal["conversion"]
    new_customer: Annotated[bool, Field(strict=True)]
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")] = "purchase"
    attribution: Literal["promo_code", "link", "other"] = "link"


class Spend(_Event):
    """Money paid for a creator's work in a campaign: fees, product, boosts."""

    type: Literal["spend"]
    occurred_at: EventTime
    amount: Amount
    currency: CurrencyCode
    kind: Literal["fee", "product", "boost", "other"] = "fee"

    _occurred_at_is_real = field_validator("occurred_at")(_not_before_social_media)

    @property
    def event_time(self) -> datetime:
        return self.occurred_at

    @property
    def amount_micros(self) -> int:
        return to_micros(self.amount)


class ConversionReversal(_RevenueEvent):
    """Takes back what an earlier conversion brought: a cancelled or refunded order.

    ``revenue`` is what goes back (all of it or part, for a partial refund) and ``new_customer``
    whether the customer the conversion won goes back too. The producer keeps a reversal within
    what the conversion brought (see docs/shopify.md); the monitor never lets a creator's revenue
    or new customers go below zero.
    """

    type: Literal["conversion_reversal"]
    reverses: Identifier
    new_customer: Annotated[bool, Field(strict=True)] = False


AnyEvent = PostMetrics | Conversion | Spend | ConversionReversal
Event = Annotated[AnyEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
EVENT_TYPES = ("post_metrics", "conversion", "spend", "conversion_reversal")


class FieldError(BaseModel):
    """Why one item of a batch was rejected."""

    index: int
    field: str
    reason: str


def _field_path(loc: tuple[int | str, ...]) -> str:
    # Pydantic puts the discriminator tag first in union errors ("post_metrics.views"); drop it.
    parts = [str(p) for p in loc]
    if parts and parts[0] in EVENT_TYPES:
        parts = parts[1:]
    return ".".join(parts) or "(event)"


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        return f"unknown event type; expected one of {', '.join(EVENT_TYPES)}"
    if kind == "union_tag_not_found":
        return f"required field is missing; expected one of {', '.join(EVENT_TYPES)}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _error_field(error: Any) -> str:
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "type"
    return _field_path(tuple(error["loc"]))


def parse_event(
    raw: Any, index: int = 0, now: datetime | None = None, max_clock_skew: timedelta | None = None
) -> AnyEvent | list[FieldError]:
    """Validate one decoded JSON item; return the event or the reasons it was rejected.

    ``now`` and ``max_clock_skew`` reject event times in the future; the monitor leaves them out so
    that replaying old data gives the same answer as it did live.
    """
    if not isinstance(raw, dict):
        return [FieldError(index=index, field="(event)", reason="an event must be a JSON object")]
    try:
        event = EVENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        return [
            FieldError(index=index, field=_error_field(e), reason=_reason(e)) for e in exc.errors()
        ]
    if now is not None and max_clock_skew is not None and event.event_time > now + max_clock_skew:
        field = "observed_at" if isinstance(event, PostMetrics) else "occurred_at"
        return [
            FieldError(
                index=index,
                field=field,
                reason=f"is in the future (more than {max_clock_skew} ahead of the server clock)",
            )
        ]
    return event


def event_currency(event: AnyEvent) -> str | None:
    return None if isinstance(event, PostMetrics) else event.currency
