"""Flags found by the monitor reach the creator and campaign views, the database and the API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, delete

from services.domain.windows import HOUR
from services.monitor.alert_keeper import AlertKeeper
from services.monitor.snapshots import StatusRounds
from services.storage.alerts import AlertCreatorRow, AlertEventRow, AlertRepository, AlertRow
from services.storage.repository import StatusRepository
from tests.unit.strategies import CAMPAIGN, T0, post_metrics_raw
from tests.unit.test_snapshots import NOW, processor_with

pytestmark = pytest.mark.integration


def _bought_likes() -> list[dict[str, object]]:
    """Creator ana's post read twice: 900 likes for 20,000 views, then 6,000 more likes while
    its views grow by 1,000; bo's post is honest."""
    ana = [
        post_metrics_raw(creator_id="ana", observed_at=T0, views=20_000, likes=900),
        post_metrics_raw(creator_id="ana", observed_at=T0 + 4 * HOUR, views=21_000, likes=6_900),
    ]
    bo = [post_metrics_raw(creator_id="bo", post_id="bo-1", observed_at=T0, views=9_000, likes=400)]
    return [*ana, *bo]


async def test_a_flag_is_shown_on_the_creator_and_the_campaign(
    client: httpx.AsyncClient, repository: StatusRepository
) -> None:
    processor, changes = processor_with(*_bought_likes())
    built = StatusRounds(processor).build(changes, NOW)
    repository.save(built.campaigns, built.creators)

    creator = (await client.get(f"/v1/campaigns/{CAMPAIGN}/creators/ana")).json()
    honest = (await client.get(f"/v1/campaigns/{CAMPAIGN}/creators/bo")).json()
    campaign = (await client.get(f"/v1/campaigns/{CAMPAIGN}")).json()

    assert [(f["kind"], f["post_id"]) for f in creator["flags"]] == [("engagement_burst", "post-1")]
    evidence = creator["flags"][0]["evidence"]
    assert (evidence["likes_gained"], evidence["views_gained"]) == (6_000, 1_000)
    assert honest["flags"] == []
    assert campaign["flagged_creators"] == [
        {"creator_id": "ana", "kinds": ["engagement_burst"], "flags": 1}
    ]


async def test_a_flagged_creator_opens_a_suspicion_alert_found_by_creator(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    with engine.begin() as connection:  # the PostgreSQL database is shared by tests
        for table in (AlertEventRow, AlertCreatorRow, AlertRow):
            connection.execute(delete(table))
    processor, changes = processor_with(*_bought_likes())
    built = StatusRounds(processor).build(changes, NOW)

    opened = AlertKeeper(AlertRepository(engine)).evaluate(built.campaigns, NOW, built.creators)

    assert [(a.cause, a.severity) for a in opened] == [
        ("creator:ana:suspicious_engagement", "warning")
    ]
    found = (await client.get("/v1/alerts", params={"creator_id": "ana"})).json()["items"]
    assert [a["cause"] for a in found] == ["creator:ana:suspicious_engagement"]
    assert found[0]["flags"][0]["kind"] == "engagement_burst"
    assert found[0]["flags"][0]["evidence"]["likes_gained"] == 6_000
