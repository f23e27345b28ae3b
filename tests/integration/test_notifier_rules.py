"""The notifier's delivery rules, with scripted receiver answers (httpx's mock transport; the
guard has its own tests) and the delivery state the database keeps."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, delete

from services.notifier.app import Notifier, NotifierMetrics
from services.notifier.settings import NotifierSettings
from services.service_layer.reports import ReviewSources
from services.storage.alerts import AlertRepository
from services.storage.report_events import ReportEventRepository
from services.storage.webhooks import Webhook, WebhookCursorRow, WebhookRepository, WebhookRow
from tests.alerts import firing_alert

pytestmark = pytest.mark.integration

URL = "https://receiver.example/hook"
AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Running:
    def __init__(self, engine: Engine, answers: list[httpx.Response]) -> None:
        self.webhooks = WebhookRepository(engine)
        self.alerts = AlertRepository(engine)
        self.requests: list[httpx.Request] = []
        self.answers = answers
        self.webhook = self.webhooks.create(URL, "generic")
        self.start = self.webhooks.cursor(self.webhook.webhook_id)

    def cursor(self) -> int:
        return self.webhooks.cursor(self.webhook.webhook_id)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if self.answers else httpx.Response(200)

    def current(self) -> Webhook:
        webhook = self.webhooks.get(self.webhook.webhook_id)
        assert webhook is not None
        return webhook

    def change(self) -> None:
        self.alerts.apply([firing_alert(f"rules-{uuid.uuid4().hex[:8]}", "a change", AT)])


@pytest.fixture
async def start(engine: Engine) -> AsyncIterator[Callable[..., Running]]:
    """Start a notifier whose receiver answers ``answers`` in turn, then 200."""
    with engine.begin() as connection:  # the PostgreSQL test database lives for the session
        connection.execute(delete(WebhookCursorRow))
        connection.execute(delete(WebhookRow))
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    clients: list[httpx.AsyncClient] = []

    def begin(answers: list[httpx.Response], **settings: float) -> Running:
        running = Running(engine, answers)
        defaults = {"poll_interval_seconds": 0.05, "retry_jitter": 0, "time_scale": 0.01}
        client = httpx.AsyncClient(transport=httpx.MockTransport(running.answer))
        clients.append(client)
        notifier = Notifier(
            NotifierSettings.model_validate(defaults | settings),
            running.webhooks,
            running.alerts,
            client,
            NotifierMetrics(),
            ReviewSources.on(engine),
            ReportEventRepository(engine),
        )
        tasks.append(asyncio.create_task(notifier.run(stop)))
        return running

    yield begin
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    for client in clients:
        await client.aclose()


async def _eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_redirect_is_a_failure_retried_at_the_same_url_not_followed(
    start: Callable[..., Running],
) -> None:
    running = start([httpx.Response(302, headers={"Location": "http://169.254.169.254/"})])
    running.change()

    await _eventually(lambda: running.cursor() > running.start)

    assert [str(r.url) for r in running.requests] == [URL, URL]
    assert running.requests[0].headers["webhook-id"] == running.requests[1].headers["webhook-id"]
    healthy = running.current()
    assert (healthy.failing_since, healthy.failed_attempts, healthy.last_error) == (None, 0, None)


async def test_410_gone_disables_the_webhook_at_once(start: Callable[..., Running]) -> None:
    running = start([httpx.Response(410)])
    running.change()

    await _eventually(lambda: not running.current().active)
    running.change()
    await asyncio.sleep(0.3)

    assert running.current().disabled_reason == "the receiver answered 410 Gone"
    assert len(running.requests) == 1
    assert running.cursor() == running.start


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [
        (429, "120", timedelta(seconds=1.2)),  # 120 s at time scale 0.01
        (503, "999999", timedelta(seconds=36)),  # bounded by the 1 h maximum
        (502, "soon", timedelta(seconds=0.05)),  # unreadable: the schedule's first 5 s
        (500, "120", timedelta(seconds=0.05)),  # only 429, 502, 503 and 504 are heeded
    ],
)
async def test_retry_after_is_honoured_bounded_and_kept(
    start: Callable[..., Running], status: int, retry_after: str, wait: timedelta
) -> None:
    running = start([httpx.Response(status, headers={"Retry-After": retry_after})] * 2)
    running.change()

    await _eventually(lambda: running.current().failed_attempts >= 1)

    failing = running.current()
    assert failing.failing_since is not None and failing.next_attempt_at is not None
    if failing.failed_attempts == 1:
        assert failing.next_attempt_at - failing.failing_since == wait
    assert failing.last_error == f"HTTP {status} (not accepted)"
    assert failing.active


async def test_a_webhook_failing_for_too_long_is_disabled_and_says_since_when(
    start: Callable[..., Running],
) -> None:
    # Five days at time scale 0.00001: about 4.3 s of failures.
    running = start([httpx.Response(500)] * 10**6, time_scale=0.00001)
    running.change()

    await _eventually(lambda: not running.current().active)

    disabled = running.current()
    assert disabled.failing_since is not None
    assert disabled.disabled_reason == (
        f"failing since {disabled.failing_since.isoformat(timespec='seconds')} "
        "(last error: HTTP 500 (not accepted))"
    )
    assert disabled.failed_attempts == len(running.requests) > 1
    assert running.cursor() == running.start
