"""`pulse notify`: delivers every alert state change in the outbox to every active webhook, each
campaign's ``budget.moves`` when its moves change (``watch_budget_moves``), and each campaign's
weekly review, once its week has closed, to the webhooks subscribed to them.

Each webhook has its own task and cursors (the last outbox id it accepted, one for alerts, one for
reports; ``budget.moves`` rows share the alerts' outbox and cursor, and are passed over for a
webhook not subscribed to them): it posts the events after a cursor one at a time, in order, and
moves the cursor only after a 2xx answer, so every change arrives at least once and in order, and a
down or slow receiver holds up only itself. A failed attempt is retried by ``schedule.RetryPolicy``
(the wait and the run of failures are kept in the database, so a restarted notifier keeps the
schedule); 410 Gone, or failing for days, disables the webhook. A crash between the 2xx and the
cursor write re-sends that one event with the same ``webhook-id`` (``evt_`` and the outbox id,
``rpt_`` for reports), on which receivers deduplicate. Run one notifier per database: it also
records the ``report.weekly`` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

import httpx
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.exc import SQLAlchemyError

from services.domain.allocation import Recommendation
from services.notifier.delivery import Sender
from services.notifier.payloads import render, report_body
from services.notifier.schedule import GONE, Attempt
from services.notifier.settings import NotifierSettings
from services.runtime.egress import guarded_client
from services.runtime.metrics_server import serve_metrics
from services.service_layer.budget_events import emit_budget_moves
from services.service_layer.reports import ReviewSources, record_closed_weeks
from services.storage.alerts import AlertRepository, OutboxEvent
from services.storage.budget_moves import BudgetMovesOutbox
from services.storage.db import make_engine, migrate
from services.storage.report_events import ReportEventRepository
from services.storage.repository import StatusRepository
from services.storage.webhooks import (
    ALERTS,
    CampaignConfigRepository,
    Webhook,
    WebhookEvent,
    WebhookFormat,
    WebhookRepository,
)

log = structlog.get_logger(__name__)


E = TypeVar("E")


@dataclass(frozen=True)
class _Outbox(Generic[E]):
    """One outbox a webhook may subscribe to: how to read it, render it and move its cursor."""

    event: WebhookEvent
    id_prefix: str
    cursor: Callable[[str], int]
    events_after: Callable[[int, int], list[tuple[int, E]]]
    body: Callable[[E, WebhookFormat], bytes]
    delivered: Callable[[str, int], None]
    # The subscription an event needs, when an outbox carries more than one kind.
    event_of: Callable[[E], WebhookEvent] | None = None


class NotifierMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "pulse_notifier_deliveries",
            "Webhook delivery attempts, by result (delivered, rejected: non-2xx, unreachable: "
            "no answer or refused by the egress guard).",
            ["result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "pulse_notifier_delivery_duration_seconds",
            "Time of one webhook delivery attempt, until the answer or the failure.",
            registry=self.registry,
        )
        self.disabled = Counter(
            "pulse_notifier_webhooks_disabled",
            "Webhooks the notifier disabled (410 Gone, or failing for too long).",
            registry=self.registry,
        )

    def count(self, attempt: Attempt, seconds: float) -> None:
        self.duration.observe(seconds)
        result = "delivered" if attempt.delivered else "unreachable"
        if attempt.status is not None and not attempt.delivered:
            result = "rejected"
        self.deliveries.labels(result).inc()


class Notifier:
    def __init__(
        self,
        settings: NotifierSettings,
        webhooks: WebhookRepository,
        alerts: AlertRepository,
        client: httpx.AsyncClient,
        metrics: NotifierMetrics,
        reviews: ReviewSources,
        reports: ReportEventRepository,
    ) -> None:
        """``client`` must be an egress-guarded one (``services.runtime.egress``)."""
        self._settings = settings
        self._webhooks = webhooks
        self._alerts = alerts
        self._reviews = reviews
        self._reports = reports
        # Alerts first: a review is never more urgent than an alert change.
        self._outboxes: tuple[_Outbox[Any], ...] = (
            _Outbox(
                ALERTS,
                "evt_",
                webhooks.cursor,
                alerts.outbox_after,
                _outbox_body,
                webhooks.delivered,
                _outbox_event,
            ),
            _Outbox(
                "report.weekly",
                "rpt_",
                reports.cursor,
                reports.events_after,
                _report_body,
                reports.delivered,
            ),
        )
        self._sender = Sender(client, settings.request_timeout_seconds)
        self._policy = settings.retry_policy()
        self._metrics = metrics
        self._rng = random.Random()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one delivery task per active webhook until ``stop`` is set."""
        tasks: dict[str, asyncio.Task[None]] = {}
        next_check = 0.0
        try:
            while not stop.is_set():
                try:
                    active = await asyncio.to_thread(self._webhooks.list_active)
                except SQLAlchemyError:
                    log.exception("listing webhooks failed; keeping the current ones")
                else:
                    self._reconcile(tasks, active)
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self._settings.report_check_seconds
                    await self._record_closed_weeks()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.poll_interval_seconds)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    def _reconcile(self, tasks: dict[str, asyncio.Task[None]], active: list[Webhook]) -> None:
        """Stop the tasks of deleted or disabled webhooks; start (or restart after a failure)
        the others."""
        wanted = {webhook.webhook_id for webhook in active}
        for webhook_id in tasks.keys() - wanted:
            tasks.pop(webhook_id).cancel()
        for webhook_id in wanted:
            task = tasks.get(webhook_id)
            if task is not None and task.done() and task.exception() is not None:
                log.error(
                    "webhook delivery stopped; restarting it",
                    webhook_id=webhook_id,
                    exc_info=task.exception(),
                )
            if task is None or task.done():
                tasks[webhook_id] = asyncio.create_task(
                    self._follow(webhook_id), name=f"webhook-{webhook_id}"
                )

    async def _record_closed_weeks(self) -> None:
        try:
            recorded = await asyncio.to_thread(
                record_closed_weeks,
                self._reviews,
                self._reports,
                self._settings.report_base_url,
                datetime.now(UTC),
            )
        except SQLAlchemyError:
            log.exception("recording closed weeks failed; will try again")
        else:
            if recorded:
                log.info("weekly reviews recorded for delivery", count=recorded)

    async def _follow(self, webhook_id: str) -> None:
        """Deliver the outboxes after the webhook's cursors, alerts first, for as long as the
        webhook is active."""
        while True:
            webhook = await asyncio.to_thread(self._webhooks.get, webhook_id)
            if webhook is None or not webhook.active:
                return
            full = False
            for outbox in self._outboxes:
                if outbox.event not in webhook.events:
                    continue
                sent = await self._follow_outbox(webhook, outbox)
                if sent is None:
                    return
                full = full or sent == self._settings.batch_size
            if not full:
                await asyncio.sleep(self._settings.poll_interval_seconds)

    async def _follow_outbox(self, webhook: Webhook, outbox: _Outbox[Any]) -> int | None:
        """Deliver a batch of the outbox after the webhook's cursor; how many, or None when
        the webhook went away."""
        webhook_id = webhook.webhook_id
        cursor = await asyncio.to_thread(outbox.cursor, webhook_id)
        events = await asyncio.to_thread(outbox.events_after, cursor, self._settings.batch_size)
        for event_id, event in events:
            if outbox.event_of is not None and outbox.event_of(event) not in webhook.events:
                await asyncio.to_thread(outbox.delivered, webhook_id, event_id)
                continue
            if not await self._deliver(
                webhook_id,
                f"{outbox.id_prefix}{event_id}",
                partial(outbox.body, event),
                partial(outbox.delivered, webhook_id, event_id),
            ):
                return None
        return len(events)

    async def _deliver(
        self,
        webhook_id: str,
        message: str,
        body_in: Callable[[WebhookFormat], bytes],
        accepted: Callable[[], None],
    ) -> bool:
        """Post one event until the receiver answers 2xx, then record that it was accepted;
        False when the webhook was deleted or disabled first. The webhook is read again before
        each attempt, to sign with its current secrets and honour a wait a previous notifier
        decided."""
        while True:
            webhook = await asyncio.to_thread(self._webhooks.get, webhook_id)
            if webhook is None or not webhook.active:
                return False
            now = datetime.now(UTC)
            if webhook.next_attempt_at is not None and webhook.next_attempt_at > now:
                await asyncio.sleep((webhook.next_attempt_at - now).total_seconds())
                continue
            body = body_in(webhook.format)
            started = time.perf_counter()
            attempt = await self._sender.send(
                webhook.url, message, body, webhook.signing_secrets(now), now
            )
            self._metrics.count(attempt, time.perf_counter() - started)
            if attempt.delivered:
                await asyncio.to_thread(accepted)
                return True
            await self._failed(webhook, message, attempt, now)

    async def _failed(self, webhook: Webhook, message: str, attempt: Attempt, at: datetime) -> None:
        error = attempt.error or f"HTTP {attempt.status}"
        verdict = self._policy.after_failure(
            attempt, webhook.failed_attempts + 1, webhook.failing_since, at, self._rng
        )
        await asyncio.to_thread(
            self._webhooks.failed,
            webhook.webhook_id,
            at,
            error,
            verdict.retry_at,
            verdict.disabled_reason,
        )
        if verdict.disabled_reason is not None:
            self._metrics.disabled.inc()
            log.error(
                "webhook disabled",
                webhook_id=webhook.webhook_id,
                reason=verdict.disabled_reason,
                gone=attempt.status == GONE,
            )
        else:
            log.warning(
                "webhook delivery failed; retrying",
                webhook_id=webhook.webhook_id,
                message_id=message,
                error=error,
                retry_at=verdict.retry_at,
            )


