"""Shopify facts the domain decides on: shop domains, promo codes, new customers, reversal caps.

Why these rules (and what they cost) is in docs/shopify.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

SHOP_DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com$"
# Printable, no surrounding white space, at most Shopify's 255 characters.
_PROMO_CODE_PATTERN = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"


def normalise_shop_domain(value: str) -> str:
    return value.strip().lower()


def normalise_code(code: str) -> str:
    """Shopify matches discount codes case-insensitively: ``ana10`` and ``ANA10`` are one code."""
    return code.strip().upper()


ShopDomain = Annotated[
    str,
    AfterValidator(normalise_shop_domain),
    StringConstraints(max_length=77, pattern=SHOP_DOMAIN_PATTERN),
]
PromoCode = Annotated[
    str,
    AfterValidator(normalise_code),
    StringConstraints(min_length=1, max_length=255, pattern=_PROMO_CODE_PATTERN),
]


def is_new_customer(
    customer_order_index: int | None,
    customer_id: int | None,
    first_order_seen: int | None,
    order_id: int,
) -> bool:
    """The shop's own count wins when the payload has it (GraphQL ``customerOrderIndex``, 1 =
    first order); otherwise the customer is new on the first order seen from them here. An order
    without a customer (a guest checkout with no customer record) never counts as new."""
    if customer_order_index is not None:
        return customer_order_index == 1
    if customer_id is None:
        return False
    return first_order_seen == order_id


@dataclass(frozen=True, slots=True)
class OrderLedger:
    """What an attributed order brought and how much of it was already taken back."""

    revenue_micros: int
    reversed_micros: int
    new_customer: bool
    customer_reversed: bool


@dataclass(frozen=True, slots=True)
class ReversalShare:
    revenue_micros: int
    new_customer: bool

    @property
    def takes_anything(self) -> bool:
        return self.revenue_micros > 0 or self.new_customer


def reversal_share(ledger: OrderLedger, requested_micros: int | None) -> ReversalShare:
    """What one cancellation or refund takes back, never more than the order has left.

    ``requested_micros`` None is a cancellation: the rest of the order. The new customer goes back
    with the order's last unit of revenue, so a partial refund keeps the customer and the refund
    that empties the order (or the cancellation) takes them back, once.
    """
    remaining = max(ledger.revenue_micros - ledger.reversed_micros, 0)
    amount = remaining if requested_micros is None else min(max(requested_micros, 0), remaining)
    emptied = amount == remaining
    return ReversalShare(
        revenue_micros=amount,
        new_customer=ledger.new_customer and not ledger.customer_reversed and emptied,
    )
