from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from services.domain.config import CampaignConfig
from services.domain.views import CampaignView, CreatorView
from services.storage.db import make_engine
from services.storage.repository import StatusRepository
from services.storage.webhooks import CampaignConfigRepository

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]


def _with_week(view: CreatorView, spend: float, new_customers: int) -> CreatorView:
    week = view.windows["7d"].model_copy(update={"spend": spend, "new_customers": new_customers})
    return view.model_copy(update={"windows": {**view.windows, "7d": week}})


def _store(
    repository: StatusRepository,
    views: BuildViews,
    campaign_id: str,
    weeks: dict[str, tuple[str, float, int]],
) -> None:
    campaign, creators = views(campaign_id, {c: status for c, (status, _, _) in weeks.items()})
    weekly = [_with_week(v, weeks[v.creator_id][1], weeks[v.creator_id][2]) for v in creators]
    repository.save([campaign], weekly)


async def test_budget_moves_from_the_expensive_creator_to_the_cheap_one_never_to_a_decaying_one(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    _store(
        repository,
        views,
        "spring",
        {
            "cheap": ("healthy", 1000.0, 120),
            "dear": ("healthy", 1000.0, 20),
            "fading": ("decaying", 1000.0, 150),
        },
    )

    response = await client.get("/v1/campaigns/spring/recommendations")

    assert response.status_code == 200
    body = response.json()
    assert body["reason"] is None and body["mode"] == "fixed_budget"
    assert {(m["from_creator_id"], m["to_creator_id"]) for m in body["moves"]} <= {
        ("dear", "cheap"),
        ("fading", "cheap"),
    }
    assert ("dear", "cheap") in {(m["from_creator_id"], m["to_creator_id"]) for m in body["moves"]}
    assert all(m["probability"] > 0.8 and m["currency"] == "USD" for m in body["moves"])
    creators = {c["creator_id"]: c for c in body["creators"]}
    assert creators["fading"]["proposed_spend"] <= 1000.0
    assert not creators["fading"]["receives_budget"]
    assert 700.0 <= creators["dear"]["proposed_spend"] < 1000.0
    assert 1000.0 < creators["cheap"]["proposed_spend"] <= 1300.0
    assert body["proposed_budget"] == pytest.approx(body["budget"], abs=0.05)
    cheap, dear = creators["cheap"]["marginal_cac"], creators["dear"]["marginal_cac"]
    assert cheap["low"] < cheap["mid"] < cheap["high"] < dear["low"]


async def test_too_little_data_answers_no_moves_with_the_reason(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    _store(repository, views, "quiet", {"a": ("healthy", 300.0, 2), "b": ("healthy", 300.0, 9)})

    response = await client.get("/v1/campaigns/quiet/recommendations")

    assert response.status_code == 200
    body = response.json()
    assert body["moves"] == []
    assert body["reason"].startswith("too little data: 11 new customers")


async def test_a_target_cac_releases_spend_where_a_customer_costs_more(
    client: httpx.AsyncClient,
    repository: StatusRepository,
    views: BuildViews,
    database_url: str,
) -> None:
    _store(
        repository,
        views,
        "target",
        {"cheap": ("healthy", 1000.0, 40), "dear": ("healthy", 1000.0, 10)},
    )
    config = CampaignConfig(
        campaign_id="target",
        updated_at=datetime.now(UTC),
        target_cac=Decimal(20),
        currency="USD",
    )
    CampaignConfigRepository(make_engine(database_url)).save(config)

    response = await client.get("/v1/campaigns/target/recommendations")

    body = response.json()
    assert body["mode"] == "target_cac" and body["target_cac"] == 20.0
    assert ("dear", None) in {(m["from_creator_id"], m["to_creator_id"]) for m in body["moves"]}
    assert body["proposed_budget"] < body["budget"]


async def test_an_unknown_campaign_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/campaigns/nowhere/recommendations")

    assert response.status_code == 404
    assert response.json()["detail"] == "campaign 'nowhere' not found"
