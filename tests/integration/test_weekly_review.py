"""The weekly review from the monitor's own writes: rollups stored by status rounds, the report
served by the API (and the CLI) from them, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from services.domain.keys import Scope
from services.domain.weeks import IsoWeek
from services.monitor.processor import Processor
from services.monitor.snapshots import Changes, StatusRounds
from services.reporting import command
from services.storage.repository import StatusRepository
from services.storage.rollups import RollupRepository
from tests.integration.conftest import bearer
from tests.unit.strategies import CAMPAIGN, conversion_raw, post_metrics_raw, spend_raw

LATENESS = 72 * 3600.0
RETENTION = 7 * 86_400 + 3600.0  # as the monitor's (services/monitor/app.py)
W47, W48 = IsoWeek.parse("2026-W47"), IsoWeek.parse("2026-W48")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEY = CAMPAIGN.encode()


def _at(day: int, hour: int) -> float:
    """Event time ``hour`` o'clock on day ``day`` counted from Monday of 2026-W47."""
    return (W47.start() + timedelta(days=day, hours=hour)).timestamp()


def _fortnight() -> list[list[dict[str, Any]]]:
    """Two weeks, one batch a day: ana paid each Monday and brings a customer a day, bo paid once
    and brings one every other day; each has one post whose views grow 1,000 and 400 a day."""
    days = []
    for day in range(14):
        batch = [
            post_metrics_raw(
                observed_at=_at(day, 12),
                posted_at=_at(0, 8),
                post_id=f"{creator}-post",
                creator_id=creator,
                views=per_day * (day + 1),
                likes=per_day * (day + 1) // 10,
                clicks=per_day * (day + 1) // 100,
            )
            for creator, per_day in (("ana", 1_000), ("bo", 400))
        ]
        batch.append(conversion_raw(f"ana-{day}", occurred_at=_at(day, 15), creator_id="ana"))
        if day % 7 == 0:
            batch.append(spend_raw(f"ana-fee-{day}", occurred_at=_at(day, 9), creator_id="ana"))
        if day == 0:
            batch.append(spend_raw("bo-fee", occurred_at=_at(day, 9), creator_id="bo", amount="40"))
        if day % 2 == 0:
            batch.append(conversion_raw(f"bo-{day}", occurred_at=_at(day, 18), creator_id="bo"))
        days.append(batch)
    return days


def _ana_views(day: int, hour: int, views: int) -> dict[str, Any]:
    return post_metrics_raw(
        observed_at=_at(day, hour),
        posted_at=_at(0, 8),
        post_id="ana-post",
        creator_id="ana",
        views=views,
        likes=views // 10,
        clicks=views // 100,
    )


class Monitor:
    """The monitor's processor and status rounds, writing as its snapshot round does."""

    def __init__(self, engine: Engine) -> None:
        self.processor = Processor({}, {}, LATENESS, RETENTION)
        self.rounds = StatusRounds(self.processor)
        self.statuses = StatusRepository(engine)
        self.rollups = RollupRepository(engine)

    def feed(self, batches: Iterable[list[dict[str, Any]]]) -> None:
        for batch in batches:
            result = self.processor.process(KEY, orjson.dumps(batch))
            assert not result.dead_letters, result.dead_letters
            changes = Changes()
            for campaign_id, creator_id in result.touched_creators:
                changes.creators(campaign_id, (creator_id,))
            built = self.rounds.build(changes, NOW)
            self.statuses.save(built.campaigns, built.creators)
            self.rollups.save(built.rollups, NOW, built.posts)


@pytest.fixture
def monitor(app: FastAPI) -> Monitor:
    monitor = Monitor(app.state.repository.engine)
    monitor.feed(_fortnight())
    return monitor


