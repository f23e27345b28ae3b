"""``report.weekly``: a campaign's review reaches each webhook subscribed to it once, after its
week closed, from the notifier against real local receivers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from services.domain.counters import Counters
from services.domain.rollups import DailyRollup
from services.domain.weeks import IsoWeek
from services.notifier.settings import NotifierSettings
from services.storage.repository import StatusRepository
from services.storage.rollups import RollupRepository
from tests.integration.conftest import BuildViews
from tests.integration.test_notifier import (
    SECRET,
    TEST_SCALE,
    Receiver,
    Running,
    _campaign,
    _eventually,
    _verify,
    notifier,
    receivers,
)

pytestmark = pytest.mark.integration

__all__ = ["notifier", "receivers"]  # the fixtures, shared with the alert delivery tests

W48 = IsoWeek.parse("2026-W48")


@pytest.fixture
def notifier_settings() -> NotifierSettings:
    return NotifierSettings(
        poll_interval_seconds=0.05,
        report_check_seconds=0.05,
        report_base_url="http://pulse.example:8000",
        retry_jitter=0,
        time_scale=TEST_SCALE,
    )


async def test_a_closed_week_reaches_each_subscribed_webhook_once(
    notifier: Running,
    receivers: Callable[..., Receiver],
    engine: Engine,
    views: BuildViews,
) -> None:
    subscribed, alerts_only = receivers(), receivers()
    subscribed.start()
    alerts_only.start()
    notifier.webhooks.create(subscribed.url, "generic", SECRET, ("alerts", "report.weekly"))
    notifier.webhooks.create(alerts_only.url, "generic", SECRET)
    campaign = _campaign()
    figures = Counters(views=9_000, likes=300, spend_micros=120_000_000, new_customers=4)
    RollupRepository(engine).save([DailyRollup(campaign, "ana", W48.first_day, figures)], W48.end())
    # Both campaigns' event time has reached Tuesday of the next week: W48 is closed; the
    # second one had no figures in W48 (it started in W49), so it has no review to send.
    for name in (campaign, _campaign()):
        view, creators = views(name, {"ana": "healthy"})
        reached = view.model_copy(update={"as_of": W48.end() + timedelta(days=1)})
        StatusRepository(engine).save([reached], creators)

    await _eventually(lambda: len(subscribed.accepted) == 1)
    await asyncio.sleep(0.5)  # ten more checks for closed weeks and polls of the outbox

    [delivery] = subscribed.accepted
    event = _verify(delivery)
    assert delivery.headers["webhook-id"].startswith("rpt_")
    assert (event["event"], event["campaign_id"], event["week"]) == (
        "report.weekly",
        campaign,
        "2026-W48",
    )
    assert event["summary"]["this_week"]["spend"] == 120.0
    assert event["summary"]["this_week"]["new_customers"] == 4
    assert event["urls"]["pdf"] == (
        f"http://pulse.example:8000/v1/campaigns/{campaign}/reports/weekly?week=2026-W48&format=pdf"
    )
    assert alerts_only.requests == []
