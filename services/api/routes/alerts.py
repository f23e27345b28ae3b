"""Alerts over HTTP: list, read, acknowledge, resolve, and a live Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from services.api.deps import Alerts, AlertsReader, AlertsWriter, Audit
from services.api.query_types import TimeQuery, aware
from services.domain.alerts import Alert, AlertState
from services.service_layer import alerts as actions
from services.storage.alerts import AlertRepository

POLL_INTERVAL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2_000
_BATCH = 100

router = APIRouter(tags=["alerts"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "no such alert"}
}


class AlertPage(BaseModel):
    items: list[Alert]
    total: int
    limit: int
    offset: int


def _found(alert: Alert | None, alert_id: str) -> Alert:
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"alert '{alert_id}' not found")
    return alert


@router.get("/v1/alerts", response_model=AlertPage)
def list_alerts(
    _: AlertsReader,
    repository: Alerts,
    campaign_id: str | None = None,
    creator_id: Annotated[
        str | None, Query(description="Alerts that name this creator as a contributor.")
    ] = None,
    state: AlertState | None = None,
    since: Annotated[
        TimeQuery | None,
        Query(description="RFC 3339; alerts not resolved before this time."),
    ] = None,
    until: Annotated[
        TimeQuery | None, Query(description="RFC 3339; alerts opened before this time.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> AlertPage:
    """Alerts, newest opened first."""
    items, total = repository.list(
        campaign_id=campaign_id,
        creator_id=creator_id,
        state=state,
        since=aware(since),
        until=aware(until),
        limit=limit,
        offset=offset,
    )
    return AlertPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/v1/alerts/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_alerts(
    request: Request,
    _: AlertsReader,
    repository: Alerts,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-Sent Events: every new alert revision as ``event: alert`` with the outbox id as the
    event id. A client reconnecting with ``Last-Event-ID`` gets what it missed; a new one starts
    from now. A ``: keep-alive`` comment goes out after 15 s without an event."""
    after = _event_id(last_event_id)
    if after is None:
        after = await run_in_threadpool(repository.latest_event_id)
    return StreamingResponse(
        _events(request, repository, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event_id(header: str | None) -> int | None:
    if header is None:
        return None
    try:
        return max(int(header.strip()), 0)
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"Last-Event-ID '{header}' is not an event id"
        ) from None


async def _events(request: Request, repository: AlertRepository, after: int) -> AsyncIterator[str]:
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        events = await run_in_threadpool(repository.events_after, after, _BATCH)
        for event_id, alert in events:
            yield f"id: {event_id}\nevent: alert\ndata: {alert.model_dump_json()}\n\n"
            after = event_id
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        if len(events) < _BATCH:
            await asyncio.sleep(POLL_INTERVAL_SECONDS)


@router.get("/v1/alerts/{alert_id}", response_model=Alert, responses=NOT_FOUND)
def get_alert(alert_id: str, _: AlertsReader, repository: Alerts) -> Alert:
    return _found(repository.get(alert_id), alert_id)


@router.post("/v1/alerts/{alert_id}/ack", response_model=Alert, responses=NOT_FOUND)
def acknowledge_alert(
    alert_id: str, principal: AlertsWriter, repository: Alerts, audit: Audit
) -> Alert:
    """Acknowledge a firing alert; it stays acknowledged through later updates, and names the
    key that acknowledged it. Acknowledging an acknowledged or resolved alert changes nothing."""
    return _found(actions.acknowledge(repository, audit, alert_id, principal), alert_id)


@router.post("/v1/alerts/{alert_id}/resolve", response_model=Alert, responses=NOT_FOUND)
def resolve_alert(
    alert_id: str, principal: AlertsWriter, repository: Alerts, audit: Audit
) -> Alert:
    """Resolve an alert by hand, under the key's name. If its cause is still present no new alert
    opens for it until the cause has cleared once. Resolving a resolved alert changes nothing."""
    return _found(actions.resolve(repository, audit, alert_id, principal), alert_id)
