"""What one verified Shopify webhook does: an order becomes a conversion (or an unattributed
order), a cancellation or a refund becomes a capped reversal of that conversion.

The events are built as raw JSON items and checked by the same ``parse_event`` as ingest, so they
travel to the monitor exactly like a producer's own; their ids come from the shop and the order
(or refund), so a re-sent order or refund is the same event and counts once. The choices are
explained in docs/shopify.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from services.domain.events import parse_event
from services.domain.money import MICROS_PER_UNIT, to_micros
from services.sources.common import SourceError
from services.sources.shopify import PLATFORM, parse_order, parse_refund
from services.storage.shopify import OrderSeen, ShopifyRepository, StoredOrder, StoredReversal

ORDER_CREATED = "orders/create"
ORDER_CANCELLED = "orders/cancelled"
REFUND_CREATED = "refunds/create"
TOPICS = (ORDER_CREATED, ORDER_CANCELLED, REFUND_CREATED)

Outcome = Literal["accepted", "unattributed", "ignored"]


@dataclass(frozen=True, slots=True)
class Handled:
    outcome: Outcome
    detail: str
    events: list[dict[str, Any]] = field(default_factory=list)
    # True only the first time an order without a mapped code is seen (for the metric).
    new_unattributed_order: bool = False


def order_event_id(shop: str, order_id: int) -> str:
    return f"shopify:{shop}:order:{order_id}"


def _amount(micros: int) -> str:
    return str(Decimal(micros) / MICROS_PER_UNIT)


def _time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _validated(raw: dict[str, Any]) -> dict[str, Any]:
    event = parse_event(raw)
    if isinstance(event, list):
        first = event[0]
        raise SourceError(PLATFORM, first.field, first.reason)
    return raw


def conversion_event(shop: str, order: StoredOrder) -> dict[str, Any]:
    assert order.campaign_id is not None and order.creator_id is not None
    return _validated(
        {
            "type": "conversion",
            "event_id": order_event_id(shop, order.order_id),
            "campaign_id": order.campaign_id,
            "creator_id": order.creator_id,
            "occurred_at": _time(order.occurred_at),
            "revenue": _amount(order.revenue_micros),
            "currency": order.currency,
            "new_customer": order.new_customer,
            "kind": "purchase",
            "attribution": "promo_code",
        }
    )


def reversal_event(shop: str, reversal: StoredReversal) -> dict[str, Any]:
    order = reversal.order
    assert order.campaign_id is not None and order.creator_id is not None
    return _validated(
        {
            "type": "conversion_reversal",
            "event_id": f"shopify:{shop}:{reversal.reversal_key}",
            "campaign_id": order.campaign_id,
            "creator_id": order.creator_id,
            "reverses": order_event_id(shop, order.order_id),
            "occurred_at": _time(reversal.occurred_at),
            "revenue": _amount(reversal.revenue_micros),
            "currency": order.currency,
            "new_customer": reversal.new_customer,
        }
    )


def _order_created(store: ShopifyRepository, shop: str, payload: Any) -> Handled:
    order = parse_order(payload)
    owners = store.code_owners(shop, list(order.codes))
    # An order with several mapped codes goes to the first one it lists: one order, one creator.
    owner = next((owners[code] for code in order.codes if code in owners), None)
    seen = OrderSeen(
        shop_domain=shop,
        order_id=order.order_id,
        customer_id=order.customer_id,
        customer_order_index=order.customer_order_index,
        revenue_micros=to_micros(order.total_price),
        currency=order.currency,
        occurred_at=order.created_at,
    )
    stored, created = store.record_order(seen, owner)
    if stored.campaign_id is None:
        listed = ", ".join(order.codes) or "none"
        return Handled(
            "unattributed",
            f"order {order.order_id}: no mapped promo code (codes: {listed})",
            new_unattributed_order=created,
        )
    return Handled(
        "accepted",
        f"order {order.order_id}: conversion for creator {stored.creator_id}",
        [conversion_event(shop, stored)],
    )


def _reversed(shop: str, order_id: int, result: StoredReversal | str, what: str) -> Handled:
    if isinstance(result, StoredReversal):
        return Handled(
            "accepted",
            f"{what}: reverses {_amount(result.revenue_micros)} {result.order.currency} of order "
            f"{order_id}" + (" and its new customer" if result.new_customer else ""),
            [reversal_event(shop, result)],
        )
    reasons = {
        "unknown_order": "was never seen here (placed before the shop was connected?)",
        "unattributed": "has no mapped promo code",
        "nothing_left": "has nothing left to reverse",
    }
    outcome: Outcome = "ignored" if result == "nothing_left" else "unattributed"
    return Handled(outcome, f"{what}: order {order_id} {reasons[result]}")


def _order_cancelled(store: ShopifyRepository, shop: str, payload: Any) -> Handled:
    order = parse_order(payload)
    if order.cancelled_at is None:
        raise SourceError(PLATFORM, "cancelled_at", "required for orders/cancelled, got null")
    key = f"order:{order.order_id}:cancelled"
    result = store.reverse(shop, order.order_id, key, None, order.cancelled_at)
    return _reversed(shop, order.order_id, result, "cancellation")


def _refund_created(store: ShopifyRepository, shop: str, payload: Any) -> Handled:
    refund = parse_refund(payload)
    known = store.order(shop, refund.order_id)
    if known is not None and refund.currency not in (None, known.currency):
        raise SourceError(
            PLATFORM,
            "transactions",
            f"refunded in {refund.currency}, the order is in {known.currency}: a refund in "
            "another currency than the shop's cannot be reversed",
        )
    key = f"refund:{refund.refund_id}"
    requested = to_micros(refund.amount)
    result = store.reverse(shop, refund.order_id, key, requested, refund.created_at)
    return _reversed(shop, refund.order_id, result, f"refund {refund.refund_id}")


def handle_webhook(store: ShopifyRepository, shop: str, topic: str, payload: Any) -> Handled:
    """Act on a verified webhook's decoded body; ``SourceError`` when the body is malformed."""
    if topic == ORDER_CREATED:
        return _order_created(store, shop, payload)
    if topic == ORDER_CANCELLED:
        return _order_cancelled(store, shop, payload)
    if topic == REFUND_CREATED:
        return _refund_created(store, shop, payload)
    return Handled("ignored", f"topic {topic!r} is not one Campaign Pulse reads")
