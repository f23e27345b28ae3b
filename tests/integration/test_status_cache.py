"""Campaign status bodies kept in memory: served only while the database is unchanged, so a
commit by any connection shows at once; a body read across a commit is not kept; nothing is kept
where the database has no change counter (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from services.domain.views import CampaignView, CreatorView
from services.storage.repository import StatusRepository
from services.storage.status_cache import StatusBodyCache

pytestmark = pytest.mark.integration

BuildViews = Callable[..., tuple[CampaignView, list[CreatorView]]]


@pytest.fixture
def cache(engine: Engine) -> Iterator[StatusBodyCache]:
    cache = StatusBodyCache(engine)
    yield cache
    cache.close()


@pytest.fixture
def counted(engine: Engine) -> Engine:
    """The test's database when it has a change counter (a SQLite file)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the change counter is SQLite's")
    return engine


def _save(repository: StatusRepository, views: BuildViews, campaign_id: str, shape: str) -> str:
    campaign, creators = views(campaign_id, {"ana": shape})
    repository.save([campaign], creators)
    body = repository.campaign_json(campaign_id)
    assert body is not None
    return body


@pytest.fixture
def spring(counted: Engine, repository: StatusRepository, views: BuildViews) -> str:
    """The body of a campaign 'spring' written by another connection than the cache's."""
    return _save(repository, views, "spring", "healthy")


def test_a_kept_body_is_served_until_a_commit(
    spring: str, repository: StatusRepository, views: BuildViews, cache: StatusBodyCache
) -> None:
    first = cache.lookup("spring")
    cache.keep("spring", spring, first.version)

    served = cache.lookup("spring")
    _save(repository, views, "summer", "watch")
    after_commit = cache.lookup("spring")

    assert first.body is None
    assert served.body == spring
    assert after_commit.body is None and after_commit.version != first.version


def test_a_body_read_across_a_commit_is_not_kept(
    spring: str, repository: StatusRepository, views: BuildViews, cache: StatusBodyCache
) -> None:
    asked = cache.lookup("spring")
    new = _save(repository, views, "spring", "decaying")
    seen = cache.lookup("spring")

    cache.keep("spring", spring, asked.version)

    assert spring != new
    assert seen.body is None
    assert cache.lookup("spring").body is None


def test_the_number_of_bodies_kept_is_bounded(counted: Engine, spring: str) -> None:
    cache = StatusBodyCache(counted, max_bodies=2)
    try:
        version = cache.lookup("a").version
        for campaign_id in ("a", "b", "c"):
            cache.keep(campaign_id, spring, version)

        kept = [cache.lookup(campaign_id).body is not None for campaign_id in ("a", "b", "c")]
    finally:
        cache.close()

    assert kept == [False, False, True]


def test_nothing_is_kept_without_a_change_counter(
    engine: Engine, repository: StatusRepository, views: BuildViews, cache: StatusBodyCache
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite files have a change counter")
    body = _save(repository, views, "spring", "healthy")
    asked = cache.lookup("spring")
    cache.keep("spring", body, asked.version)

    assert asked.version is None
    assert cache.lookup("spring").body is None


async def test_the_api_serves_a_new_status_as_soon_as_it_is_written(
    app: FastAPI, client: httpx.AsyncClient, repository: StatusRepository, views: BuildViews
) -> None:
    healthy, creators = views("spring", {"ana": "healthy"})
    repository.save([healthy], creators)
    first = await client.get("/v1/campaigns/spring")
    again = await client.get("/v1/campaigns/spring")
    decaying, creators = views("spring", {"ana": "decaying"})
    repository.save([decaying], creators)

    after = await client.get("/v1/campaigns/spring")

    assert first.json()["status"] == again.json()["status"] == "healthy"
    assert after.status_code == 200 and after.json()["status"] == "decaying"
    assert (await client.get("/v1/campaigns/autumn")).status_code == 404


def test_a_body_read_before_the_cache_reopened_its_connection_is_not_kept(
    spring: str, cache: StatusBodyCache
) -> None:
    asked = cache.lookup("spring")
    cache.close()
    reopened = cache.lookup("spring")

    cache.keep("spring", spring, asked.version)

    assert asked.version is not None and reopened.version != asked.version
    assert cache.lookup("spring").body is None
