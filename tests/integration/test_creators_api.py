"""The creator and benchmark routes over stored creator views, on both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from services.storage.repository import StatusRepository
from tests.integration.conftest import START, BuildViews, Profile, Shape

pytestmark = pytest.mark.integration


Stored = tuple[str, dict[str, Shape], str, dict[str, Profile] | None]


def _store(repository: StatusRepository, views: BuildViews, *campaigns: Stored) -> None:
    for campaign_id, creators, currency, profiles in campaigns:
        campaign, members = views(campaign_id, creators, currency=currency, profiles=profiles)
        repository.save([campaign], members)


async def test_a_creator_across_campaigns_in_order_with_money_per_currency(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    # ana's CAC in USD quadruples over two campaigns (same fee, a quarter of the customers).
    _store(
        repository,
        views,
        ("autumn", {"ana": "healthy"}, "USD", {"ana": Profile(new_customers=5)}),
        (
            "spring",
            {"ana": "decaying", "bo": "healthy"},
            "USD",
            {"ana": Profile(new_customers=20, posted_at=START - timedelta(days=20))},
        ),
        (
            "summer",
            {"ana": "watch"},
            "EUR",
            {"ana": Profile(new_customers=10, posted_at=START - timedelta(days=10))},
        ),
    )

    response = await client.get("/v1/creators/ana")

    assert response.status_code == 200
    body = response.json()
    assert [c["campaign_id"] for c in body["campaigns"]] == ["spring", "summer", "autumn"]
    assert [c["status"] for c in body["campaigns"]] == ["decaying", "watch", "healthy"]
    assert body["campaigns"][0]["campaign_status"] == "decaying"
    assert body["campaigns"][0]["tier"] == "micro"
    assert body["campaigns"][0]["money"] == {
        "currency": "USD",
        "spend": 250.0,
        "revenue": 800.0,
        "cpe": pytest.approx(250 / 1_500),
        "cpm": pytest.approx(250 / 20),
        "cac": 12.5,
        "roas": pytest.approx(3.2),
        "new_customers_per_1000": 80.0,
        "engagements_per_1000": 6_000.0,
    }
    # Money never adds across currencies; counts do.
    assert [(m["currency"], m["spend"], m["cac"]) for m in body["money"]] == [
        ("EUR", 250.0, 25.0),
        ("USD", 500.0, 500 / 25),
    ]
    assert body["reach"]["new_customers"] == 35
    assert body["reach"]["views"] == 60_000
    # CAC compared within a currency only: USD 12.5 then 50 two campaigns later.
    assert body["cac_trend"]["verdict"] == "fading"
    assert body["cac_trend"]["change_per_campaign"] == pytest.approx(1.0)
    # Engagement per view 7.5%, 8.75%, 10% (decaying, watch, healthy): up 15% a campaign.
    assert body["engagement_rate_trend"]["change_per_campaign"] == pytest.approx(0.1547, abs=1e-4)
    assert body["engagement_rate_trend"]["verdict"] == "improving"


async def test_an_unknown_creator_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/creators/nobody")

    assert response.status_code == 404
    assert "nobody" in response.json()["detail"]


async def test_one_lucky_customer_on_a_tiny_spend_does_not_top_the_ranking(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    steady = {f"s{i}": Profile(spend=2_000, new_customers=16 + i) for i in range(4)}
    _store(
        repository,
        views,
        ("spring", dict.fromkeys(steady, "healthy"), "USD", steady),
        (
            "summer",
            {"lucky": "healthy", "big": "healthy"},
            "USD",
            {
                "lucky": Profile(spend=25, new_customers=1),
                "big": Profile(spend=2_000, new_customers=2, followers=2_000_000),
            },
        ),
    )

    response = await client.get("/v1/creators", params={"sort": "value"})

    assert response.status_code == 200
    body = response.json()
    ranked = [item["creator_id"] for item in body["items"]]
    lucky = next(item for item in body["items"] if item["creator_id"] == "lucky")
    assert lucky["new_customers_per_1000"]["observed"] == 40.0  # the best observed rate
    assert ranked[:4] == ["s3", "s2", "s1", "s0"]
    assert ranked[-1] == "big"
    assert body["total"] == 6
    assert body["priors"][0]["currency"] == "USD"


async def test_the_ranking_filters_and_pages(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    _store(
        repository,
        views,
        (
            "spring",
            {"ana": "healthy", "bo": "healthy", "cy": "healthy"},
            "USD",
            {
                "ana": Profile(new_customers=9),
                "bo": Profile(new_customers=3, followers=600_000, platform="tiktok"),
                "cy": Profile(new_customers=6),
            },
        ),
        ("summer", {"ana": "healthy"}, "USD", {"ana": Profile(new_customers=1)}),
    )

    page = (await client.get("/v1/creators", params={"limit": 1, "offset": 1})).json()
    macro = (await client.get("/v1/creators", params={"tier": "macro"})).json()
    tiktok = (await client.get("/v1/creators", params={"platform": "tiktok"})).json()
    summer = (await client.get("/v1/creators", params={"campaign_id": "summer"})).json()

    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 1, 1, 1)
    assert page["items"][0]["rank"] == 2
    assert [i["creator_id"] for i in macro["items"]] == ["bo"]
    assert [i["creator_id"] for i in tiktok["items"]] == ["bo"]
    assert [(i["creator_id"], i["new_customers"]) for i in summer["items"]] == [("ana", 1)]


BAD_PARAMETERS: dict[str, list[tuple[dict[str, str | int], str]]] = {
    "/v1/creators": [
        ({"tier": "giant"}, "tier"),
        ({"sort": "followers"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"platform": "Not a platform"}, "platform"),
    ],
    "/v1/benchmarks": [({"by": "followers"}, "by"), ({"since": "yesterday"}, "since")],
}


async def test_bad_parameters_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    for path, cases in BAD_PARAMETERS.items():
        for params, field in cases:
            response = await client.get(path, params=params)

            assert response.status_code == 422, (path, params)
            assert response.json()["detail"][0]["loc"] == ["query", field], (path, params)


async def test_benchmarks_by_tier_with_quartiles_money_and_references(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    profiles = {
        "n1": Profile(followers=3_000, spend=100, new_customers=4),
        "n2": Profile(followers=8_000, spend=100, new_customers=2),
        "m1": Profile(followers=2_000_000, spend=1_000, new_customers=5),
    }
    _store(repository, views, ("spring", dict.fromkeys(profiles, "healthy"), "USD", profiles))

    response = await client.get("/v1/benchmarks", params={"by": "tier"})

    assert response.status_code == 200
    body = response.json()
    nano, mega = body["groups"]
    assert (nano["tier"], nano["platform"], nano["creators"], nano["posts"]) == ("nano", None, 2, 2)
    assert mega["tier"] == "mega"
    assert nano["engagement_rate_by_views"] == {"median": 0.1, "p25": 0.1, "p75": 0.1}
    assert nano["engagement_rate_by_followers"]["p75"] > nano["engagement_rate_by_followers"]["p25"]
    assert nano["money"][0]["cac"] == pytest.approx(200 / 6)
    assert nano["money"][0]["new_customers_per_1000"] == pytest.approx(30.0)
    assert {r["denominator"] for r in nano["references"]} >= {"followers"}
    assert all(r["followers_min"] < 10_000 for r in nano["references"])
    assert body["small_vs_large"]["smaller"] == "nano"
    assert body["small_vs_large"]["money"][0]["new_customers_per_1000"] == pytest.approx(6.0)


async def test_benchmarks_by_tier_and_platform_and_for_one_campaign(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    _store(
        repository,
        views,
        ("spring", {"ana": "healthy"}, "USD", {"ana": Profile(platform="tiktok")}),
        ("summer", {"bo": "healthy", "cy": "healthy"}, "EUR", None),
    )

    both = (await client.get("/v1/benchmarks", params={"by": "tier,platform"})).json()
    summer = (await client.get("/v1/benchmarks", params={"campaign_id": "summer"})).json()
    later = await client.get("/v1/benchmarks", params={"since": "2030-01-01T00:00:00Z"})
    # The views' newest event time is 2025-03-07T12:00Z: a naive time is taken as UTC.
    just_before = await client.get("/v1/benchmarks", params={"since": "2025-03-07T11:00:00"})
    just_after = await client.get("/v1/benchmarks", params={"since": "2025-03-07T13:00:00+00:00"})

    assert [(g["tier"], g["platform"]) for g in both["groups"]] == [
        ("micro", "instagram"),
        ("micro", "tiktok"),
    ]
    assert 0.0054 in [r["value"] for r in both["groups"][0]["references"]]  # HypeAuditor micro
    assert all(r["platform"] == "instagram" for r in both["groups"][0]["references"])
    assert [(g["tier"], g["creators"]) for g in summer["groups"]] == [("micro", 2)]
    assert [m["currency"] for m in summer["groups"][0]["money"]] == ["EUR"]
    assert later.status_code == 200
    assert later.json()["groups"] == []
    assert [g["creators"] for g in just_before.json()["groups"]] == [3]
    assert just_after.json()["groups"] == []