async def _review(client: httpx.AsyncClient, week: IsoWeek) -> dict[str, Any]:
    response = await client.get(
        f"/v1/campaigns/{CAMPAIGN}/reports/weekly", params={"week": week.label}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_figure_is_the_sum_of_the_weeks_rollups(
    client: httpx.AsyncClient, monitor: Monitor
) -> None:
    review = await _review(client, W48)

    this_week = review["summary"]["this_week"]
    stored = monitor.rollups.read(W48.first_day, W48.last_day, CAMPAIGN)
    assert len(stored) == 14  # two creators, seven days each
    assert this_week["views"] == sum(r.counters.views for r in stored) == 7 * 1_400
    assert this_week["clicks"] == sum(r.counters.clicks for r in stored) == 7 * 14
    assert this_week["new_customers"] == sum(r.counters.new_customers for r in stored) == 7 + 3
    assert this_week["spend"] == 10.0  # ana's second Monday fee; bo paid only in W47
    assert this_week["revenue"] == 10 * 50.0
    assert this_week["cac"] == pytest.approx(1.0)
    last_week = review["summary"]["last_week"]
    assert (last_week["spend"], last_week["new_customers"]) == (50.0, 7 + 4)
    creators = {c["creator_id"]: c for c in review["creators"]}
    assert sum(c["new_customers"] for c in creators.values()) == this_week["new_customers"]
    assert creators["bo"]["cac"] is None  # customers, no spend this week: no figure
    assert review["posts"]["published"] == 0  # both posts went up in W47
    posts = (await _review(client, W47))["posts"]
    assert posts["published"] == 2
    latest = {p["post_id"]: p["views"] for p in posts["best"]}
    assert latest == {"ana-post": 14 * 1_000, "bo-post": 14 * 400}  # their latest snapshots
    assert [step["count"] for step in review["funnel"]] == [
        this_week["views"],
        this_week["engagements"],
        this_week["clicks"],
        this_week["conversions"],
    ]
    # The sections other features fill: the recommendation the API gives now, and the flags.
    recommended = await client.get(f"/v1/campaigns/{CAMPAIGN}/recommendations")
    moves = review["budget_moves"]
    assert moves["available"] and moves["items"] == recommended.json()["moves"]
    assert review["suspicious_engagement"] == {
        "available": True,
        "note": "Flags found up to the end of the week, as the monitor holds them now.",
        "items": [],
    }


async def test_the_cli_writes_what_the_api_serves(
    client: httpx.AsyncClient,
    monitor: Monitor,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "review.json"
    args = argparse.Namespace(campaign=CAMPAIGN, week=W48.label, format="json", out=str(out))

    assert command.main_from_args(args) == 0
    assert orjson.loads(out.read_bytes()) == await _review(client, W48)


async def test_a_replay_and_a_late_event_change_a_past_week_as_they_should(
    client: httpx.AsyncClient, monitor: Monitor
) -> None:
    before = {week: await _review(client, week) for week in (W47, W48)}

    monitor.feed(_fortnight()[-3:])
    assert await _review(client, W48) == before[W48]

    # Monday of W49: a W48 sale arrives two days late; then time moves on past both weeks'
    # retention, and their days keep the figures last stored.
    monitor.feed([[_ana_views(day=14, hour=20, views=15_000)]])
    monitor.feed([[conversion_raw("late", occurred_at=_at(12, 22), creator_id="bo", revenue="70")]])
    monitor.feed([[_ana_views(day=22, hour=1, views=16_000)]])

    after = {week: await _review(client, week) for week in (W47, W48)}
    assert after[W47]["summary"] == before[W47]["summary"]
    this_week, was = after[W48]["summary"]["this_week"], before[W48]["summary"]["this_week"]
    assert this_week["new_customers"] == was["new_customers"] + 1
    assert this_week["revenue"] == was["revenue"] + 70
    assert this_week["views"] == was["views"]


async def test_html_and_portfolio(client: httpx.AsyncClient, monitor: Monitor) -> None:
    page = await client.get(
        f"/v1/campaigns/{CAMPAIGN}/reports/weekly", params={"week": W48.label, "format": "html"}
    )
    portfolio = await client.get("/v1/reports/weekly", params={"week": W48.label})

    assert page.headers["content-type"].startswith("text/html")
    assert page.text.count("<svg data-chart=") == 4
    assert "<script" not in page.text and "://" not in page.text  # no URL at all
    assert [c["campaign_id"] for c in portfolio.json()["campaigns"]] == [CAMPAIGN]


async def test_a_bad_week_is_a_422_naming_week(client: httpx.AsyncClient) -> None:
    for week, reason in (("2026-48", "String should match"), ("2026-W54", "no ISO week 54")):
        response = await client.get("/v1/reports/weekly", params={"week": week})

        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "week"] and reason in error["msg"]


async def test_reviews_need_a_key_that_reads_campaigns(
    app: FastAPI, anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    path = f"/v1/campaigns/{CAMPAIGN}/reports/weekly?week={W48.label}"

    assert (await anonymous.get(path)).status_code == 401
    alerts_only = bearer(app, frozenset({Scope.ALERTS_READ}))
    assert (await anonymous.get(path, headers=alerts_only)).status_code == 403
    assert (await client.get(path)).status_code == 404
