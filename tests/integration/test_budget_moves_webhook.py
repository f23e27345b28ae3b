"""``budget.moves`` from the outbox to a real receiver on loopback: emitted when a campaign's
moves change, at most once a day, and delivered once to each webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete

from services.domain.views import CampaignView, CreatorView
from services.notifier.app import Notifier, NotifierMetrics
from services.notifier.settings import NotifierSettings
from services.runtime.egress import guarded_client
from services.service_layer.budget_events import emit_budget_moves
from services.service_layer.reports import ReviewSources
from services.storage.alerts import AlertRepository
from services.storage.budget_moves import BudgetMovesOutbox, BudgetMovesSentRow
from services.storage.report_events import ReportEventRepository
from services.storage.repository import StatusRepository
from services.storage.webhooks import (
    CampaignConfigRepository,
    WebhookCursorRow,
    WebhookRepository,
    WebhookRow,
)
from tests.integration.test_notifier import LOOPBACK, SECRET, Receiver, _eventually, _free_port
from tests.integration.test_notifier import _verify as verified

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]
DAY = timedelta(days=1)
NOW = datetime(2026, 5, 4, 9, tzinfo=UTC)


def _store(
    repository: StatusRepository, views: BuildViews, weeks: dict[str, tuple[float, int]]
) -> None:
    campaign, creators = views("spring", dict.fromkeys(weeks, "healthy"))
    weekly = []
    for view in creators:
        spend, customers = weeks[view.creator_id]
        week = view.windows["7d"].model_copy(update={"spend": spend, "new_customers": customers})
        weekly.append(view.model_copy(update={"windows": {**view.windows, "7d": week}}))
    repository.save([campaign], weekly)


async def test_budget_moves_reach_each_webhook_once_when_they_change_at_most_daily(
    engine: Engine, repository: StatusRepository, views: BuildViews
) -> None:
    with engine.begin() as connection:
        connection.execute(delete(WebhookCursorRow))
        connection.execute(delete(WebhookRow))
        connection.execute(delete(BudgetMovesSentRow))
    webhooks = WebhookRepository(engine)
    receivers = [Receiver(_free_port()), Receiver(_free_port())]
    alerts_only = Receiver(_free_port())
    for receiver in receivers:
        receiver.start()
        webhooks.create(receiver.url, "generic", secret=SECRET, events=("alerts", "budget.moves"))
    alerts_only.start()
    webhooks.create(alerts_only.url, "generic", secret=SECRET)
    outbox, configs = BudgetMovesOutbox(engine), CampaignConfigRepository(engine)

    def emit(at: datetime) -> list[int]:
        return emit_budget_moves(repository, configs, outbox, at, DAY)

    _store(repository, views, {"ana": (1000.0, 150), "bo": (1000.0, 20), "cy": (1000.0, 60)})
    first = emit(NOW)
    repeated = emit(NOW + timedelta(hours=1))
    _store(repository, views, {"ana": (1000.0, 20), "bo": (1000.0, 150), "cy": (1000.0, 60)})
    too_soon = emit(NOW + timedelta(hours=2))
    next_day = emit(NOW + DAY + timedelta(hours=1))

    assert len(first) == 1 and repeated == [] and too_soon == [] and len(next_day) == 1
    settings = NotifierSettings(poll_interval_seconds=0.05, time_scale=0.01)
    stop = asyncio.Event()
    async with guarded_client(LOOPBACK, settings.request_timeout_seconds) as client:
        notifier = Notifier(
            settings,
            webhooks,
            AlertRepository(engine),
            client,
            NotifierMetrics(),
            ReviewSources.on(engine),
            ReportEventRepository(engine),
        )
        task = asyncio.create_task(notifier.run(stop))
        try:
            await _eventually(lambda: all(len(r.accepted) == 2 for r in receivers))
            await asyncio.sleep(0.3)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=5)
            for receiver in [*receivers, alerts_only]:
                receiver.stop()

    assert alerts_only.requests == []

    for receiver in receivers:
        bodies = [verified(r) for r in receiver.accepted]
        assert len(receiver.requests) == 2
        assert [b["event"] for b in bodies] == ["budget.moves", "budget.moves"]
        assert [b["campaign_id"] for b in bodies] == ["spring", "spring"]
        pairs = [{(m["from_creator_id"], m["to_creator_id"]) for m in b["moves"]} for b in bodies]
        assert ("bo", "ana") in pairs[0] and ("ana", "bo") in pairs[1]
        ids = [int(r.headers["webhook-id"].removeprefix("evt_")) for r in receiver.accepted]
        assert ids == first + next_day
