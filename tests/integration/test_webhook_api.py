"""The webhook routes beyond create and delete: refusals with their reason, secret rotation,
"send test" to a real local receiver, and what the list says about disabled webhooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete
from standardwebhooks.webhooks import Webhook as Verifier

from services.domain.keys import Scope
from services.storage.keys import AuditLog
from services.storage.webhooks import WebhookCursorRow, WebhookRepository, WebhookRow
from tests.integration.conftest import bearer

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def local_receivers_allowed(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    """Loopback allowed as ``pulse run`` allows it, before the app reads its settings; and no
    webhooks left by another test (the PostgreSQL test database lives for the session)."""
    monkeypatch.setenv("PULSE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8")
    with engine.begin() as connection:
        connection.execute(delete(WebhookCursorRow))
        connection.execute(delete(WebhookRow))


class Receiver:
    """A local receiver answering ``status`` to every POST and keeping what it got."""

    def __init__(self, status: int) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(204)
    yield running
    running.close()


async def _create(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={"url": url})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _actions(app: FastAPI) -> list[tuple[str, str]]:
    audit: AuditLog = app.state.audit
    entries, _ = audit.entries()
    return [(entry["action"], entry["target"]) for entry in entries]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[::1]:8000/", "loopback"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://[fd00::1]/", "unique-local"),
    ],
)
async def test_a_refused_url_is_a_422_naming_url_and_the_reason(
    client: httpx.AsyncClient, url: str, reason: str
) -> None:
    response = await client.post("/v1/webhooks", json={"url": url})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "url"]
    assert reason in error["msg"]
    assert (await client.get("/v1/webhooks")).json() == {"items": []}


async def test_a_rotated_secret_is_shown_once_and_both_sign_a_test_during_the_overlap(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    created = await _create(client, receiver.url)
    webhook_id = created["webhook_id"]

    rotated = await client.post(f"/v1/webhooks/{webhook_id}/rotate-secret")
    tested = await client.post(f"/v1/webhooks/{webhook_id}/test")

    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["secret"].startswith("whsec_") and new["secret"] != created["secret"]
    until = datetime.fromisoformat(new["previous_secret_expires_at"])
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(hours=24)
    listed = (await client.get(f"/v1/webhooks/{webhook_id}")).json()
    assert listed["secret"] == "********" + new["secret"][-4:]
    assert tested.json() == {
        "delivered": True,
        "status_code": 204,
        "reason": None,
        "message_id": tested.json()["message_id"],
    }
    [(headers, body)] = receiver.requests
    assert headers["webhook-id"] == tested.json()["message_id"]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (created["secret"], new["secret"]):
        event = Verifier(secret).verify(body, headers)
        assert (event["event"], event["webhook_id"]) == ("webhook.test", webhook_id)
    assert ("webhook.rotate_secret", webhook_id) in _actions(app)
    assert ("webhook.test", webhook_id) in _actions(app)


async def test_a_chosen_secret_can_be_rotated_in_and_a_bad_one_is_refused(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    webhook_id = (await _create(client, receiver.url))["webhook_id"]
    chosen = "whsec_" + "QUJD" * 8

    bad = await client.post(f"/v1/webhooks/{webhook_id}/rotate-secret", json={"secret": "x"})
    good = await client.post(f"/v1/webhooks/{webhook_id}/rotate-secret", json={"secret": chosen})

    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "secret"]
    assert good.json()["secret"] == chosen


async def test_a_test_to_an_unreachable_receiver_says_why(client: httpx.AsyncClient) -> None:
    gone = Receiver(204)
    gone.close()
    webhook_id = (await _create(client, gone.url))["webhook_id"]

    answer = (await client.post(f"/v1/webhooks/{webhook_id}/test")).json()

    assert (answer["delivered"], answer["status_code"]) == (False, None)
    assert answer["reason"].startswith("unreachable: ConnectError")


async def test_a_test_goes_through_the_guard_as_deliveries_do(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook registered while loopback was allowed, tested once it no longer is."""
    webhook_id = (await _create(client, "http://127.0.0.1:9/hook"))["webhook_id"]
    monkeypatch.setattr(app.state.settings, "webhook_allow_cidrs", ())

    answer = (await client.post(f"/v1/webhooks/{webhook_id}/test")).json()

    assert answer["delivered"] is False
    assert answer["reason"] == "refused: 127.0.0.1 is a loopback address"


async def test_the_list_shows_disabled_webhooks_with_why_and_filters_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    kept = await _create(client, "http://127.0.0.1:9/a")
    dropped = await _create(client, "http://127.0.0.1:9/b")
    webhooks: WebhookRepository = app.state.webhooks
    failed_at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    webhooks.failed(dropped["webhook_id"], failed_at, "HTTP 410 (not accepted)", None, "gone")

    listed = {w["webhook_id"]: w for w in (await client.get("/v1/webhooks")).json()["items"]}
    disabled = (await client.get("/v1/webhooks?state=disabled")).json()["items"]
    active = (await client.get("/v1/webhooks?state=active")).json()["items"]

    assert listed[dropped["webhook_id"]]["active"] is False
    assert listed[dropped["webhook_id"]]["disabled_reason"] == "gone"
    assert listed[dropped["webhook_id"]]["last_error"] == "HTTP 410 (not accepted)"
    assert datetime.fromisoformat(listed[dropped["webhook_id"]]["failing_since"]) == failed_at
    assert [w["webhook_id"] for w in disabled] == [dropped["webhook_id"]]
    assert [w["webhook_id"] for w in active] == [kept["webhook_id"]]
    bad = await client.get("/v1/webhooks?state=broken")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "state"]


async def test_a_disabled_webhook_is_enabled_again_from_where_it_stopped(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    webhook_id = (await _create(client, "http://127.0.0.1:9/fixed"))["webhook_id"]
    webhooks: WebhookRepository = app.state.webhooks
    webhooks.failed(webhook_id, datetime.now(UTC), "HTTP 410 (not accepted)", None, "gone")
    cursor = webhooks.cursor(webhook_id)

    enabled = await client.post(f"/v1/webhooks/{webhook_id}/enable")

    assert enabled.status_code == 200
    body = enabled.json()
    assert body["active"] is True
    assert (body["disabled_reason"], body["failing_since"], body["last_error"]) == (None,) * 3
    assert webhooks.cursor(webhook_id) == cursor
    assert ("webhook.enable", webhook_id) in _actions(app)
    assert (await client.post("/v1/webhooks/wh_missing/enable")).status_code == 404
    reader = bearer(app, frozenset({Scope.WEBHOOKS_READ}))
    assert (
        await client.post(f"/v1/webhooks/{webhook_id}/enable", headers=reader)
    ).status_code == 403


async def test_rotating_and_testing_want_webhooks_write(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    webhook_id = (await _create(client, "http://127.0.0.1:9/hook"))["webhook_id"]
    reader = bearer(app, frozenset({Scope.WEBHOOKS_READ}))

    for action in ("rotate-secret", "test"):
        answer = await client.post(f"/v1/webhooks/{webhook_id}/{action}", headers=reader)
        assert answer.status_code == 403, action
        missing = await client.post(f"/v1/webhooks/wh_missing/{action}")
        assert missing.status_code == 404, action
    assert (await client.get(f"/v1/webhooks/{webhook_id}", headers=reader)).status_code == 200
