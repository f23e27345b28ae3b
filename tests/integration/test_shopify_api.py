"""The API side of Shopify on both databases: a shop's webhook secret is write-only, and a
campaign's promo codes belong to one campaign of a shop, a conflicting mapping refused naming the
code."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from services.api.app import create_app
from services.api.settings import ApiSettings
from services.domain.keys import Scope
from tests.integration.conftest import bearer
from tests.integration.test_shopify import clear_shopify
from tests.shopify_payloads import SHOP

pytestmark = pytest.mark.integration

SECRET = "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"


@pytest.fixture
async def api(
    engine: Engine, database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FastAPI]:
    monkeypatch.setenv("PULSE_CONFIG_TOPIC", f"pulse.campaign-config.test-{uuid.uuid4().hex[:10]}")
    clear_shopify(engine)
    settings = ApiSettings.model_validate(
        {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def client_with(app: FastAPI, scopes: frozenset[Scope]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(
        transport=transport, base_url="http://pulse.test", headers=bearer(app, scopes)
    )


async def test_the_secret_is_stored_but_never_shown(api: FastAPI) -> None:
    writer = frozenset({Scope.CAMPAIGNS_WRITE, Scope.CAMPAIGNS_READ})
    async with client_with(api, writer) as client:
        stored = await client.put(f"/v1/sources/shopify/{SHOP}", json={"secret": SECRET})
        shown = await client.get(f"/v1/sources/shopify/{SHOP}")
        unknown = await client.get("/v1/sources/shopify/other.myshopify.com")
        not_a_shop = await client.put(
            "/v1/sources/shopify/shop.example.com", json={"secret": SECRET}
        )
        short = await client.put(f"/v1/sources/shopify/{SHOP}", json={"secret": "abc"})
    async with client_with(api, frozenset({Scope.CAMPAIGNS_READ})) as reader:
        refused = await reader.put(f"/v1/sources/shopify/{SHOP}", json={"secret": SECRET})

    assert stored.status_code == 200, stored.text
    assert SECRET not in stored.text and SECRET not in shown.text
    body = shown.json()
    assert (body["shop_domain"], body["secret_set"]) == (SHOP, True)
    assert (body["orders_seen"], body["unattributed_orders"]) == (0, 0)
    assert unknown.status_code == 404
    assert not_a_shop.status_code == 422
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "secret"]
    assert refused.status_code == 403
    assert api.state.shopify.secret(SHOP) == SECRET


async def test_a_code_belongs_to_one_campaign_of_a_shop(api: FastAPI) -> None:
    async with client_with(api, frozenset({Scope.ADMIN})) as client:
        first = await client.put(
            "/v1/campaigns/spring/config",
            json={"shop_domain": SHOP, "promo_codes": {"ana10": "ana", "Bo15": "bo"}},
        )
        taken = await client.put(
            "/v1/campaigns/summer/config",
            json={"shop_domain": SHOP, "promo_codes": {"ANA10": "cy", "CY5": "cy"}},
        )
        nothing_stored = await client.get("/v1/campaigns/summer/config")
        elsewhere = await client.put(
            "/v1/campaigns/autumn/config",
            json={"shop_domain": "other.myshopify.com", "promo_codes": {"ANA10": "dee"}},
        )
        released = await client.put(
            "/v1/campaigns/spring/config", json={"shop_domain": SHOP, "promo_codes": {"BO15": "bo"}}
        )
        retaken = await client.put(
            "/v1/campaigns/summer/config",
            json={"shop_domain": SHOP, "promo_codes": {"ana10": "cy"}},
        )
        shown = await client.get("/v1/campaigns/spring/config")

    assert first.status_code == 200, first.text
    assert first.json()["promo_codes"] == {"ANA10": "ana", "BO15": "bo"}
    assert taken.status_code == 409
    assert "'ANA10' (campaign 'spring')" in taken.json()["detail"]
    assert nothing_stored.status_code == 404
    assert elsewhere.status_code == 200, elsewhere.text
    assert (released.status_code, retaken.status_code) == (200, 200)
    assert shown.json()["promo_codes"] == {"BO15": "bo"}
    assert shown.json()["shop_domain"] == SHOP