def _outbox_body(event: OutboxEvent, fmt: WebhookFormat) -> bytes:
    return render(fmt, event)


def _outbox_event(event: OutboxEvent) -> WebhookEvent:
    return "budget.moves" if isinstance(event, Recommendation) else ALERTS


def _report_body(event: dict[str, Any], fmt: WebhookFormat) -> bytes:
    return report_body(fmt, event)


async def watch_budget_moves(
    settings: NotifierSettings,
    statuses: StatusRepository,
    configs: CampaignConfigRepository,
    outbox: BudgetMovesOutbox,
    stop: asyncio.Event,
) -> None:
    """Append a ``budget.moves`` event for every campaign whose moves changed, every
    ``budget_moves_check_seconds``, until ``stop`` is set; the delivery tasks then deliver it."""
    min_interval = timedelta(hours=settings.budget_moves_min_interval_hours)
    while not stop.is_set():
        try:
            await asyncio.to_thread(
                emit_budget_moves, statuses, configs, outbox, datetime.now(UTC), min_interval
            )
        except SQLAlchemyError:
            log.exception("emitting budget moves failed; trying again at the next check")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.budget_moves_check_seconds)


async def serve(settings: NotifierSettings, metrics: NotifierMetrics) -> None:
    engine = make_engine(settings.database_url)
    try:
        await asyncio.to_thread(migrate, engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with guarded_client(
            settings.egress_policy(), settings.request_timeout_seconds
        ) as client:
            notifier = Notifier(
                settings,
                WebhookRepository(engine),
                AlertRepository(engine),
                client,
                metrics,
                ReviewSources.on(engine),
                ReportEventRepository(engine),
            )
            await asyncio.gather(
                notifier.run(stop),
                watch_budget_moves(
                    settings,
                    StatusRepository(engine),
                    CampaignConfigRepository(engine),
                    BudgetMovesOutbox(engine),
                    stop,
                ),
            )
    finally:
        engine.dispose()


def main() -> None:
    settings = NotifierSettings()
    metrics = NotifierMetrics()
    serve_metrics(
        settings.metrics_port, settings.metrics_host, settings.metrics_token, metrics.registry
    )
    asyncio.run(serve(settings, metrics))
