"""Keys over HTTP: who gets in (401 and why), what they may do (403 naming the scope), keys shown
once and stored only as a hash, revocation, expiry, status-page sessions, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from services.api.app import create_app
from services.api.settings import ApiSettings
from services.domain.keys import Scope, generate_key
from services.service_layer.access import issue_key
from services.storage.keys import ApiKeyRow
from tests.integration.conftest import bearer


def _with(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "an API key is needed"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "must read 'Bearer <API key>'"),
        (_with("pulse_short"), "characters long"),
        (_with("ghp_" + "a" * 36), "starts with 'pulse_'"),
        (_with(generate_key()[:-1] + "0"), "checksum"),
        (_with(generate_key()), "not known"),
    ],
)
async def test_requests_without_a_usable_key_are_401_with_a_challenge(
    anonymous: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await anonymous.get("/v1/campaigns", headers=headers)

    assert response.status_code == 401
    assert reason in response.json()["detail"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="campaign-pulse"')
    # RFC 6750: a request that brought no credentials gets a challenge without an error code.
    assert ('error="invalid_token"' in challenge) == bool(headers)


async def test_a_key_without_the_scope_is_403_naming_it(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    reader = bearer(app, frozenset({Scope.CAMPAIGNS_READ}), name="reader")

    allowed = await anonymous.get("/v1/campaigns", headers=reader)
    refused = await anonymous.post("/v1/alerts/any/ack", headers=reader)

    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert "lacks the scope 'alerts:write'" in refused.json()["detail"]
    assert 'scope="alerts:write"' in refused.headers["WWW-Authenticate"]


async def test_a_key_is_shown_once_stored_as_a_hash_and_listed_by_its_last_four(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    created = await client.post(
        "/v1/keys", json={"name": "ci-loader", "scopes": ["events:write", "campaigns:read"]}
    )

    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("pulse_") and body["last_four"] == key[-4:]
    assert body["scopes"] == ["campaigns:read", "events:write"]
    assert body["created_by"].startswith("tests-")
    listed = (await client.get("/v1/keys")).json()["items"]
    mine = next(item for item in listed if item["key_id"] == body["key_id"])
    assert "key" not in mine and mine["last_four"] == key[-4:]
    with engine.connect() as connection:
        stored = connection.execute(select(ApiKeyRow.__table__)).mappings().all()
    assert all(key not in str(dict(row).values()) for row in stored)
    assert (await client.get("/v1/campaigns", headers=_with(key))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["campaigns:delete"]}, "scopes"),
        ({"name": "", "scopes": ["admin"]}, "name"),
        ({"name": "x", "scopes": ["admin"], "expires_at": "2026-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "scopes": ["admin"], "owner": "me"}, "owner"),
    ],
)
async def test_invalid_key_requests_name_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/keys", json=body)

    assert response.status_code == 422
    assert field in str(response.json()["detail"][0]["loc"])


async def test_reserved_names_and_past_expiry_are_refused(client: httpx.AsyncClient) -> None:
    monitor = await client.post("/v1/keys", json={"name": "monitor", "scopes": ["admin"]})
    past = await client.post(
        "/v1/keys",
        json={"name": "late", "scopes": ["admin"], "expires_at": "2020-01-01T00:00:00Z"},
    )

    assert monitor.status_code == 422 and "reserved" in monitor.json()["detail"]
    assert past.status_code == 422 and "in the past" in past.json()["detail"]


async def test_a_revoked_key_is_refused_and_its_revocation_is_audited(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    created = (await client.post("/v1/keys", json={"name": "leaked", "scopes": ["admin"]})).json()
    assert (await anonymous.get("/v1/keys", headers=_with(created["key"]))).status_code == 200

    revoked = await client.delete(f"/v1/keys/{created['key_id']}")
    refused = await anonymous.get("/v1/campaigns", headers=_with(created["key"]))

    assert revoked.status_code == 204
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert (await client.delete("/v1/keys/key_nope")).status_code == 404
    listed = (await client.get("/v1/keys")).json()["items"]
    assert created["key_id"] not in {item["key_id"] for item in listed}
    everything = (await client.get("/v1/keys", params={"include_revoked": True})).json()["items"]
    assert any(item["key_id"] == created["key_id"] and item["revoked_at"] for item in everything)
    actions = [(e["action"], e["target"]) for e in (await client.get("/v1/audit")).json()["items"]]
    assert ("key.revoke", f"{created['key_id']} (leaked)") in actions
    assert ("key.create", created["key_id"]) in actions


async def test_an_expired_key_is_refused(app: FastAPI, anonymous: httpx.AsyncClient) -> None:
    soon = datetime.now(UTC) + timedelta(milliseconds=50)
    issued = issue_key(app.state.keys, "temporary", frozenset({Scope.ADMIN}), expires_at=soon)
    app.state.authenticator.forget()
    while datetime.now(UTC) <= soon:
        pass

    response = await anonymous.get("/v1/campaigns", headers=_with(issued.key))

    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_last_used_is_recorded(app: FastAPI, anonymous: httpx.AsyncClient) -> None:
    issued = issue_key(app.state.keys, "cron", frozenset({Scope.CAMPAIGNS_READ}))
    assert issued.record.last_used_at is None

    await anonymous.get("/v1/campaigns", headers=_with(issued.key))

    used = app.state.keys.get(issued.record.key_id)
    assert used is not None and used.last_used_at is not None


async def test_only_key_admins_manage_keys_and_only_admins_read_the_audit_log(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    keys_admin = bearer(app, frozenset({Scope.KEYS_ADMIN}), name="security")
    writer = bearer(app, frozenset({Scope.CAMPAIGNS_WRITE, Scope.WEBHOOKS_WRITE}), name="ops")

    assert (await anonymous.get("/v1/keys", headers=keys_admin)).status_code == 200
    assert (await anonymous.get("/v1/keys", headers=writer)).status_code == 403
    assert (await anonymous.get("/v1/audit", headers=keys_admin)).status_code == 403


async def test_the_status_page_session_is_an_httponly_strict_cookie(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    reader = issue_key(app.state.keys, "wall-screen", frozenset({Scope.CAMPAIGNS_READ}))
    writer = issue_key(app.state.keys, "loader", frozenset({Scope.EVENTS_WRITE}))

    assert (await anonymous.get("/v1/session")).status_code == 401
    wrong = await anonymous.post("/v1/session", json={"key": generate_key()})
    no_scope = await anonymous.post("/v1/session", json={"key": writer.key})
    signed_in = await anonymous.post("/v1/session", json={"key": reader.key})

    assert wrong.status_code == 401
    assert no_scope.status_code == 403 and "campaigns:read" in no_scope.json()["detail"]
    assert signed_in.status_code == 200 and signed_in.json()["name"] == "wall-screen"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert reader.key not in signed_in.headers["set-cookie"]
    # The client keeps the cookie, as a browser would, and sends no Authorization header.
    assert (await anonymous.get("/v1/campaigns")).status_code == 200
    assert (await anonymous.get("/v1/session")).json()["name"] == "wall-screen"
    assert (await anonymous.post("/v1/alerts/x/ack")).status_code == 403

    assert (await anonymous.delete("/v1/session")).status_code == 204
    assert (await anonymous.get("/v1/campaigns")).status_code == 401


async def test_revoking_a_key_ends_its_sessions(
    app: FastAPI, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    reader = issue_key(app.state.keys, "kiosk", frozenset({Scope.CAMPAIGNS_READ}))
    await anonymous.post("/v1/session", json={"key": reader.key})
    assert (await anonymous.get("/v1/campaigns")).status_code == 200

    await client.delete(f"/v1/keys/{reader.record.key_id}")

    assert (await anonymous.get("/v1/campaigns")).status_code == 401


async def test_metrics_are_open_unless_a_metrics_token_is_set(database_url: str) -> None:
    token = "scrape-" + "x" * 24
    for metrics_token, headers, expected in [
        (None, {}, 200),
        (token, {}, 401),
        (token, _with("wrong"), 401),
        (token, _with(token), 200),
    ]:
        settings = ApiSettings.model_validate(
            {"DATABASE_URL": database_url, "PULSE_METRICS_TOKEN": metrics_token}
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as scraper:
                response = await scraper.get("/metrics", headers=headers)
                assert response.status_code == expected, (metrics_token, headers)
                assert (await scraper.get("/healthz")).status_code == 200


async def test_the_openapi_document_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pulse_…",
        "description": schemes["apiKey"]["description"],
    }
    assert {"apiKey": ["campaigns:read"]} in document["paths"]["/v1/campaigns"]["get"]["security"]
    assert "security" not in document["paths"]["/healthz"]["get"]
