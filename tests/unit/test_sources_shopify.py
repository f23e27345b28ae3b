"""Shopify webhooks: the signature over the raw body, and order and refund bodies parsed from the
documented REST shapes, each refusal naming the field."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from services.sources.common import SourceError
from services.sources.shopify import parse_order, parse_refund, signature_matches
from tests.shopify_payloads import CUSTOMER_ID, ORDER_ID, cancelled, order, refund

SECRET = "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"


def shopify_signature(secret: str, body: bytes) -> str:
    """As Shopify computes it: base64 of the HMAC-SHA256 digest of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_signature_of_the_raw_body_matches() -> None:
    body = orjson.dumps(order())
    assert signature_matches(SECRET, body, shopify_signature(SECRET, body))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "not base64 at all",
        shopify_signature("another-secret-of-the-same-size", b"{}"),
        shopify_signature(SECRET, b'{"id": 1}'),
        "ü" * 44,
    ],
)
def test_a_wrong_or_missing_signature_does_not_match(header: str | None) -> None:
    body = orjson.dumps(order())
    assert not signature_matches(SECRET, body, header)


def test_a_body_changed_after_signing_does_not_match() -> None:
    body = orjson.dumps(order())
    signature = shopify_signature(SECRET, body)
    # Re-serialised with other spacing: same JSON, other bytes; the signature covers the bytes.
    respaced = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
    assert not signature_matches(SECRET, respaced, signature)


def test_an_order_gives_its_total_codes_customer_and_time() -> None:
    parsed = parse_order(order(codes=("Ana10", " SPRING ")))

    assert parsed.order_id == ORDER_ID
    assert parsed.created_at == datetime(2026, 11, 30, 15, 15, tzinfo=UTC)
    assert (parsed.total_price, parsed.currency) == (Decimal("89.90"), "USD")
    assert parsed.codes == ("ANA10", "SPRING")
    assert parsed.customer_id == CUSTOMER_ID
    assert parsed.customer_order_index is None
    assert parsed.cancelled_at is None


def test_a_guest_order_and_one_without_codes() -> None:
    parsed = parse_order(order(codes=(), customer_id=None))
    assert (parsed.codes, parsed.customer_id) == ((), None)
    assert parse_order(order(discount_codes=None)).codes == ()


def test_the_customer_journey_order_index_is_read() -> None:
    journey = {"customerOrderIndex": 3, "daysToConversion": 2}
    assert parse_order(order(customerJourneySummary=journey)).customer_order_index == 3


def test_a_cancellation_has_its_time() -> None:
    assert parse_order(cancelled()).cancelled_at == datetime(2026, 12, 1, 14, tzinfo=UTC)


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ([], "(body)", "must be a JSON object"),
        (_without(order(), "id"), "id", "required field is missing"),
        (_without(order(), "total_price"), "total_price", "required field is missing"),
        (order(id="5678"), "id", "positive integer id"),
        (order(id=True), "id", "positive integer id"),
        (order(total_price=89.9), "total_price", "decimal string"),
        (order(total_price="eighty"), "total_price", "not a decimal"),
        (order(total_price="-1.00"), "total_price", "between 0"),
        (order(total_price="NaN"), "total_price", "between 0"),
        (order(currency="usd"), "currency", "ISO 4217"),
        (order(created_at="2026-11-30T10:15:00"), "created_at", "no time zone"),
        (order(created_at="yesterday"), "created_at", "not an ISO 8601"),
        (order(discount_codes={"code": "ANA10"}), "discount_codes", "must be a list"),
        (order(discount_codes=[{"amount": "8.00"}]), "discount_codes[0].code", "non-empty"),
        (order(customer={"id": "7001"}), "customer.id", "positive integer id"),
        (
            order(customerJourneySummary={"customerOrderIndex": 0}),
            "customerJourneySummary.customerOrderIndex",
            "from 1",
        ),
    ],
)
def test_a_malformed_order_is_refused_naming_the_field(body: Any, field: str, reason: str) -> None:
    with pytest.raises(SourceError) as refused:
        parse_order(body)
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_a_refund_is_the_sum_of_its_successful_refund_transactions() -> None:
    body = refund(41, ("30.00", "9.90"))
    body["transactions"].append(
        {"id": 1, "kind": "refund", "status": "failure", "amount": "500.00", "currency": "USD"}
    )
    body["transactions"].append(
        {"id": 2, "kind": "void", "status": "success", "amount": "500.00", "currency": "USD"}
    )

    parsed = parse_refund(body)

    assert (parsed.refund_id, parsed.order_id) == (41, ORDER_ID)
    assert (parsed.amount, parsed.currency) == (Decimal("39.90"), "USD")
    assert parsed.created_at == datetime(2026, 12, 1, 13, tzinfo=UTC)


def test_a_refund_that_returned_no_money_is_zero() -> None:
    parsed = parse_refund(refund(42, ("10.00",), status="pending"))
    assert (parsed.amount, parsed.currency) == (Decimal(0), None)


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (_without(refund(1, ("1.00",)), "order_id"), "order_id", "required field is missing"),
        (_without(refund(1, ("1.00",)), "transactions"), "transactions", "required field"),
        (refund(1, ("1.00",)) | {"transactions": {}}, "transactions", "must be a list"),
        (refund(1, ("1,00",)), "transactions[0].amount", "not a decimal"),
        (refund(1, ("1.00",), currency="dollars"), "transactions[0].currency", "ISO 4217"),
        (refund(1, ("1.00",), order_id=0), "order_id", "positive integer id"),
    ],
)
def test_a_malformed_refund_is_refused_naming_the_field(body: Any, field: str, reason: str) -> None:
    with pytest.raises(SourceError) as refused:
        parse_refund(body)
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_a_refund_in_two_currencies_is_refused() -> None:
    body = refund(1, ("1.00",))
    body["transactions"].append(body["transactions"][0] | {"id": 9, "currency": "EUR"})
    with pytest.raises(SourceError) as refused:
        parse_refund(body)
    assert refused.value.field == "transactions[1].currency"
