"""Ingest's Prometheus metrics. Labels are bounded: the event type (or ``unknown``) and a rejection
reason that is a pydantic error type or one of ingest's own checks, never a field name or text."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any, get_args

from prometheus_client import Counter, Histogram
from pydantic import ValidationError
from pydantic_core.core_schema import ErrorType

from services.domain.events import EVENT_ADAPTER, EVENT_TYPES

PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))
# Reasons ingest decides itself, beside pydantic's error types.
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
FUTURE_EVENT_TIME = "future_event_time"
CURRENCY_MISMATCH = "currency_mismatch"
OTHER = "other"

EVENTS = Counter(
    "pulse_ingest_events", "Events received by ingest, by type and result.", ["type", "result"]
)
REJECTED = Counter(
    "pulse_ingest_rejected_events",
    "Events rejected by ingest, by type and reason (the first pydantic error type of the item, or "
    "invalid_json, not_an_object, future_event_time, currency_mismatch).",
    ["type", "reason"],
)
BROKER_FAILURES = Counter(
    "pulse_ingest_broker_unavailable", "Requests refused with 503 because the broker did not ack."
)
REQUEST_SECONDS = Histogram(
    "pulse_ingest_request_duration_seconds",
    "Time to answer a POST /v1/events, broker acknowledgement included, whatever the answer.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def type_label(item: Any) -> str:
    kind = item.get("type") if isinstance(item, dict) else None
    return kind if kind in EVENT_TYPES else "unknown"


def rejection_reason(item: Any) -> str:
    """Why the event validator refused ``item``, as a bounded label value."""
    if not isinstance(item, dict):
        return NOT_AN_OBJECT
    try:
        EVENT_ADAPTER.validate_python(item)
    except ValidationError as exc:
        kind = str(exc.errors()[0]["type"])
        return kind if kind in PYDANTIC_ERROR_TYPES else OTHER
    return FUTURE_EVENT_TIME


def record_rejected(event_type: str, reason: str) -> None:
    EVENTS.labels(event_type, "rejected").inc()
    REJECTED.labels(event_type, reason).inc()


def record_accepted(event_types: Iterable[str]) -> None:
    for event_type, count in Tally(event_types).items():
        EVENTS.labels(event_type, "accepted").inc(count)


SHOPIFY_WEBHOOKS = Counter(
    "pulse_ingest_shopify_webhooks",
    "Shopify webhooks received, by topic (orders/create, orders/cancelled, refunds/create or "
    "other) and outcome (accepted, duplicate, unattributed, ignored, bad_signature, "
    "unknown_shop, malformed, broker_unavailable).",
    ["topic", "outcome"],
)
SHOPIFY_UNATTRIBUTED = Counter(
    "pulse_ingest_shopify_unattributed_orders",
    "Shopify orders whose discount codes name no mapped promo code, by shop (counted once per "
    "order; only shops with a registered secret get this far, so the label is bounded).",
    ["shop"],
)
