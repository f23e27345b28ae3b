"""Ingest in process against what a careless or hostile client sends: a key over its rate limit is
refused whole with 429 and Retry-After while other keys go on; bodies that would hurt a parser, and
bodies of another content type, are a 4xx that names what is wrong, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.integration.test_ingest import (
    client_of,
    ingest_settings,
    key_header,
    new_topic,
    on_topic,
    post_metrics,
    spend,
    started,
)

pytestmark = pytest.mark.integration

BURST = 50
NDJSON = {"content-type": "application/x-ndjson"}
DEEP = b"[" * 10_000 + b"]" * 10_000
HUGE_NUMBER = b"9" * 5_000


@pytest.fixture
async def client(app: FastAPI, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app, key_header(engine)) as producer:
        yield producer


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    return new_topic(kafka_bootstrap)


@pytest.fixture
async def app(kafka_bootstrap: str, database_url: str, topic: str) -> AsyncIterator[FastAPI]:
    # Slow enough that no token comes back during the test.
    settings = ingest_settings(
        kafka_bootstrap,
        database_url,
        topic,
        max_events_per_request=BURST,
        rate_limit_events_per_second=0.01,
        rate_limit_burst_events=BURST,
    )
    async with started(settings) as app:
        yield app


async def test_a_key_over_its_limit_gets_429_and_nothing_is_accepted(
    app: FastAPI, engine: Engine, client: httpx.AsyncClient, kafka_bootstrap: str, topic: str
) -> None:
    first = [post_metrics("limited", k) for k in range(BURST - 10)]
    over = [post_metrics("limited", k) for k in range(100, 120)]

    accepted = await client.post("/v1/events", content=orjson.dumps(first))
    refused = await client.post("/v1/events", content=orjson.dumps(over))
    async with client_of(app, key_header(engine)) as other:
        unaffected = await other.post("/v1/events", content=orjson.dumps(over))

    assert accepted.status_code == 202
    assert refused.status_code == 429
    assert "rate limit" in refused.json()["detail"]
    retry_after = int(refused.headers["retry-after"])
    assert retry_after >= 1
    assert unaffected.status_code == 202, unaffected.text
    seen = [
        event["event_id"] for _, _, batch in on_topic(kafka_bootstrap, topic) for event in batch
    ]
    assert sorted(seen) == sorted(e["event_id"] for e in first + over)


async def test_an_empty_bucket_is_refused_before_the_body_is_read(
    client: httpx.AsyncClient,
) -> None:
    spent = await client.post(
        "/v1/events", content=orjson.dumps([post_metrics("drained", k) for k in range(BURST)])
    )
    # Not JSON at all: only a refusal that comes before reading the body can answer 429 to it.
    refused = await client.post("/v1/events", content=b"{not json")

    assert spent.status_code == 202
    assert refused.status_code == 429


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "depth limit exceeded"),
        (b'{"views": ' + HUGE_NUMBER + b"}", "number is infinity"),
        (b'[{"campaign_id": "caf\xe9"}]', "not valid utf-8"),
        (b"[1, 2", "unexpected end"),
    ],
    ids=["nested-10000", "5000-digits", "invalid-utf8", "truncated"],
)
async def test_a_body_no_parser_should_take_is_400_naming_why(
    client: httpx.AsyncClient, body: bytes, reason: str
) -> None:
    response = await client.post("/v1/events", content=body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("body is not valid JSON")
    assert reason in response.json()["detail"].lower()


async def test_the_same_inside_ndjson_lines_is_named_by_line(client: httpx.AsyncClient) -> None:
    lines = [
        orjson.dumps(post_metrics("lines", 1)),
        DEEP,
        b'{"views": ' + HUGE_NUMBER + b"}",
        b'{"campaign_id": "caf\xe9"}',
    ]

    response = await client.post("/v1/events", content=b"\n".join(lines), headers=NDJSON)

    assert response.status_code == 202
    errors = {e["index"]: e for e in response.json()["errors"]}
    assert sorted(errors) == [1, 2, 3]
    assert all(e["field"] == "(line)" for e in errors.values())
    assert "depth limit" in errors[1]["reason"]
    assert "infinity" in errors[2]["reason"]
    assert "UTF-8" in errors[3]["reason"]


async def test_hostile_values_inside_an_event_name_the_field(client: httpx.AsyncClient) -> None:
    # A 5,000-digit number as a JSON number fails the whole body (above); as a string it reaches
    # the event's validation.
    events = [
        {**post_metrics("fields", 1), "likes": "9" * 5_000},
        {**spend("fields", 2, "USD"), "amount": "9" * 5_000},
        {**post_metrics("fields", 3), "platform": "NESTED"},
        {**post_metrics("fields", 4), "comments": {"a": {"b": [None] * 1_000}}},
    ]

    # 1,000 levels inside a field: within orjson's 1,024, past what it would write.
    nested = b"[" * 1_000 + b'"deep"' + b"]" * 1_000
    body = orjson.dumps(events).replace(b'"NESTED"', nested)

    response = await client.post("/v1/events", content=body)

    assert response.status_code == 422
    errors = {e["index"]: (e["field"], e["reason"]) for e in response.json()["errors"]}
    assert errors[0] == ("likes", "Input should be a valid integer")
    assert errors[1][0] == "amount"
    assert errors[1][1].startswith("Input should be less than or equal to")
    assert errors[2] == ("platform", "Input should be a valid string")
    assert errors[3] == ("comments", "Input should be a valid integer")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
)
async def test_another_content_type_is_415_naming_what_is_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/v1/events",
        content=orjson.dumps([post_metrics("typed", 1)]),
        headers={"content-type": content_type},
    )

    assert response.status_code == 415
    detail = response.json()["detail"]
    assert content_type.split(";")[0] in detail
    assert "application/json" in detail
    assert "application/x-ndjson" in detail
