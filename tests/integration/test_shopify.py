"""Shopify webhooks through the ingest service in process, over the suite's real broker and both
databases: a signed order with a mapped code is one conversion on the event topic, a retried
webhook id counts once (after a restart too), reversals never take back more than the order
brought, and what cannot be trusted or read is refused with a clear 4xx and a metric."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy import Engine, delete

from services.domain.config import CampaignConfig
from services.ingest.settings import IngestSettings
from services.storage.promo_codes import PromoCodeRow
from services.storage.shopify import (
    OrderSeen,
    ShopifyCustomerRow,
    ShopifyOrderRow,
    ShopifyRepository,
    ShopifyReversalRow,
    ShopifyShopRow,
    ShopifyWebhookRow,
)
from services.storage.webhooks import CampaignConfigRepository, CampaignConfigRow
from tests.integration.test_ingest import client_of, ingest_settings, new_topic, started
from tests.shopify_payloads import CUSTOMER_ID, ORDER_ID, SHOP, cancelled, order, refund

pytestmark = pytest.mark.integration

SECRET = "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"
CAMPAIGN = "spring-launch"
ORDER_EVENT = f"shopify:{SHOP}:order:{ORDER_ID}"


def clear_shopify(engine: Engine) -> None:
    """Empty the Shopify tables and the configurations: the PostgreSQL database lives for the
    session."""
    with engine.begin() as connection:
        for table in (
            ShopifyWebhookRow,
            ShopifyReversalRow,
            ShopifyOrderRow,
            ShopifyCustomerRow,
            PromoCodeRow,
            ShopifyShopRow,
            CampaignConfigRow,
        ):
            connection.execute(delete(table))


@pytest.fixture
def shop(engine: Engine) -> ShopifyRepository:
    """The shop's secret and the campaign's codes, on emptied tables."""
    clear_shopify(engine)
    store = ShopifyRepository(engine)
    store.set_secret(SHOP, SECRET, datetime.now(UTC))
    config = CampaignConfig(
        campaign_id=CAMPAIGN,
        updated_at=datetime.now(UTC),
        currency="USD",
        shop_domain=SHOP,
        promo_codes={"ANA10": "ana", "BO15": "bo"},
    )
    CampaignConfigRepository(engine).save(config)
    return store


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    return new_topic(kafka_bootstrap)


@pytest.fixture
def settings(kafka_bootstrap: str, database_url: str, topic: str) -> IngestSettings:
    return ingest_settings(kafka_bootstrap, database_url, topic, max_body_bytes=64 * 1024)


@pytest.fixture
async def ingest(settings: IngestSettings, shop: ShopifyRepository) -> AsyncIterator[FastAPI]:
    async with started(settings) as app:
        yield app


@pytest.fixture
async def shopify(ingest: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Shopify's side: no API key, only the signature."""
    async with client_of(ingest, {}) as client:
        yield client


async def deliver(
    client: httpx.AsyncClient,
    topic: str,
    body: Any,
    webhook_id: str | None = None,
    secret: str = SECRET,
    shop: str = SHOP,
) -> httpx.Response:
    raw = orjson.dumps(body)
    signature = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest())
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Hmac-Sha256": signature.decode(),
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-10",
    }
    return await client.post("/v1/sources/shopify", content=raw, headers=headers)


