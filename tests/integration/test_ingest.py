"""The ingest service in process over a real broker and database: what it accepts is on the event
topic exactly once, packed by partition (the default) or keyed by campaign; what it refuses is
named by index, field and reason; it answers 413 to too much and 503 with Retry-After when the
broker does not acknowledge; it wants a key with events:write."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine

from services.domain.keys import Scope
from services.domain.views import CampaignView, CreatorView
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.runtime.broker import free_port
from services.runtime.topics import TopicSpec, campaign_partition, ensure_topics
from services.service_layer.access import issue_key
from services.storage.keys import KeyRepository
from services.storage.repository import StatusRepository

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]
WRITER = frozenset({Scope.EVENTS_WRITE})
POSTED = datetime.now(UTC) - timedelta(days=1)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def post_metrics(campaign_id: str, k: int) -> dict[str, Any]:
    return {
        "type": "post_metrics",
        "event_id": f"{campaign_id}-{k}",
        "campaign_id": campaign_id,
        "creator_id": f"creator-{k % 3}",
        "platform": "tiktok",
        "post_id": f"post-{k % 7}",
        "posted_at": _iso(POSTED),
        "observed_at": _iso(POSTED + timedelta(minutes=k + 1)),
        "followers": 12_000,
        "views": 100 * (k + 1),
        "likes": 5 * (k + 1),
        "comments": k,
        "shares": 0,
        "saves": 1,
        "clicks": 2,
    }


def spend(campaign_id: str, k: int, currency: str) -> dict[str, Any]:
    return {
        "type": "spend",
        "event_id": f"{campaign_id}-spend-{k}",
        "campaign_id": campaign_id,
        "creator_id": "creator-0",
        "occurred_at": _iso(POSTED),
        "amount": 150.25,
        "currency": currency,
    }


def key_header(engine: Engine, scopes: frozenset[Scope] = WRITER) -> dict[str, str]:
    """The header of a new key on the database ingest authenticates against."""
    issued = issue_key(KeyRepository(engine), f"producer-{uuid.uuid4().hex[:6]}", scopes)
    return {"Authorization": f"Bearer {issued.key}"}


def client_of(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://ingest.test", headers=headers)


@asynccontextmanager
async def started(settings: IngestSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def ingest_settings(
    bootstrap: str, database_url: str, topic: str, **overrides: Any
) -> IngestSettings:
    return IngestSettings.model_validate(
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "DATABASE_URL": database_url,
            "PULSE_EVENTS_TOPIC": topic,
            "partitions": 2,
            **overrides,
        }
    )


def new_topic(bootstrap: str) -> str:
    name = f"ingest-test-{uuid.uuid4().hex[:8]}.events"
    ensure_topics(bootstrap, [TopicSpec(name, 2)])
    return name


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    return new_topic(kafka_bootstrap)


@pytest.fixture
async def app(
    kafka_bootstrap: str, repository: StatusRepository, database_url: str, topic: str
) -> AsyncIterator[FastAPI]:
    settings = ingest_settings(
        kafka_bootstrap,
        database_url,
        topic,
        max_body_bytes=1024 * 1024,
        max_events_per_request=1200,
    )
    async with started(settings) as app:
        yield app


@pytest.fixture
async def client(app: FastAPI, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A producer holding a key with events:write only."""
    async with client_of(app, key_header(engine)) as client:
        yield client


