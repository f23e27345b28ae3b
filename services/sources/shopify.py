"""Shopify webhooks → what an order or a refund says, on the REST shapes Shopify documents.

Pure functions: the signature check over the raw body, and the parsing of an ``orders/create`` or
``orders/cancelled`` body (an order) and of a ``refunds/create`` body (a refund). Each refusal is a
``SourceError`` naming the field and the reason. What becomes of an order (attribution, new
customer, reversal caps) is decided in ``services.domain.shopify`` and
``services.service_layer.shopify``; the choices are explained in docs/shopify.md.

Order fields read: ``id``, ``created_at``, ``cancelled_at``, ``currency`` (the shop's currency),
``total_price`` (a decimal string: the total the customer paid, taxes and shipping included),
``discount_codes[].code``, ``customer.id`` (absent or null for a guest), and, when a shop adds it
from the GraphQL customer journey, ``customerJourneySummary.customerOrderIndex``. Refund fields
read: ``id``, ``order_id``, ``created_at`` and ``transactions[]`` (``kind``, ``status``,
``amount``, ``currency``): the money returned is the sum of the successful ``refund``
transactions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.domain.shopify import normalise_code
from services.sources.common import SourceError

PLATFORM = "shopify"
_MAX_ID = 2**63 - 1


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the base64 HMAC-SHA256 of the raw ``body`` under ``secret``,
    compared in constant time."""
    if not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode(errors="replace"))


@dataclass(frozen=True, slots=True)
class ShopifyOrder:
    order_id: int
    created_at: datetime
    cancelled_at: datetime | None
    currency: str
    total_price: Decimal
    codes: tuple[str, ...]
    customer_id: int | None
    customer_order_index: int | None


@dataclass(frozen=True, slots=True)
class ShopifyRefund:
    refund_id: int
    order_id: int
    created_at: datetime
    amount: Decimal
    currency: str | None


def _fail(field: str, reason: str) -> SourceError:
    return SourceError(PLATFORM, field, reason)


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(field, f"must be a JSON object, got {type(value).__name__}")
    return value


def _id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_ID:
        raise _fail(field, f"must be a positive integer id, got {value!r}")
    return value


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(field, f"must be an ISO 8601 time string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(field, f"is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise _fail(field, f"has no time zone: {value!r}")
    return parsed


def _money(value: Any, field: str) -> Decimal:
    # Shopify sends prices as decimal strings; a JSON number would lose cents to binary floats.
    if not isinstance(value, str):
        raise _fail(field, f'must be a decimal string such as "49.90", got {value!r}')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _fail(field, f"is not a decimal amount: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount > 10**9:
        raise _fail(field, f"must be between 0 and 1,000,000,000, got {value!r}")
    return amount


def _currency(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isupper():
        raise _fail(field, f'must be an ISO 4217 code such as "USD", got {value!r}')
    return value


def _codes(order: dict[str, Any]) -> tuple[str, ...]:
    entries = order.get("discount_codes")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise _fail("discount_codes", f"must be a list, got {type(entries).__name__}")
    codes = []
    for index, entry in enumerate(entries):
        code = _object(entry, f"discount_codes[{index}]").get("code")
        if not isinstance(code, str) or not code.strip():
            raise _fail(
                f"discount_codes[{index}].code", f"must be a non-empty string, got {code!r}"
            )
        codes.append(normalise_code(code))
    return tuple(codes)


def _customer_id(order: dict[str, Any]) -> int | None:
    customer = order.get("customer")
    if customer is None:
        return None
    found = _object(customer, "customer").get("id")
    return None if found is None else _id(found, "customer.id")


def _customer_order_index(order: dict[str, Any]) -> int | None:
    journey = order.get("customerJourneySummary")
    if journey is None:
        return None
    index = _object(journey, "customerJourneySummary").get("customerOrderIndex")
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, int) or index < 1:
        raise _fail(
            "customerJourneySummary.customerOrderIndex",
            f"must be an integer from 1 (the first order), got {index!r}",
        )
    return index


def parse_order(payload: Any) -> ShopifyOrder:
    """An ``orders/create`` or ``orders/cancelled`` body."""
    order = _object(payload, "(body)")
    for name in ("id", "created_at", "currency", "total_price"):
        if name not in order:
            raise _fail(name, "required field is missing")
    cancelled = order.get("cancelled_at")
    return ShopifyOrder(
        order_id=_id(order["id"], "id"),
        created_at=_time(order["created_at"], "created_at"),
        cancelled_at=None if cancelled is None else _time(cancelled, "cancelled_at"),
        currency=_currency(order["currency"], "currency"),
        total_price=_money(order["total_price"], "total_price"),
        codes=_codes(order),
        customer_id=_customer_id(order),
        customer_order_index=_customer_order_index(order),
    )


def _refunded(transactions: Any) -> tuple[Decimal, str | None]:
    if not isinstance(transactions, list):
        raise _fail("transactions", f"must be a list, got {type(transactions).__name__}")
    total = Decimal(0)
    currency: str | None = None
    for index, entry in enumerate(transactions):
        transaction = _object(entry, f"transactions[{index}]")
        # Voids and failed or pending attempts return no money.
        if transaction.get("kind") != "refund" or transaction.get("status") != "success":
            continue
        field = f"transactions[{index}]"
        total += _money(transaction.get("amount"), f"{field}.amount")
        this = _currency(transaction.get("currency"), f"{field}.currency")
        if currency not in (None, this):
            raise _fail(f"{field}.currency", f"{this} differs from the refund's other {currency}")
        currency = this
    return total, currency


def parse_refund(payload: Any) -> ShopifyRefund:
    """A ``refunds/create`` body."""
    refund = _object(payload, "(body)")
    for name in ("id", "order_id", "created_at", "transactions"):
        if name not in refund:
            raise _fail(name, "required field is missing")
    amount, currency = _refunded(refund["transactions"])
    return ShopifyRefund(
        refund_id=_id(refund["id"], "id"),
        order_id=_id(refund["order_id"], "order_id"),
        created_at=_time(refund["created_at"], "created_at"),
        amount=amount,
        currency=currency,
    )