def events_on(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every event on the topic, read up to the partitions' end offsets: everything ingest had
    acknowledged when it answered, without waiting for silence."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        events: list[dict[str, Any]] = []
        while any(consumer.position(p) < ends[p] for p in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                events.extend(e for record in records for e in orjson.loads(record.value))
        return events
    finally:
        consumer.close()


def webhooks(topic: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "pulse_ingest_shopify_webhooks_total", {"topic": topic, "outcome": outcome}
    )
    return value or 0.0


async def test_a_signed_order_with_a_mapped_code_is_one_conversion(
    shopify: httpx.AsyncClient, settings: IngestSettings, kafka_bootstrap: str, topic: str
) -> None:
    accepted = await deliver(shopify, "orders/create", order(codes=("ana10",)), "wh-order-1")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["outcome"] == "accepted"
    duplicates = webhooks("orders/create", "duplicate")

    again = await deliver(shopify, "orders/create", order(codes=("ana10",)), "wh-order-1")
    async with started(settings) as restarted, client_of(restarted, {}) as after_restart:
        after = await deliver(after_restart, "orders/create", order(), "wh-order-1")

    assert again.json()["outcome"] == after.json()["outcome"] == "duplicate"
    assert webhooks("orders/create", "duplicate") == duplicates + 2
    [event] = events_on(kafka_bootstrap, topic)
    assert event == {
        "type": "conversion",
        "event_id": ORDER_EVENT,
        "campaign_id": CAMPAIGN,
        "creator_id": "ana",
        "occurred_at": "2026-11-30T15:15:00+00:00",
        "revenue": "89.9",
        "currency": "USD",
        "new_customer": True,
        "kind": "purchase",
        "attribution": "promo_code",
    }


async def test_reversals_never_take_back_more_than_the_order_brought(
    shopify: httpx.AsyncClient, kafka_bootstrap: str, topic: str
) -> None:
    await deliver(shopify, "orders/create", order(total_price="89.90"))

    partial = await deliver(shopify, "refunds/create", refund(41, ("30.00",)), "wh-refund-41")
    resent = await deliver(shopify, "refunds/create", refund(41, ("30.00",)))
    cancel = await deliver(shopify, "orders/cancelled", cancelled())
    late = await deliver(shopify, "refunds/create", refund(42, ("59.90",)))

    assert [r.json()["outcome"] for r in (partial, resent, cancel, late)] == [
        "accepted",
        "accepted",
        "accepted",
        "ignored",
    ]
    reversals = [e for e in events_on(kafka_bootstrap, topic) if e["type"] != "conversion"]
    taken = {(e["event_id"], e["revenue"], e["new_customer"]) for e in reversals}
    assert taken == {
        (f"shopify:{SHOP}:refund:41", "30", False),
        (f"shopify:{SHOP}:order:{ORDER_ID}:cancelled", "59.9", True),
    }
    assert {e["reverses"] for e in reversals} == {ORDER_EVENT}
    assert {e["occurred_at"] for e in reversals} == {
        "2026-12-01T13:00:00+00:00",
        "2026-12-01T14:00:00+00:00",
    }


async def test_orders_without_a_mapped_code_are_counted_not_dropped(
    shopify: httpx.AsyncClient, shop: ShopifyRepository, kafka_bootstrap: str, topic: str
) -> None:
    before = REGISTRY.get_sample_value(
        "pulse_ingest_shopify_unattributed_orders_total", {"shop": SHOP}
    )
    first = await deliver(shopify, "orders/create", order(1, codes=("FREESHIP",)))
    again = await deliver(shopify, "orders/create", order(1, codes=("FREESHIP",)))
    # The same customer's next order, with a creator's code: not a new customer any more.
    second = await deliver(shopify, "orders/create", order(2, codes=("bo15",)))
    refunded = await deliver(shopify, "refunds/create", refund(7, ("5.00",), order_id=1))

    assert [r.json()["outcome"] for r in (first, again, second, refunded)] == [
        "unattributed",
        "unattributed",
        "accepted",
        "unattributed",
    ]
    assert "FREESHIP" in first.json()["detail"]
    source = shop.source(SHOP)
    assert source is not None
    assert (source.orders_seen, source.unattributed_orders) == (2, 1)
    after = REGISTRY.get_sample_value(
        "pulse_ingest_shopify_unattributed_orders_total", {"shop": SHOP}
    )
    assert (after or 0) - (before or 0) == 1
    [conversion] = events_on(kafka_bootstrap, topic)
    assert (conversion["creator_id"], conversion["new_customer"]) == ("bo", False)


async def test_what_cannot_be_trusted_or_read_is_refused(
    shopify: httpx.AsyncClient, kafka_bootstrap: str, topic: str
) -> None:
    bad_signatures = webhooks("orders/create", "bad_signature")
    forged = await deliver(shopify, "orders/create", order(), secret="not-the-shop-secret-at-all")
    stranger = await deliver(shopify, "orders/create", order(), shop="elsewhere.myshopify.com")
    not_a_shop = await deliver(shopify, "orders/create", order(), shop="example.com")
    no_id = await shopify.post(
        "/v1/sources/shopify",
        content=b"{}",
        headers={
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": base64.b64encode(
                hmac.new(SECRET.encode(), b"{}", hashlib.sha256).digest()
            ).decode(),
        },
    )
    malformed = await deliver(shopify, "orders/create", order(total_price=89.9))
    other = await deliver(shopify, "products/update", {"id": 1})
    too_large = await deliver(shopify, "orders/create", order(note="x" * 70_000))

    assert (forged.status_code, stranger.status_code, not_a_shop.status_code) == (401, 401, 401)
    assert "HMAC-SHA256" in forged.json()["detail"]
    assert "PUT /v1/sources/shopify/elsewhere.myshopify.com" in stranger.json()["detail"]
    assert no_id.status_code == 400
    assert malformed.status_code == 422
    assert malformed.json()["detail"].startswith("total_price: must be a decimal string")
    assert (other.status_code, other.json()["outcome"]) == (200, "ignored")
    assert too_large.status_code == 413
    assert webhooks("orders/create", "bad_signature") == bad_signatures + 1
    assert events_on(kafka_bootstrap, topic) == []


def test_the_first_order_rule_holds_under_concurrent_requests(shop: ShopifyRepository) -> None:
    def record(order_id: int) -> bool:
        seen = OrderSeen(SHOP, order_id, CUSTOMER_ID, None, 10_000_000, "USD", datetime.now(UTC))
        stored, _ = shop.record_order(seen, (CAMPAIGN, "ana"))
        return stored.new_customer

    orders = [101, 102, 103, 104, 105, 106, 101, 102]
    with ThreadPoolExecutor(max_workers=6) as pool:
        verdicts = list(pool.map(record, orders))

    # One order is the customer's first, whichever won the race (twice if it was sent twice).
    firsts = {o for o, new in zip(orders, verdicts, strict=True) if new}
    assert len(firsts) == 1
    # Asked again, every order keeps the verdict it was first recorded with.
    assert [record(o) for o in (101, 102, 103, 104, 105, 106)].count(True) == 1
