"""Campaigns and their creators, as the monitor last assessed them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel

from services.api.deps import CampaignsReader, Statuses
from services.domain.views import CampaignView, CreatorView, StatusName

MAX_OFFSET = 10**9

router = APIRouter()

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "no such campaign or creator"}
}


class CampaignPage(BaseModel):
    items: list[CampaignView]
    total: int
    limit: int
    offset: int


class CreatorList(BaseModel):
    items: list[CreatorView]


def _campaign_not_found(campaign_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"campaign '{campaign_id}' not found")


@router.get("/v1/campaigns", response_model=CampaignPage, tags=["campaigns"])
def list_campaigns(
    _: CampaignsReader,
    repository: Statuses,
    status_filter: Annotated[StatusName | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CampaignPage:
    """Campaigns, worst status first (decaying, watch, healthy, insufficient_data)."""
    items, total = repository.list_campaigns(status_filter, limit, offset)
    return CampaignPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/v1/campaigns/{campaign_id}",
    response_model=CampaignView,
    responses=NOT_FOUND,
    tags=["campaigns"],
)
def get_campaign(campaign_id: str, _: CampaignsReader, repository: Statuses) -> Response:
    body = repository.campaign_json(campaign_id)
    if body is None:
        raise _campaign_not_found(campaign_id)
    # The stored body is the CampaignView the monitor validated and wrote as JSON: served as it is,
    # without decoding, validating and encoding it again.
    return Response(body, media_type="application/json")


@router.get(
    "/v1/campaigns/{campaign_id}/creators",
    response_model=CreatorList,
    responses=NOT_FOUND,
    tags=["creators"],
)
def list_creators(campaign_id: str, _: CampaignsReader, repository: Statuses) -> CreatorList:
    """A campaign's creators, worst status first."""
    creators = repository.list_creators(campaign_id)
    if not creators and repository.get_campaign(campaign_id) is None:
        raise _campaign_not_found(campaign_id)
    return CreatorList(items=creators)


@router.get(
    "/v1/campaigns/{campaign_id}/creators/{creator_id}",
    response_model=CreatorView,
    responses=NOT_FOUND,
    tags=["creators"],
)
def get_creator(
    campaign_id: str, creator_id: str, _: CampaignsReader, repository: Statuses
) -> CreatorView:
    creator = repository.get_creator(campaign_id, creator_id)
    if creator is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"creator '{creator_id}' not found in campaign '{campaign_id}'",
        )
    return creator
