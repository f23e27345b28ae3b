"""The notifier against real local HTTP receivers that are down, failing or hanging for a while."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from standardwebhooks import webhooks as verifier_clock
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from services.domain.alerts import Alert
from services.domain.views import Contributor, Reason
from services.notifier.app import Notifier, NotifierMetrics
from services.notifier.settings import NotifierSettings
from services.notifier.signing import new_secret
from services.runtime.egress import EgressPolicy, guarded_client, parse_cidrs
from services.service_layer.reports import ReviewSources
from services.storage.alerts import AlertRepository
from services.storage.report_events import ReportEventRepository
from services.storage.webhooks import WebhookCursorRow, WebhookRepository, WebhookRow

pytestmark = pytest.mark.integration

SECRET = new_secret()
LOOPBACK = EgressPolicy(parse_cidrs("127.0.0.0/8"))
AT = datetime(2025, 3, 8, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


Answer = tuple[int, dict[str, str]]


@dataclass
class Receiver:
    """A webhook receiver on its own port: not listening until ``start``; then it answers the
    first requests with ``script`` (status and headers), or 503 to the first ``failures``
    requests, then 200; or it holds every request until the test ends when ``hang``."""

    port: int
    failures: int = 0
    script: list[Answer] = field(default_factory=list)
    hang: bool = False
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.status == 200]

    def _answer(self, headers: dict[str, str], body: bytes) -> Answer:
        if self.hang:
            self._release.wait()
        with self._lock:
            seen = len(self.requests)
            answer: Answer = (503 if seen < self.failures else 200, {})
            if seen < len(self.script):
                answer = self.script[seen]
            self.requests.append(Received(headers, body, answer[0]))
        return answer

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, headers = receiver._answer(dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**options: Any) -> Receiver:
        receiver = Receiver(_free_port(), **options)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


@dataclass
class Running:
    metrics: NotifierMetrics
    webhooks: WebhookRepository
    alerts: AlertRepository


# Svix's schedule in hundredths: 0.05 s, 3 s, 18 s…, no jitter; Retry-After 100 s is 1 s.
TEST_SCALE = 0.01


@pytest.fixture
def notifier_settings() -> NotifierSettings:
    """Overridden by tests that want other delivery rules."""
    return NotifierSettings(
        poll_interval_seconds=0.05,
        retry_schedule_seconds=(5.0, 10.0, 20.0),
        retry_jitter=0,
        time_scale=TEST_SCALE,
        request_timeout_seconds=30,
    )


@pytest.fixture
async def notifier(engine: Engine, notifier_settings: NotifierSettings) -> AsyncIterator[Running]:
    with engine.begin() as connection:  # the PostgreSQL test database lives for the session
        connection.execute(delete(WebhookCursorRow))
        connection.execute(delete(WebhookRow))
    settings = notifier_settings
    running = Running(NotifierMetrics(), WebhookRepository(engine), AlertRepository(engine))
    stop = asyncio.Event()
    async with guarded_client(LOOPBACK, settings.request_timeout_seconds) as client:
        loop = Notifier(
            settings,
            running.webhooks,
            running.alerts,
            client,
            running.metrics,
            ReviewSources.on(engine),
            ReportEventRepository(engine),
        )
        task = asyncio.create_task(loop.run(stop))
        yield running
        stop.set()
        await asyncio.wait_for(task, timeout=5)


def _alert(campaign_id: str, contributors: list[Contributor] | None = None) -> Alert:
    return Alert(
        alert_id=f"al_{uuid.uuid4().hex}",
        campaign_id=campaign_id,
        cause="engagement_rate_by_views",
        severity="critical",
        state="firing",
        status="decaying",
        summary=f"Engagement rate by views of {campaign_id} fell 42 % below its baseline",
        reasons=[
            Reason(
                kind="engagement_drop",
                metric="engagement_rate_by_views",
                baseline=0.1,
                current=0.058,
                relative_change=-0.42,
                window="24h",
            )
        ],
        contributors=contributors or [],
        revision=1,
        opened_at=AT,
        updated_at=AT,
        event_time=AT,
    )


def _next(alert: Alert, state: str) -> Alert:
    later = alert.updated_at + timedelta(hours=1)
    changes: dict[str, Any] = {"state": state, "revision": alert.revision + 1, "updated_at": later}
    if state == "acknowledged":
        changes["acknowledged_at"] = later
    if state == "resolved":
        changes |= {"resolved_at": later, "resolved_by": "monitor", "status": "healthy"}
    return alert.model_copy(update=changes)


def _campaign() -> str:
    return f"camp-{uuid.uuid4().hex[:8]}"


async def _eventually(condition: Callable[[], bool], within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _verify(received: Received, secret: str = SECRET) -> dict[str, Any]:
    """The body, verified as a receiver would, by the Standard Webhooks reference verifier."""
    assert received.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = Verifier(secret).verify(received.body, received.headers)
    return body


def _count(metrics: NotifierMetrics, result: str) -> float:
    value = metrics.registry.get_sample_value("pulse_notifier_deliveries_total", {"result": result})
    return value or 0.0


async def test_a_receiver_that_was_down_gets_every_change_once_in_order(
    notifier: Running, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers(failures=2)
    webhook = notifier.webhooks.create(receiver.url, "generic", secret=SECRET)
    spring, summer = _alert(_campaign()), _alert(_campaign())
    acknowledged = _next(spring, "acknowledged")
    notifier.alerts.apply([spring])
    notifier.alerts.apply([summer, acknowledged])

    # Not listening at all, then answering 503 twice: nothing may be skipped.
    await _eventually(lambda: _count(notifier.metrics, "unreachable") >= 2)
    receiver.start()
    await _eventually(lambda: len(receiver.accepted) == 3)
    resolved = _next(acknowledged, "resolved")
    notifier.alerts.apply([resolved])
    await _eventually(lambda: len(receiver.accepted) == 4)
    await asyncio.sleep(0.5)

    expected = [(a.alert_id, a.revision, a.state) for a in (spring, summer, acknowledged, resolved)]
    accepted = receiver.accepted
    assert len(accepted) == 4
    bodies = [_verify(r) for r in accepted]
    assert [(b["alert_id"], b["revision"], b["state"]) for b in bodies] == expected
    assert [b["event"] for b in bodies] == [
        "alert.firing",
        "alert.firing",
        "alert.acknowledged",
        "alert.resolved",
    ]
    assert Alert.model_validate({k: v for k, v in bodies[3].items() if k != "event"}) == resolved
    event_ids = [int(r.headers["webhook-id"].removeprefix("evt_")) for r in accepted]
    outbox = notifier.alerts.events_after(event_ids[0] - 1, limit=10)
    assert event_ids == [event_id for event_id, _ in outbox]
    assert notifier.webhooks.cursor(webhook.webhook_id) == event_ids[-1]
    # The two refused attempts were the first event, signed the same way, with the same id.
    refused = [r for r in receiver.requests if r.status == 503]
    assert [r.body for r in refused] == [accepted[0].body] * 2
    assert all(_verify(r) for r in refused)
    assert {r.headers["webhook-id"] for r in refused} == {accepted[0].headers["webhook-id"]}
    assert _count(notifier.metrics, "delivered") == 4
    assert _count(notifier.metrics, "rejected") == 2


async def test_slack_receivers_get_a_message_with_blocks(
    notifier: Running, receivers: Callable[..., Receiver]
) -> None:
    receiver = receivers()
    receiver.start()
    notifier.webhooks.create(receiver.url, "slack", secret=SECRET)
    campaign = _campaign()
    contributors = [
        Contributor(
            creator_id=f"creator-{n}",
            metric="engagement_rate_by_views",
            share=share,
            baseline=0.1,
            current=0.05,
        )
        for n, share in enumerate((0.1, 0.5, 0.05, 0.3))
    ]
    notifier.alerts.apply([_alert(campaign, contributors)])

    await _eventually(lambda: len(receiver.accepted) == 1)

    body = _verify(receiver.accepted[0])
    assert set(body) == {"text", "blocks"}
    assert "FIRING" in body["text"] and campaign in body["text"]
    assert all(block["type"] in {"section", "context"} for block in body["blocks"])
    text = json.dumps(body["blocks"])
    assert "fell 42 % below its baseline" in text
    fields = [f["text"] for f in body["blocks"][1]["fields"]]
    assert fields == [
        f"*Campaign*\n{campaign}",
        "*State*\nfiring",
        "*Severity*\ncritical",
        "*Status*\ndecaying",
    ]
    top = body["blocks"][2]["text"]["text"]
    assert top.splitlines()[0] == "*Top contributors*"
    assert [line.split("`")[1] for line in top.splitlines()[1:]] == [
        "creator-1",
        "creator-3",
        "creator-0",
    ]
    assert "50%" in top


async def test_a_hanging_or_failing_receiver_does_not_hold_up_the_others(
    notifier: Running, receivers: Callable[..., Receiver]
) -> None:
    hanging, failing, healthy = receivers(hang=True), receivers(failures=10**6), receivers()
    for receiver in (hanging, failing, healthy):
        receiver.start()
        notifier.webhooks.create(receiver.url, "generic", secret=SECRET)
    alerts = [_alert(_campaign()) for _ in range(3)]
    started = time.monotonic()
    for alert in alerts:
        notifier.alerts.apply([alert])

    await _eventually(lambda: len(healthy.accepted) == 3, within=5)

    assert time.monotonic() - started < 5
    assert [_verify(r)["alert_id"] for r in healthy.accepted] == [a.alert_id for a in alerts]
    await _eventually(lambda: len(failing.requests) >= 3)
    assert {_verify(r)["alert_id"] for r in failing.requests} == {alerts[0].alert_id}
    assert hanging.requests == []


async def test_a_deleted_webhook_gets_nothing_more(
    notifier: Running, receivers: Callable[..., Receiver]
) -> None:
    kept, deleted = receivers(), receivers()
    for receiver in (kept, deleted):
        receiver.start()
    notifier.webhooks.create(kept.url, "generic", secret=SECRET)
    gone = notifier.webhooks.create(deleted.url, "generic", secret=SECRET)
    notifier.alerts.apply([_alert(_campaign())])
    await _eventually(lambda: len(kept.accepted) == 1 and len(deleted.accepted) == 1)

    notifier.webhooks.delete(gone.webhook_id)
    await asyncio.sleep(0.2)
    notifier.alerts.apply([_alert(_campaign())])
    await _eventually(lambda: len(kept.accepted) == 2)
    await asyncio.sleep(0.3)

    assert len(deleted.accepted) == 1


async def test_the_reference_verifier_accepts_deliveries_and_nothing_altered(
    notifier: Running, receivers: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = receivers()
    receiver.start()
    notifier.webhooks.create(receiver.url, "generic", secret=SECRET)
    notifier.alerts.apply([_alert(_campaign())])
    await _eventually(lambda: len(receiver.accepted) == 1)
    delivery = receiver.accepted[0]
    headers, verifier = delivery.headers, Verifier(SECRET)

    assert verifier.verify(delivery.body, headers)["event"] == "alert.firing"
    stamp = int(headers["webhook-timestamp"])
    for name, value in (("webhook-id", "evt_999999"), ("webhook-timestamp", str(stamp - 1))):
        with pytest.raises(WebhookVerificationError, match="No matching signature"):
            verifier.verify(delivery.body, {**headers, name: value})
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verifier.verify(delivery.body.replace(b"firing", b"resolved"), headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Verifier(new_secret()).verify(delivery.body, headers)
    # The same delivery replayed six minutes later is outside the receiver's five-minute tolerance.
    later = datetime.fromtimestamp(stamp, UTC) + timedelta(minutes=6)
    monkeypatch.setattr(verifier_clock, "datetime", _Clock(later))
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(delivery.body, headers)


class _Clock:
    """Stands for ``datetime`` in the verifier's module, with ``now`` fixed."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self, tz: Any = None) -> datetime:
        return self._now

    def fromtimestamp(self, stamp: float, tz: Any = None) -> datetime:
        return datetime.fromtimestamp(stamp, tz)
