"""Creators across campaigns: one creator's value campaign after campaign, and every creator
ranked by what they return per unit of spend (never by followers). Method:
docs/creator-value.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from services.api.deps import CampaignsReader, Settings, Statuses
from services.domain.creator_ranking import LEVEL, GammaPrior, RankedCreator, RankingFilter
from services.domain.creator_value import CreatorProfile
from services.domain.tiers import TierBounds
from services.service_layer.creators import profile_of, ranking

MAX_OFFSET = 10**9

router = APIRouter(tags=["creators"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "no campaign has this creator"}
}

PlatformQuery = Annotated[
    str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="e.g. instagram")
]


class CreatorRanking(BaseModel):
    items: list[RankedCreator]
    total: int
    limit: int
    offset: int
    ranked_by: str = Field(
        description="what orders the list: the lower end of the interval on new customers per "
        "1,000 spent, under each currency's prior"
    )
    priors: list[GammaPrior] = Field(description="the prior of each currency in the list")


def valid_tier(tier: str | None, bounds: TierBounds) -> str | None:
    """A tier the API is configured with, else a 422 on ``tier`` naming the ones it knows."""
    names = [name for name, _ in bounds]
    if tier is not None and tier not in names:
        reason = f"unknown tier; the configured tiers are {', '.join(names)}"
        raise RequestValidationError(
            [{"loc": ("query", "tier"), "msg": reason, "type": "unknown_tier", "input": tier}]
        )
    return tier


@router.get("/v1/creators", response_model=CreatorRanking)
async def list_creators(
    _: CampaignsReader,
    repository: Statuses,
    settings: Settings,
    # One order exists yet; the parameter names it so that clients can ask for it explicitly.
    sort: Annotated[
        Literal["value"], Query(description="value: new customers per 1,000 spent, cautiously")
    ] = "value",
    tier: Annotated[str | None, Query(max_length=64, description="a follower tier")] = None,
    platform: PlatformQuery = None,
    campaign_id: Annotated[
        str | None, Query(max_length=128, description="only this campaign's figures")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CreatorRanking:
    """Creators ranked by new customers per 1,000 spent, small samples by the lower end of their
    interval so that one lucky post does not top the list; one row per creator and currency."""
    selection = RankingFilter(
        tier=valid_tier(tier, settings.tier_bounds), platform=platform, campaign_id=campaign_id
    )
    ranked, priors = await run_in_threadpool(ranking, repository, selection, settings.tier_bounds)
    return CreatorRanking(
        items=ranked[offset : offset + limit],
        total=len(ranked),
        limit=limit,
        offset=offset,
        ranked_by=f"new_customers_per_1000.low ({LEVEL:.0%} interval)",
        priors=priors,
    )


@router.get("/v1/creators/{creator_id}", response_model=CreatorProfile, responses=NOT_FOUND)
async def get_creator(
    creator_id: str, _: CampaignsReader, repository: Statuses, settings: Settings
) -> CreatorProfile:
    """The creator in every campaign they worked on, in total (money per currency), and whether
    their engagement rate and CAC hold or fade campaign after campaign."""
    profile = await run_in_threadpool(profile_of, repository, creator_id, settings.tier_bounds)
    if profile is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign has creator '{creator_id}'")
    return profile