def on_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, int, list[dict[str, Any]]]]:
    """Every message on the topic as (key, partition, events), read until none has come for two
    seconds."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [
            (message.key, message.partition, orjson.loads(message.value)) for message in consumer
        ]
    finally:
        consumer.close()


def mixed_request() -> list[dict[str, Any]]:
    events = [post_metrics(f"camp-{k % 4}", k) for k in range(1100)]
    return events + [spend("camp-0", k, "USD") for k in range(100)]


async def test_accepted_events_are_on_the_topic_once_packed_by_partition(
    client: httpx.AsyncClient, kafka_bootstrap: str, topic: str
) -> None:
    events = mixed_request()

    response = await client.post("/v1/events", content=orjson.dumps(events))

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1200, "rejected": 0, "errors": []}
    messages = on_topic(kafka_bootstrap, topic)
    seen = Counter(event["event_id"] for _, _, batch in messages for event in batch)
    assert seen == Counter(event["event_id"] for event in events)
    assert all(len(batch) <= 500 for _, _, batch in messages)
    for key, partition, batch in messages:
        assert key is None
        assert {campaign_partition(e["campaign_id"], 2) for e in batch} == {partition}
    # Packed: each partition's events fill messages of up to 500, whatever campaigns they hold.
    per_partition = Counter(campaign_partition(e["campaign_id"], 2) for e in events)
    assert len(messages) == sum(-(-count // 500) for count in per_partition.values())
    for campaign in {event["campaign_id"] for event in events}:
        in_order = [
            e["event_id"] for _, _, b in messages for e in b if e["campaign_id"] == campaign
        ]
        assert in_order == [e["event_id"] for e in events if e["campaign_id"] == campaign]


async def test_keyed_mode_puts_each_campaign_in_messages_keyed_by_it(
    kafka_bootstrap: str, database_url: str, engine: Engine, topic: str
) -> None:
    events = mixed_request()
    settings = ingest_settings(
        kafka_bootstrap,
        database_url,
        topic,
        pack_by_partition=False,
        max_events_per_request=1200,
    )
    async with started(settings) as app, client_of(app, key_header(engine)) as client:
        response = await client.post("/v1/events", content=orjson.dumps(events))

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1200, "rejected": 0, "errors": []}
    messages = on_topic(kafka_bootstrap, topic)
    seen = Counter(event["event_id"] for _, _, batch in messages for event in batch)
    assert seen == Counter(event["event_id"] for event in events)
    assert all(len(batch) <= 500 for _, _, batch in messages)
    for key, partition, batch in messages:
        assert {event["campaign_id"].encode() for event in batch} == {key}
        assert key is not None and campaign_partition(key.decode(), 2) == partition


async def test_each_bad_item_is_named_by_index_field_and_reason(
    client: httpx.AsyncClient, kafka_bootstrap: str, topic: str
) -> None:
    good = post_metrics("strict", 1)
    items: list[Any] = [
        good,
        {**good, "event_id": "negative", "views": -1},
        "not an event",
        {**good, "event_id": "tweet", "type": "tweet"},
        {**good, "event_id": "unix-time", "observed_at": 1_700_000_000},
    ]

    response = await client.post("/v1/events", content=orjson.dumps(items))

    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 4)
    by_index = {error["index"]: (error["field"], error["reason"]) for error in body["errors"]}
    assert by_index[1] == ("views", "Input should be greater than or equal to 0")
    assert by_index[2] == ("(event)", "an event must be a JSON object")
    assert by_index[3][0] == "type"
    assert by_index[3][1].startswith("unknown event type")
    assert by_index[4][0] == "observed_at"
    assert "RFC 3339" in by_index[4][1]
    assert [
        event["event_id"] for _, _, batch in on_topic(kafka_bootstrap, topic) for event in batch
    ] == [good["event_id"]]

    nothing_valid = await client.post("/v1/events", content=orjson.dumps(items[1:]))
    assert nothing_valid.status_code == 422
    assert nothing_valid.json()["accepted"] == 0
    assert len(nothing_valid.json()["errors"]) == 4


async def test_ndjson_lines_that_are_not_json_are_named(client: httpx.AsyncClient) -> None:
    lines = [
        orjson.dumps(post_metrics("lines", 1)),
        b"{not json",
        orjson.dumps(post_metrics("lines", 2)),
    ]

    response = await client.post(
        "/v1/events", content=b"\n".join(lines), headers={"content-type": "application/x-ndjson"}
    )

    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 1)
    (error,) = body["errors"]
    assert (error["index"], error["field"]) == (1, "(line)")
    assert error["reason"].startswith("invalid JSON")


async def test_a_currency_other_than_the_campaigns_stored_one_is_refused(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    campaign, creators = views("euro", {"ana": "healthy"}, currency="EUR")
    repository.save([campaign], creators)

    refused = await client.post("/v1/events", content=orjson.dumps([spend("euro", 1, "USD")]))
    accepted = await client.post(
        "/v1/events",
        content=orjson.dumps([spend("euro", 2, "EUR"), post_metrics("euro", 3)]),
    )

    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["index"], error["field"]) == (0, "currency")
    assert "USD differs from campaign euro's currency EUR" in error["reason"]
    assert accepted.status_code == 202
    assert accepted.json()["accepted"] == 2


async def test_too_much_is_413(client: httpx.AsyncClient) -> None:
    too_large = await client.post("/v1/events", content=b"[" + b" " * 1100 * 1024 + b"]")
    too_many = await client.post(
        "/v1/events", content=orjson.dumps([post_metrics("many", k) for k in range(1201)])
    )

    assert too_large.status_code == 413
    assert too_many.status_code == 413
    assert "1201 events" in too_many.json()["detail"]


async def test_no_broker_acknowledgement_is_503_with_retry_after(
    database_url: str, engine: Engine
) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    app = create_app(ingest_settings(nobody, database_url, "unreachable", broker_timeout_seconds=1))
    async with client_of(app, key_header(engine)) as client:
        response = await client.post("/v1/events", content=orjson.dumps([post_metrics("lost", 1)]))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "nothing was accepted" in response.json()["detail"]


async def test_a_key_is_needed_and_it_needs_events_write(app: FastAPI, engine: Engine) -> None:
    body = orjson.dumps([post_metrics("keyed", 1)])
    async with client_of(app, {}) as anonymous:
        missing = await anonymous.post("/v1/events", content=body)
    async with client_of(app, key_header(engine, frozenset({Scope.CAMPAIGNS_READ}))) as reader:
        wrong_scope = await reader.post("/v1/events", content=body)
    async with client_of(app, {}) as anonymous:
        health = await anonymous.get("/healthz")

    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong_scope.status_code == 403
    assert "events:write" in wrong_scope.json()["detail"]
    assert health.status_code == 200
