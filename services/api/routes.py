from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from services.api.metrics import ApiMetrics
from services.domain.views import CampaignView, CreatorView, StatusName
from services.storage.repository import StatusRepository

router = APIRouter()


class CampaignPage(BaseModel):
    items: list[CampaignView]
    total: int
    limit: int
    offset: int


class CreatorList(BaseModel):
    items: list[CreatorView]


class Health(BaseModel):
    status: str


class Unready(BaseModel):
    status: str
    reason: str


async def _repository(request: Request) -> StatusRepository:
    # Async so that FastAPI calls it on the event loop instead of sending it to a worker thread.
    repository: StatusRepository = request.app.state.repository
    return repository


Repository = Annotated[StatusRepository, Depends(_repository)]


def _campaign_not_found(campaign_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"campaign '{campaign_id}' not found")


@router.get("/v1/campaigns", response_model=CampaignPage, tags=["campaigns"])
def list_campaigns(
    repository: Repository,
    status_filter: Annotated[StatusName | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CampaignPage:
    """Campaigns, worst status first (decaying, watch, healthy, insufficient_data)."""
    items, total = repository.list_campaigns(status_filter, limit, offset)
    return CampaignPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/v1/campaigns/{campaign_id}", response_model=CampaignView, tags=["campaigns"])
def get_campaign(campaign_id: str, repository: Repository) -> Response:
    body = repository.campaign_json(campaign_id)
    if body is None:
        raise _campaign_not_found(campaign_id)
    # The stored body is the CampaignView the monitor validated and wrote as JSON: served as it is,
    # without decoding, validating and encoding it again.
    return Response(body, media_type="application/json")


@router.get("/v1/campaigns/{campaign_id}/creators", response_model=CreatorList, tags=["creators"])
def list_creators(campaign_id: str, repository: Repository) -> CreatorList:
    """A campaign's creators, worst status first."""
    creators = repository.list_creators(campaign_id)
    if not creators and repository.get_campaign(campaign_id) is None:
        raise _campaign_not_found(campaign_id)
    return CreatorList(items=creators)


@router.get(
    "/v1/campaigns/{campaign_id}/creators/{creator_id}",
    response_model=CreatorView,
    tags=["creators"],
)
def get_creator(campaign_id: str, creator_id: str, repository: Repository) -> CreatorView:
    creator = repository.get_creator(campaign_id, creator_id)
    if creator is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"creator '{creator_id}' not found in campaign '{campaign_id}'",
        )
    return creator


@router.get("/healthz", response_model=Health, tags=["operations"])
def healthz() -> Health:
    """The process is up; says nothing about the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Unready}},
    tags=["operations"],
)
def readyz(repository: Repository) -> Health | JSONResponse:
    """Ready when the database answers."""
    try:
        repository.ping()
    except SQLAlchemyError as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        reason = next(iter(str(cause).strip().splitlines()), type(cause).__name__)
        return JSONResponse(
            Unready(status="unavailable", reason=reason).model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Health(status="ready")


@router.get("/metrics", response_class=Response, tags=["operations"])
def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    api_metrics: ApiMetrics = request.app.state.metrics
    return Response(generate_latest(api_metrics.registry), media_type=CONTENT_TYPE_LATEST)
