"""Shopify orders over HTTP on the real stack, as a shop would send them: a signed orders/create
with a creator's code moves the campaign's new customers and revenue, the same webhook id sent
again does not, and a refund takes its amount back exactly once."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.harness import RunningStack, eventually
from tests.shopify_payloads import SHOP, order, refund

pytestmark = pytest.mark.e2e

SECRET = "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"
CAMPAIGN = "shopify-spring"


def deliver(stack: RunningStack, topic: str, body: dict[str, Any], webhook_id: str) -> str:
    raw = orjson.dumps(body)
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Webhook-Id": webhook_id,
    }
    # Shopify sends no API key: the signature is the authentication.
    url = f"{stack.config.ingest_url}/v1/sources/shopify"
    response = httpx.post(url, content=raw, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    outcome: str = response.json()["outcome"]
    return outcome


def totals_reach(stack: RunningStack, new_customers: int, revenue: float) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        view = stack.campaign(CAMPAIGN)
        totals: dict[str, Any] | None = view["totals"] if view else None
        if totals and (totals["new_customers"], totals["revenue"]) == (new_customers, revenue):
            return totals
        return None

    return eventually(reached, timeout=60)


def test_a_signed_order_counts_once_and_its_refund_goes_back_once(
    running_stack: RunningStack,
) -> None:
    api = running_stack.api
    assert api.put(f"/v1/sources/shopify/{SHOP}", json={"secret": SECRET}).status_code == 200
    config = {"currency": "USD", "shop_domain": SHOP, "promo_codes": {"ANA10": "ana"}}
    assert api.put(f"/v1/campaigns/{CAMPAIGN}/config", json=config).status_code == 200
    placed = (datetime.now(UTC) - timedelta(hours=2)).isoformat()

    first = order(1001, codes=("ana10",), customer_id=501, total_price="89.90", created_at=placed)
    assert deliver(running_stack, "orders/create", first, "wh-1") == "accepted"
    totals_reach(running_stack, new_customers=1, revenue=89.9)

    assert deliver(running_stack, "orders/create", first, "wh-1") == "duplicate"
    refunded = refund(77, ("30.00",), order_id=1001) | {"created_at": placed}
    assert deliver(running_stack, "refunds/create", refunded, "wh-2") == "accepted"
    assert deliver(running_stack, "refunds/create", refunded, "wh-2") == "duplicate"
    # Shopify's "resend" gives a new webhook id: the same refund, the same reversal event.
    assert deliver(running_stack, "refunds/create", refunded, "wh-3") == "accepted"
    # A later order of the campaign: once it counts, everything before it was applied.
    later = order(1002, codes=("ANA10",), customer_id=502, total_price="10.00", created_at=placed)
    assert deliver(running_stack, "orders/create", later, "wh-4") == "accepted"

    totals = totals_reach(running_stack, new_customers=2, revenue=69.9)
    assert totals["conversions"] == 2
