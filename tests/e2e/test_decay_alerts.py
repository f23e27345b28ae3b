"""A decaying campaign sent over HTTP is called decaying, and its alert reaches a webhook receiver
that is down for part of the test exactly once per state change; a healthy noisy campaign raises
no alert."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from standardwebhooks import Webhook

from services.runtime.broker import free_port
from tests.e2e.events import steady_campaign
from tests.e2e.harness import RunningStack, eventually
from tests.e2e.test_pipeline import send_in_chunks

pytestmark = pytest.mark.e2e

WEEK = 7 * 24


class Receiver:
    """A real HTTP webhook receiver on loopback; it does not listen until ``start``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                deliveries.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for _, body in self.deliveries]

    def received(self, event: str) -> bool:
        """Whether a delivery of ``event`` arrived (``alert.updated`` revisions arrive between
        the state changes, so counting deliveries says nothing about which one came)."""
        return any(e["event"] == event for e in self.events())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def status_of(stack: RunningStack, campaign_id: str) -> str | None:
    view = stack.campaign(campaign_id)
    return view["status"] if view else None


def test_decay_is_flagged_and_alerted_once_per_state_change(
    running_stack: RunningStack, receiver: Receiver
) -> None:
    hook = running_stack.api.post("/v1/webhooks", json={"url": receiver.url, "format": "generic"})
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]

    decaying = steady_campaign(
        "drop",
        creators=5,
        hours=WEEK,
        views_per_hour=2_000,
        rate=0.06,
        drop_after=WEEK - 30,
        rate_after=0.025,
        noise=0.1,
        seed=1,
    )
    healthy = steady_campaign(
        "steady", creators=3, hours=WEEK, views_per_hour=400, rate=0.05, noise=0.4, seed=2
    )
    send_in_chunks(running_stack, decaying, size=500)
    send_in_chunks(running_stack, healthy, size=500)

    eventually(lambda: status_of(running_stack, "drop") == "decaying", timeout=90)
    campaign = running_stack.campaign("drop")
    assert campaign is not None
    reasons = {r["kind"]: r for r in campaign["reasons"]}
    assert reasons["engagement_rate_drop"]["relative_change"] < -0.3
    assert campaign["contributors"], "the creators driving the drop are named"
    # The two campaigns are processed independently: "steady" may be written a round after "drop".
    steady = eventually(lambda: status_of(running_stack, "steady"), timeout=30)
    assert steady in ("healthy", "insufficient_data")

    firing = eventually(
        lambda: running_stack.api.get("/v1/alerts", params={"campaign_id": "drop"}).json()["items"]
    )
    assert [a["state"] for a in firing] == ["firing"]
    alert_id = firing[0]["alert_id"]

    # The receiver was down while the alert fired; it gets it once it is up.
    receiver.start()
    eventually(lambda: receiver.received("alert.firing"), timeout=60)
    assert running_stack.api.post(f"/v1/alerts/{alert_id}/ack").status_code == 200
    eventually(lambda: receiver.received("alert.acknowledged"), timeout=30)
    assert running_stack.api.post(f"/v1/alerts/{alert_id}/resolve").status_code == 200
    eventually(lambda: receiver.received("alert.resolved"), timeout=30)

    # More evaluations of the same decaying campaign update the one alert, never add another.
    send_in_chunks(running_stack, decaying[-50:], size=50)
    stored = running_stack.api.get("/v1/alerts", params={"campaign_id": "drop"}).json()
    assert stored["total"] == 1

    states = [(e["alert_id"], e["event"]) for e in receiver.events()]
    assert [s for s in states if s[1] != "alert.updated"] == [
        (alert_id, "alert.firing"),
        (alert_id, "alert.acknowledged"),
        (alert_id, "alert.resolved"),
    ]
    verifier = Webhook(secret)
    for headers, body in receiver.deliveries:
        verifier.verify(body, {name.lower(): value for name, value in headers.items()})

    noisy = running_stack.api.get("/v1/alerts", params={"campaign_id": "steady"}).json()
    assert noisy["total"] == 0
