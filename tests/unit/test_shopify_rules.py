"""The Shopify rules of the domain: promo codes in a campaign's configuration, who is a new
customer, and how much a cancellation or a refund may take back."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.domain.config import CampaignSettings
from services.domain.shopify import OrderLedger, is_new_customer, reversal_share

SHOP = "pulse-demo.myshopify.com"


def test_codes_are_normalised_and_the_shop_domain_lower_cased() -> None:
    settings = CampaignSettings(
        shop_domain="Pulse-Demo.myshopify.com", promo_codes={" ana10 ": "ana", "Bo-5": "bo"}
    )
    assert settings.shop_domain == SHOP
    assert settings.promo_codes == {"ANA10": "ana", "BO-5": "bo"}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"promo_codes": {"ANA10": "ana"}}, "promo_codes", "need shop_domain"),
        (
            {"shop_domain": SHOP, "promo_codes": {"ana10": "ana", "ANA10": "bo"}},
            "promo_codes",
            "'ana10' and 'ANA10' are the same code",
        ),
        ({"shop_domain": "shop.example.com"}, "shop_domain", "should match pattern"),
        ({"shop_domain": SHOP, "promo_codes": {"": "ana"}}, "promo_codes", "at least 1"),
        ({"shop_domain": SHOP, "promo_codes": {"ANA10": "not an id"}}, "promo_codes", "pattern"),
    ],
)
def test_bad_codes_are_refused_naming_the_field(
    body: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        CampaignSettings.model_validate(body)
    error = refused.value.errors()[0]
    assert error["loc"][0] == field
    assert reason in error["msg"]


@pytest.mark.parametrize(
    ("index", "customer", "first_seen", "new"),
    [
        (None, 7, 100, True),  # the first order seen from customer 7 is this one
        (None, 7, 99, False),  # an earlier order of theirs was seen
        (None, None, None, False),  # a guest checkout
        (1, 7, 99, True),  # the shop says it is their first order: it wins
        (4, 7, 100, False),  # the shop says it is their fourth
    ],
)
def test_new_customer_rule(
    index: int | None, customer: int | None, first_seen: int | None, new: bool
) -> None:
    assert is_new_customer(index, customer, first_seen, 100) is new


def ledger(reversed_micros: int = 0, customer_reversed: bool = False) -> OrderLedger:
    return OrderLedger(100, reversed_micros, True, customer_reversed)


def test_a_cancellation_takes_the_rest_and_the_customer() -> None:
    share = reversal_share(ledger(reversed_micros=30), None)
    assert (share.revenue_micros, share.new_customer) == (70, True)


def test_a_partial_refund_keeps_the_customer_until_the_order_is_emptied() -> None:
    first = reversal_share(ledger(), 30)
    assert (first.revenue_micros, first.new_customer) == (30, False)
    last = reversal_share(ledger(reversed_micros=30), 70)
    assert (last.revenue_micros, last.new_customer) == (70, True)


def test_a_refund_beyond_what_is_left_is_capped() -> None:
    share = reversal_share(ledger(reversed_micros=60), 500)
    assert (share.revenue_micros, share.new_customer) == (40, True)


def test_after_a_cancellation_a_refund_takes_nothing() -> None:
    share = reversal_share(ledger(reversed_micros=100, customer_reversed=True), 30)
    assert not share.takes_anything
    assert not reversal_share(
        ledger(reversed_micros=100, customer_reversed=True), None
    ).takes_anything


def test_a_refund_without_money_takes_nothing_from_an_open_order() -> None:
    assert not reversal_share(ledger(), 0).takes_anything
