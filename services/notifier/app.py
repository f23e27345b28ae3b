"""`pulse notify`: delivers every alert state change in the outbox to every active webhook.

Each webhook has its own task and cursor (the last outbox id it accepted): it posts the events
after the cursor one at a time, in order, retrying a failed post with capped exponential backoff
for as long as it takes, and moves the cursor only after a 2xx answer. So a receiver that is down
gets every change once it is back, in order, and a down or slow receiver holds up only itself.
A crash between the 2xx and the cursor write re-sends that one event: receivers deduplicate on
``X-Pulse-Event-Id``. Run one notifier per database.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

import httpx
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from sqlalchemy.exc import SQLAlchemyError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from services.domain.alerts import Alert
from services.notifier.payloads import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    render,
    sign,
)
from services.notifier.settings import NotifierSettings
from services.storage.alerts import AlertRepository
from services.storage.db import make_engine, migrate
from services.storage.webhooks import Webhook, WebhookRepository

log = structlog.get_logger(__name__)

USER_AGENT = "campaign-pulse-notifier"


class NotifierMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "pulse_notifier_deliveries",
            "Webhook delivery attempts, by result (delivered, rejected: non-2xx, unreachable).",
            ["result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "pulse_notifier_delivery_duration_seconds",
            "Time of one webhook delivery attempt, until the answer or the failure.",
            registry=self.registry,
        )


class DeliveryFailed(Exception):
    """The receiver did not accept the event; it is tried again."""


class Notifier:
    def __init__(
        self,
        settings: NotifierSettings,
        webhooks: WebhookRepository,
        alerts: AlertRepository,
        client: httpx.AsyncClient,
        metrics: NotifierMetrics,
    ) -> None:
        self._settings = settings
        self._webhooks = webhooks
        self._alerts = alerts
        self._client = client
        self._metrics = metrics

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one delivery task per active webhook until ``stop`` is set."""
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                try:
                    active = await asyncio.to_thread(self._webhooks.list_active)
                except SQLAlchemyError:
                    log.exception("listing webhooks failed; keeping the current ones")
                else:
                    self._reconcile(tasks, active)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.poll_interval_seconds)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    def _reconcile(self, tasks: dict[str, asyncio.Task[None]], active: list[Webhook]) -> None:
        """Stop the tasks of deleted webhooks; start (or restart after a failure) the others."""
        wanted = {webhook.webhook_id: webhook for webhook in active}
        for webhook_id in tasks.keys() - wanted.keys():
            tasks.pop(webhook_id).cancel()
        for webhook_id, webhook in wanted.items():
            task = tasks.get(webhook_id)
            if task is not None and task.done():
                log.error(
                    "webhook delivery stopped; restarting it",
                    webhook_id=webhook_id,
                    exc_info=task.exception(),
                )
            if task is None or task.done():
                tasks[webhook_id] = asyncio.create_task(
                    self._follow(webhook), name=f"webhook-{webhook_id}"
                )

    async def _follow(self, webhook: Webhook) -> None:
        cursor = await asyncio.to_thread(self._webhooks.cursor, webhook.webhook_id)
        while True:
            events = await asyncio.to_thread(
                self._alerts.events_after, cursor, self._settings.batch_size
            )
            for event_id, alert in events:
                await self._deliver(webhook, event_id, alert)
                await asyncio.to_thread(self._webhooks.advance, webhook.webhook_id, event_id)
                cursor = event_id
            if len(events) < self._settings.batch_size:
                await asyncio.sleep(self._settings.poll_interval_seconds)

    async def _deliver(self, webhook: Webhook, event_id: int, alert: Alert) -> None:
        """Post one event until the receiver answers 2xx."""
        body = render(webhook.format, alert)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(DeliveryFailed),
            wait=wait_exponential(
                multiplier=self._settings.initial_backoff_seconds,
                max=self._settings.max_backoff_seconds,
            ),
            before_sleep=_log_retry,
        )
        async for attempt in retrying:
            with attempt:
                await self._post(webhook, event_id, body)

    async def _post(self, webhook: Webhook, event_id: int, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(webhook.secret, body),
            EVENT_ID_HEADER: str(event_id),
            TIMESTAMP_HEADER: str(int(time.time())),
        }
        started = time.perf_counter()
        try:
            response = await self._client.post(webhook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self._metrics.deliveries.labels("unreachable").inc()
            raise DeliveryFailed(
                f"webhook {webhook.webhook_id} event {event_id}: {type(exc).__name__} {exc}"
            ) from exc
        finally:
            self._metrics.duration.observe(time.perf_counter() - started)
        if not response.is_success:
            self._metrics.deliveries.labels("rejected").inc()
            raise DeliveryFailed(
                f"webhook {webhook.webhook_id} event {event_id}: HTTP {response.status_code}"
            )
        self._metrics.deliveries.labels("delivered").inc()


def _log_retry(state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome is not None else None
    sleep = state.next_action.sleep if state.next_action is not None else None
    log.warning("webhook delivery failed; retrying", error=str(failure), retry_in_seconds=sleep)


async def serve(settings: NotifierSettings, metrics: NotifierMetrics) -> None:
    engine = make_engine(settings.database_url)
    try:
        await asyncio.to_thread(migrate, engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        timeout = httpx.Timeout(settings.request_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            notifier = Notifier(
                settings, WebhookRepository(engine), AlertRepository(engine), client, metrics
            )
            await notifier.run(stop)
    finally:
        engine.dispose()


def main() -> None:
    settings = NotifierSettings()
    metrics = NotifierMetrics()
    start_http_server(settings.metrics_port, settings.metrics_host, registry=metrics.registry)
    asyncio.run(serve(settings, metrics))
