from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from services.domain.views import CampaignView, CreatorView
from services.storage.db import make_engine
from services.storage.repository import StatusRepository

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]


@pytest.fixture
def stored(
    repository: StatusRepository, views: BuildViews
) -> dict[str, tuple[CampaignView, list[CreatorView]]]:
    built = {
        "spring": views(
            "spring", {"ana": "healthy", "bo": "decaying", "cy": "watch"}, status="watch"
        ),
        "summer": views("summer", {"dee": "healthy"}),
        "autumn": views("autumn", {"eve": "insufficient_data"}, currency="EUR"),
        "winter": views("winter", {"fay": "decaying"}),
    }
    for campaign, creators in built.values():
        repository.save([campaign], creators)
    return built


def _json(view: CampaignView | CreatorView) -> object:
    return view.model_dump(mode="json")


async def test_a_fresh_database_is_migrated_at_startup(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/campaigns")

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 100, "offset": 0}


async def test_list_campaigns_worst_first(
    client: httpx.AsyncClient, stored: dict[str, object]
) -> None:
    response = await client.get("/v1/campaigns")

    assert response.status_code == 200
    body = response.json()
    assert [(c["campaign_id"], c["status"]) for c in body["items"]] == [
        ("winter", "decaying"),
        ("spring", "watch"),
        ("summer", "healthy"),
        ("autumn", "insufficient_data"),
    ]
    assert (body["total"], body["limit"], body["offset"]) == (4, 100, 0)


async def test_list_campaigns_pages(client: httpx.AsyncClient, stored: dict[str, object]) -> None:
    response = await client.get("/v1/campaigns", params={"limit": 2, "offset": 1})

    assert response.status_code == 200
    body = response.json()
    assert [c["campaign_id"] for c in body["items"]] == ["spring", "summer"]
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 1)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("decaying", ["winter"]), ("watch", ["spring"]), ("healthy", ["summer"])],
)
async def test_list_campaigns_filters_by_status(
    client: httpx.AsyncClient, stored: dict[str, object], status: str, expected: list[str]
) -> None:
    response = await client.get("/v1/campaigns", params={"status": status})

    assert response.status_code == 200
    body = response.json()
    assert [c["campaign_id"] for c in body["items"]] == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    "params",
    [{"status": "dying"}, {"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}],
)
async def test_list_campaigns_rejects_bad_queries(
    client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    response = await client.get("/v1/campaigns", params=params)

    assert response.status_code == 422
    (name,) = params
    assert response.json()["detail"][0]["loc"] == ["query", name]


async def test_get_campaign(
    client: httpx.AsyncClient, stored: dict[str, tuple[CampaignView, list[CreatorView]]]
) -> None:
    campaign, _ = stored["spring"]

    response = await client.get("/v1/campaigns/spring")

    assert response.status_code == 200
    assert response.json() == _json(campaign)
    assert CampaignView.model_validate(response.json()) == campaign


async def test_list_creators_worst_first(
    client: httpx.AsyncClient, stored: dict[str, tuple[CampaignView, list[CreatorView]]]
) -> None:
    response = await client.get("/v1/campaigns/spring/creators")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(c["creator_id"], c["status"]) for c in items] == [
        ("bo", "decaying"),
        ("cy", "watch"),
        ("ana", "healthy"),
    ]


async def test_get_creator(
    client: httpx.AsyncClient, stored: dict[str, tuple[CampaignView, list[CreatorView]]]
) -> None:
    _, (ana, _bo, _cy) = stored["spring"]

    response = await client.get("/v1/campaigns/spring/creators/ana")

    assert response.status_code == 200
    assert response.json() == _json(ana)


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/v1/campaigns/nope", "campaign 'nope' not found"),
        ("/v1/campaigns/nope/creators", "campaign 'nope' not found"),
        ("/v1/campaigns/nope/creators/ana", "creator 'ana' not found in campaign 'nope'"),
        ("/v1/campaigns/spring/creators/dee", "creator 'dee' not found in campaign 'spring'"),
    ],
)
async def test_unknown_ids_are_404(
    client: httpx.AsyncClient, stored: dict[str, object], path: str, detail: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": detail}


async def test_a_campaign_without_creators_lists_none(
    client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    campaign, _ = views("quiet", {}, currency=None)
    repository.save([campaign], [])

    response = await client.get("/v1/campaigns/quiet/creators")

    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_is_503_when_the_database_is_gone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    reachable = app.state.repository
    unreachable = make_engine("postgresql://postgres@127.0.0.1:1/pulse?connect_timeout=2")
    app.state.repository = StatusRepository(unreachable)
    try:
        response = await client.get("/readyz")
    finally:
        app.state.repository = reachable
        unreachable.dispose()

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"]


async def _samples(
    client: httpx.AsyncClient,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, stored: dict[str, object]
) -> None:
    await client.get("/v1/campaigns/spring")
    await client.get("/v1/campaigns/summer")
    await client.get("/v1/campaigns/nope")
    await client.get("/v1/campaigns/spring/creators/ana")
    await client.get("/no/such/path")
    await client.get("/openapi.json")

    samples = await _samples(client)

    def requests(route: str, status: str) -> float:
        labels = (("method", "GET"), ("route", route), ("status", status))
        return samples.get(("pulse_api_requests_total", labels), 0.0)

    assert requests("/v1/campaigns/{campaign_id}", "200") == 2
    assert requests("/v1/campaigns/{campaign_id}", "404") == 1
    assert requests("/v1/campaigns/{campaign_id}/creators/{creator_id}", "200") == 1
    assert requests("unmatched", "404") == 1
    assert requests("/openapi.json", "200") == 1
    duration = (
        "pulse_api_request_duration_seconds_count",
        (("method", "GET"), ("route", "/v1/campaigns/{campaign_id}")),
    )
    assert samples[duration] == 3
    routes = {dict(labels)["route"] for name, labels in samples if name.startswith("pulse_api_")}
    assert not any("spring" in route or "nope" in route for route in routes)


async def test_openapi_documents_the_views(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "Campaign Pulse API"
    assert {"CampaignView", "CreatorView"} <= set(spec["components"]["schemas"])
    assert (await client.get("/docs")).status_code == 200
