"""Webhook and campaign-configuration storage on both databases, and their API routes, with the
configuration produced to a real broker."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient
from sqlalchemy import Engine, delete

from services.api import config_publisher
from services.api.app import create_app
from services.api.settings import ApiSettings
from services.domain.alerts import Alert
from services.domain.config import CampaignConfig
from services.notifier.signing import new_secret
from services.runtime.topics import TopicSpec, ensure_topics
from services.storage.alerts import AlertRepository
from services.storage.webhooks import (
    CampaignConfigRepository,
    CampaignConfigRow,
    WebhookCursorRow,
    WebhookRepository,
    WebhookRow,
)
from tests.alerts import firing_alert
from tests.integration.conftest import bearer

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 8, 12, tzinfo=UTC)
# A public address: no name to resolve, on a machine without a resolver too.
PUBLIC_URL = "https://93.184.215.14/pulse"


@pytest.fixture
def clean_engine(engine: Engine) -> Engine:
    """The PostgreSQL test database lives for the session: start each test without webhooks."""
    with engine.begin() as connection:
        connection.execute(delete(WebhookCursorRow))
        connection.execute(delete(WebhookRow))
        connection.execute(delete(CampaignConfigRow))
    return engine


def _alert(campaign_id: str) -> Alert:
    return firing_alert(campaign_id, "engagement rate by views fell 40 %", AT)


# Repositories


def test_webhooks_are_created_listed_and_deleted(clean_engine: Engine) -> None:
    webhooks = WebhookRepository(clean_engine)
    given = new_secret()

    first = webhooks.create("https://hooks.example/a", "generic")
    second = webhooks.create("https://hooks.example/b", "slack", secret=given)

    assert first.secret.startswith("whsec_") and first.secret != second.secret
    assert second.secret == given
    assert [w.webhook_id for w in webhooks.list_active()] == [first.webhook_id, second.webhook_id]
    assert webhooks.list_active()[1] == second
    assert webhooks.delete(first.webhook_id) is True
    assert webhooks.delete(first.webhook_id) is False
    assert webhooks.delete("wh_unknown") is False
    assert [w.webhook_id for w in webhooks.find()] == [second.webhook_id]


def test_a_new_webhook_starts_at_the_end_of_the_outbox(clean_engine: Engine) -> None:
    alerts = AlertRepository(clean_engine)
    alerts.apply([_alert(f"camp-{uuid.uuid4().hex[:8]}")])
    head = alerts.latest_event_id()
    assert head > 0

    webhook = WebhookRepository(clean_engine).create("http://127.0.0.1:9/", "generic")

    assert WebhookRepository(clean_engine).cursor(webhook.webhook_id) == head


def test_a_cursor_only_moves_forward(clean_engine: Engine) -> None:
    webhooks = WebhookRepository(clean_engine)
    webhook = webhooks.create("http://127.0.0.1:9/", "generic")
    start = webhooks.cursor(webhook.webhook_id)

    webhooks.advance(webhook.webhook_id, start + 5)
    webhooks.advance(webhook.webhook_id, start + 3)

    assert webhooks.cursor(webhook.webhook_id) == start + 5
    with pytest.raises(KeyError):
        webhooks.cursor("wh_unknown")


def test_campaign_configs_round_trip_exactly_and_are_replaced(clean_engine: Engine) -> None:
    configs = CampaignConfigRepository(clean_engine)
    config = CampaignConfig(
        campaign_id="spring",
        target_cac=Decimal("12.345678"),
        budget=Decimal("250000"),
        currency="EUR",
        sensitivity="high",
        time_zone="Europe/Berlin",
        updated_at=AT,
    )

    configs.save(config)
    assert configs.get("spring") == config

    replaced = CampaignConfig(campaign_id="spring", updated_at=AT.replace(hour=13))
    configs.save(replaced)
    assert configs.get("spring") == replaced
    assert replaced.sensitivity == "normal"
    assert configs.get("summer") is None


# API


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def config_topic(monkeypatch: pytest.MonkeyPatch) -> str:
    topic = f"pulse.campaign-config.test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("PULSE_CONFIG_TOPIC", topic)
    return topic


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding an admin key."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://pulse.test", headers=bearer(app)
        ) as client:
            yield client


@pytest.fixture
async def client(
    clean_engine: Engine, database_url: str, kafka_bootstrap: str, config_topic: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings.model_validate(
        {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    )
    async for client in _client(create_app(settings)):
        yield client


@pytest.fixture
async def brokerless_client(
    clean_engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, config_topic: str
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("PULSE_API_CONFIG_PRODUCE_TIMEOUT_SECONDS", "1")
    settings = ApiSettings.model_validate(
        {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}"}
    )
    async for client in _client(create_app(settings)):
        yield client


def _error_fields(response: httpx.Response) -> list[tuple[object, ...]]:
    assert response.status_code == 422, response.text
    return [tuple(error["loc"]) for error in response.json()["detail"]]


async def test_a_webhook_secret_is_shown_once_then_masked(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/webhooks", json={"url": PUBLIC_URL, "format": "slack"})

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["url"] == PUBLIC_URL
    assert body["format"] == "slack" and body["active"] is True
    assert (body["disabled_reason"], body["failing_since"], body["last_error"]) == (None,) * 3
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 38

    listed = (await client.get("/v1/webhooks")).json()["items"]
    assert [w["webhook_id"] for w in listed] == [body["webhook_id"]]
    assert listed[0]["secret"] == "********" + secret[-4:]


async def test_a_given_secret_is_kept_and_format_defaults_to_generic(
    client: httpx.AsyncClient,
) -> None:
    secret = new_secret()
    response = await client.post("/v1/webhooks", json={"url": PUBLIC_URL, "secret": secret})

    assert response.status_code == 201
    assert (response.json()["secret"], response.json()["format"]) == (secret, "generic")


async def test_a_webhook_subscribes_to_alerts_unless_it_names_its_events(
    client: httpx.AsyncClient,
) -> None:
    default = await client.post("/v1/webhooks", json={"url": PUBLIC_URL})
    reviews = await client.post(
        "/v1/webhooks", json={"url": PUBLIC_URL, "events": ["report.weekly"]}
    )

    assert default.json()["events"] == ["alerts"]
    assert reviews.json()["events"] == ["report.weekly"]
    listed = {
        w["webhook_id"]: w["events"] for w in (await client.get("/v1/webhooks")).json()["items"]
    }
    assert listed[reviews.json()["webhook_id"]] == ["report.weekly"]


async def test_deleting_a_webhook_stops_listing_it(client: httpx.AsyncClient) -> None:
    created = (await client.post("/v1/webhooks", json={"url": PUBLIC_URL})).json()

    deleted = await client.delete(f"/v1/webhooks/{created['webhook_id']}")
    again = await client.delete(f"/v1/webhooks/{created['webhook_id']}")

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert (await client.get("/v1/webhooks")).json() == {"items": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://files.example/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": PUBLIC_URL, "format": "teams"}, "format"),
        ({"url": PUBLIC_URL, "secret": "short"}, "secret"),
        ({"url": PUBLIC_URL, "secret": "k" * 40}, "secret"),
        ({"url": PUBLIC_URL, "secret": "whsec_not base64!"}, "secret"),
        ({"url": PUBLIC_URL, "secret": "whsec_" + "QUJD" * 7}, "secret"),  # 21 bytes
        ({"url": PUBLIC_URL, "secret": "whsec_" + "QUJD" * 30}, "secret"),  # 90 bytes
        ({"url": PUBLIC_URL, "events": ["firing"]}, "events"),
        ({"url": "http://127.0.0.1/hook"}, "url"),
        ({"url": "http://0177.0.0.1/hook"}, "url"),
        ({"url": "http://[::ffff:169.254.169.254]/"}, "url"),
        ({"url": "http://localhost:8000/"}, "url"),
        ({"url": "http://10.1.2.3/"}, "url"),
        ({"url": "http://nowhere.invalid/"}, "url"),
        ({}, "url"),
    ],
)
async def test_invalid_webhooks_are_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/webhooks", json=body)

    # An item of a list is named by its index after the field: ("body", "events", 0).
    assert ("body", field) in [loc[:2] for loc in _error_fields(response)]
    assert (await client.get("/v1/webhooks")).json() == {"items": []}


async def test_a_config_is_stored_and_produced_to_the_compacted_topic(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    config_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created_topics: list[TopicSpec] = []

    def recording_ensure_topics(bootstrap_servers: str, topics: list[TopicSpec]) -> None:
        created_topics.extend(topics)
        ensure_topics(bootstrap_servers, topics)

    monkeypatch.setattr(config_publisher, "ensure_topics", recording_ensure_topics)
    sent = {"target_cac": 12.5, "budget": "40000", "currency": "EUR", "sensitivity": "high"}

    response = await client.put("/v1/campaigns/spring/config", json=sent)

    assert response.status_code == 200, response.text
    stored = CampaignConfig.model_validate(response.json())
    assert (stored.campaign_id, stored.target_cac, stored.budget) == (
        "spring",
        Decimal("12.5"),
        Decimal("40000"),
    )
    assert (stored.currency, stored.sensitivity) == ("EUR", "high")
    fetched = await client.get("/v1/campaigns/spring/config")
    assert CampaignConfig.model_validate(fetched.json()) == stored

    consumer = KafkaConsumer(
        config_topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
    )
    try:
        message = next(iter(consumer))
    finally:
        consumer.close()
    assert message.key == b"spring"
    assert CampaignConfig.model_validate_json(message.value) == stored

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert len(admin.describe_topics([config_topic])[0]["partitions"]) == 4
    finally:
        admin.close()
    # The embedded broker does not answer DescribeConfigs: check what the topic was created with.
    assert created_topics == [TopicSpec(config_topic, 4, {"cleanup.policy": "compact"})]


async def test_a_new_config_replaces_the_old_one(client: httpx.AsyncClient) -> None:
    await client.put("/v1/campaigns/spring/config", json={"budget": 10, "currency": "USD"})

    response = await client.put("/v1/campaigns/spring/config", json={"sensitivity": "low"})

    assert response.status_code == 200
    body = (await client.get("/v1/campaigns/spring/config")).json()
    assert body["budget"] is None and body["currency"] is None
    assert body["sensitivity"] == "low"


async def test_a_campaign_without_config_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/campaigns/nobody/config")

    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_cac": 0, "currency": "EUR"}, "target_cac"),
        ({"target_cac": -3, "currency": "EUR"}, "target_cac"),
        ({"budget": -1, "currency": "EUR"}, "budget"),
        ({"budget": "lots", "currency": "EUR"}, "budget"),
        ({"currency": "euro"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"budget": 100}, "currency"),
        ({"sensitivity": "extreme"}, "sensitivity"),
        ({"sensitivity": "high", "threshold": 0.2}, "threshold"),
    ],
)
async def test_invalid_configs_are_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.put("/v1/campaigns/spring/config", json=body)

    assert ("body", field) in _error_fields(response)
    assert (await client.get("/v1/campaigns/spring/config")).status_code == 404


async def test_an_invalid_campaign_id_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/campaigns/%20bad%20id/config", json={})

    assert ("path", "campaign_id") in _error_fields(response)


async def test_a_config_the_broker_did_not_acknowledge_is_not_stored(
    brokerless_client: httpx.AsyncClient,
) -> None:
    response = await brokerless_client.put(
        "/v1/campaigns/spring/config", json={"target_cac": 20, "currency": "EUR"}
    )

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "nothing was stored" in response.json()["detail"]
    assert (await brokerless_client.get("/v1/campaigns/spring/config")).status_code == 404
