"""Liveness, readiness and metrics: open to probes and scrapers (``/metrics`` takes a bearer
token when ``PULSE_METRICS_TOKEN`` is set)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from services.api.deps import Statuses
from services.api.metrics import ApiMetrics
from services.runtime.security import metrics_access

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Unready(BaseModel):
    status: str
    reason: str


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up; says nothing about the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Unready}},
)
def readyz(repository: Statuses) -> Health | JSONResponse:
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


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
    # The token is wanted only when PULSE_METRICS_TOKEN is set: an empty requirement says that
    # no credentials is acceptable too.
    openapi_extra={"security": [{}]},
    responses={
        status.HTTP_200_OK: {"content": {CONTENT_TYPE_LATEST: {}}},
        status.HTTP_401_UNAUTHORIZED: {"description": "PULSE_METRICS_TOKEN is set and not sent"},
    },
)
def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    api_metrics: ApiMetrics = request.app.state.metrics
    return Response(generate_latest(api_metrics.registry), media_type=CONTENT_TYPE_LATEST)
