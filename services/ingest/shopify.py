"""``POST /v1/sources/shopify``: Shopify's order and refund webhooks, authenticated by their
signature instead of an API key.

Shopify signs the raw body with the shop's webhook secret (``X-Shopify-Hmac-Sha256``), which the
campaign team stores with ``PUT /v1/sources/shopify/{shop_domain}`` on the API. Nothing is read
from the body before the signature matches. Shopify retries anything but a quick 2xx with the same
``X-Shopify-Webhook-Id``: a webhook id already handled answers 200 ``duplicate`` and does nothing;
it is remembered in the database only once its events were acknowledged by the broker, so a
webhook refused with 503 is handled in full when it comes back. Topics Campaign Pulse does not
read answer 200 ``ignored`` (a 4xx would make Shopify retry them for nothing).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from services.domain.shopify import SHOP_DOMAIN_PATTERN, normalise_shop_domain
from services.ingest import telemetry
from services.ingest.body import read_body
from services.ingest.publisher import BrokerUnavailable, EventPublisher
from services.ingest.settings import IngestSettings
from services.service_layer.shopify import TOPICS, Handled, handle_webhook
from services.sources.common import SourceError
from services.sources.shopify import signature_matches
from services.storage.shopify import ShopifyRepository

_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_SHOP = re.compile(SHOP_DOMAIN_PATTERN)


class ShopifyReceipt(BaseModel):
    outcome: Literal["accepted", "duplicate", "unattributed", "ignored"]
    events: int
    detail: str


def _refused(status: int, topic: str, outcome: str, detail: str) -> HTTPException:
    telemetry.SHOPIFY_WEBHOOKS.labels(topic, outcome).inc()
    return HTTPException(status, detail)


def shopify_router(
    settings: IngestSettings, publisher: EventPublisher, store: ShopifyRepository
) -> APIRouter:
    router = APIRouter(tags=["sources"])

    @router.post(
        "/v1/sources/shopify",
        response_model=ShopifyReceipt,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
        responses={
            400: {"description": "no webhook id, or the body is not JSON"},
            401: {"description": "unknown shop, or the signature does not match; nothing done"},
            413: {"description": "body too large"},
            422: {"description": "the order or refund is malformed (field and reason named)"},
            503: {"description": "the broker did not acknowledge; retry after Retry-After"},
        },
    )
    async def receive_shopify_webhook(
        request: Request,
        shop_domain: Annotated[str | None, Header(alias="X-Shopify-Shop-Domain")] = None,
        signature: Annotated[str | None, Header(alias="X-Shopify-Hmac-Sha256")] = None,
        topic: Annotated[str | None, Header(alias="X-Shopify-Topic")] = None,
        webhook_id: Annotated[str | None, Header(alias="X-Shopify-Webhook-Id")] = None,
    ) -> ShopifyReceipt:
        """Receive an `orders/create`, `orders/cancelled` or `refunds/create` webhook from a shop
        whose secret is registered; see the README's "Shopify" part."""
        label = topic if topic in TOPICS else "other"
        shop = normalise_shop_domain(shop_domain or "")
        if not _SHOP.fullmatch(shop):
            raise _refused(
                401, label, "unknown_shop", "X-Shopify-Shop-Domain must name a *.myshopify.com shop"
            )
        body = await read_body(request, settings.max_body_bytes)
        secret = await run_in_threadpool(store.secret, shop)
        if secret is None:
            raise _refused(
                401,
                label,
                "unknown_shop",
                f"shop {shop} has no webhook secret: PUT /v1/sources/shopify/{shop} on the API",
            )
        if not signature_matches(secret, body, signature):
            raise _refused(
                401,
                label,
                "bad_signature",
                "X-Shopify-Hmac-Sha256 is not the HMAC-SHA256 of the body with the shop's secret",
            )
        if webhook_id is None or not _WEBHOOK_ID.fullmatch(webhook_id):
            raise _refused(
                400, label, "malformed", "X-Shopify-Webhook-Id is missing or not a webhook id"
            )
        if await run_in_threadpool(store.seen_webhook, shop, webhook_id):
            telemetry.SHOPIFY_WEBHOOKS.labels(label, "duplicate").inc()
            return ShopifyReceipt(
                outcome="duplicate", events=0, detail=f"webhook {webhook_id} was already handled"
            )
        handled = await _handle(shop, topic or "", label, body)
        if handled.events:
            items = [(event["campaign_id"], event) for event in handled.events]
            try:
                await run_in_threadpool(publisher.publish, items)
            except BrokerUnavailable as exc:
                telemetry.BROKER_FAILURES.inc()
                telemetry.SHOPIFY_WEBHOOKS.labels(label, "broker_unavailable").inc()
                raise HTTPException(
                    503,
                    f"the event broker did not acknowledge ({exc}); nothing was accepted, retry",
                    headers={"Retry-After": str(settings.retry_after_seconds)},
                ) from exc
            telemetry.record_accepted(event["type"] for event in handled.events)
        await run_in_threadpool(
            store.remember_webhook,
            shop,
            webhook_id,
            topic or "",
            handled.outcome,
            datetime.now(UTC),
        )
        telemetry.SHOPIFY_WEBHOOKS.labels(label, handled.outcome).inc()
        if handled.new_unattributed_order:
            telemetry.SHOPIFY_UNATTRIBUTED.labels(shop).inc()
        return ShopifyReceipt(
            outcome=handled.outcome, events=len(handled.events), detail=handled.detail
        )

    async def _handle(shop: str, topic: str, label: str, body: bytes) -> Handled:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _refused(400, label, "malformed", f"body is not valid JSON: {exc}") from exc
        try:
            return await run_in_threadpool(handle_webhook, store, shop, topic, payload)
        except SourceError as exc:
            raise _refused(422, label, "malformed", f"{exc.field}: {exc.reason}") from exc

    return router
