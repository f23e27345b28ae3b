"""Benchmarks by follower tier and platform from the team's own creators, beside the public
figures with their denominators. Method: docs/creator-value.md."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from services.api.deps import CampaignsReader, Settings, Statuses
from services.api.query_types import TimeQuery, aware
from services.domain.benchmarks import Benchmarks, Dimension
from services.service_layer.creators import benchmark_table

router = APIRouter(tags=["benchmarks"])

GROUPINGS: dict[str, tuple[Dimension, ...]] = {
    "tier": ("tier",),
    "platform": ("platform",),
    "tier,platform": ("tier", "platform"),
    "platform,tier": ("tier", "platform"),
}


@router.get("/v1/benchmarks", response_model=Benchmarks)
async def get_benchmarks(
    _: CampaignsReader,
    repository: Statuses,
    settings: Settings,
    by: Annotated[
        Literal["tier", "platform", "tier,platform", "platform,tier"],
        Query(description="what the groups are"),
    ] = "tier",
    campaign_id: Annotated[
        str | None, Query(max_length=128, description="only this campaign's creators")
    ] = None,
    since: Annotated[
        TimeQuery | None,
        Query(description="RFC 3339; creators in campaigns with data at or after this time"),
    ] = None,
) -> Benchmarks:
    """Per group: creators and posts, engagement rates by views and by followers (median and
    quartiles over creators in campaigns), CPE, CPM, CAC and ROAS per currency, and the public
    reference figures for such accounts."""
    return await run_in_threadpool(
        benchmark_table,
        repository,
        GROUPINGS[by],
        settings.tier_bounds,
        campaign_id,
        aware(since),
    )
