"""The ingest HTTP service: validates events and hands them to Kafka.

An event is reported accepted only after the broker acknowledged it; each rejected item gets an
error naming its index, the field and the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from services.domain.events import FieldError, event_currency, parse_event
from services.domain.keys import Principal
from services.ingest import telemetry
from services.ingest.body import body_document, decode, media_type, read_body
from services.ingest.publisher import BrokerUnavailable, EventPublisher
from services.ingest.rate_limit import KeyRateLimiter, RateLimited
from services.ingest.settings import IngestSettings
from services.ingest.shopify import shopify_router
from services.runtime.docs import DETAIL, document_common_responses, serve_docs
from services.runtime.http import serve
from services.runtime.methods import list_allowed_methods
from services.runtime.security import EventsWriter, metrics_access
from services.runtime.topics import TopicSpec, ensure_topics
from services.service_layer.access import Authenticator
from services.storage.db import make_engine, migrate
from services.storage.keys import KeyRepository
from services.storage.repository import StatusRepository
from services.storage.shopify import ShopifyRepository

log = structlog.get_logger(__name__)


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    errors: list[FieldError]


class Ingest:
    """Everything one request needs, built once at start-up."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.publisher = EventPublisher.for_ingest(settings)
        self.engine = make_engine(settings.database_url)
        self.repository = StatusRepository(self.engine)
        self.authenticator = Authenticator(KeyRepository(self.engine), settings.key_cache_seconds)
        self.shopify = ShopifyRepository(self.engine)

    def known_currencies(self, campaign_ids: set[str]) -> dict[str, str]:
        try:
            return self.repository.campaign_currencies(campaign_ids)
        except Exception:
            log.warning("currency lookup failed; the monitor will check currencies", exc_info=True)
            return {}


def validate_items(
    items: list[Any],
    decode_errors: list[FieldError],
    known_currencies: dict[str, str],
    now: datetime,
    max_clock_skew: timedelta,
) -> tuple[list[tuple[str, Any]], list[FieldError]]:
    errors = list(decode_errors)
    broken_lines = {e.index for e in decode_errors}
    currencies = dict(known_currencies)
    valid: list[tuple[str, Any]] = []
    for index, item in enumerate(items):
        if index in broken_lines:
            telemetry.record_rejected("unknown", telemetry.INVALID_JSON)
            continue
        event = parse_event(item, index, now, max_clock_skew)
        if isinstance(event, list):
            errors.extend(event)
            telemetry.record_rejected(telemetry.type_label(item), telemetry.rejection_reason(item))
            continue
        currency = event_currency(event)
        if currency is not None:
            expected = currencies.setdefault(event.campaign_id, currency)
            if currency != expected:
                errors.append(
                    FieldError(
                        index=index,
                        field="currency",
                        reason=f"{currency} differs from campaign {event.campaign_id}'s "
                        f"currency {expected}: one currency per campaign",
                    )
                )
                telemetry.record_rejected(event.type, telemetry.CURRENCY_MISMATCH)
                continue
        valid.append((event.campaign_id, item))
    errors.sort(key=lambda e: e.index)
    return valid, errors


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    ingest = Ingest(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The keys live in the database: its schema must be there before the first request.
        await run_in_threadpool(migrate, ingest.engine)
        topics = [TopicSpec(settings.events_topic, settings.partitions)]
        creating = asyncio.create_task(
            asyncio.to_thread(ensure_topics, settings.kafka_bootstrap_servers, topics)
        )
        yield
        creating.cancel()
        await run_in_threadpool(ingest.publisher.close)

    app = FastAPI(
        title="Campaign Pulse ingest",
        description="Send post metrics, conversions, spend and reversals; receive Shopify "
        "webhooks. See the README for the contract.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    serve_docs(app)
    document_common_responses(app)
    list_allowed_methods(app)
    app.state.authenticator = ingest.authenticator
    limiter = KeyRateLimiter(
        settings.rate_limit_events_per_second, settings.rate_limit_burst_events
    )
    app.state.metrics_token = settings.metrics_token

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=IngestResult,
        openapi_extra={"requestBody": body_document()},
        responses={
            400: {"description": "the body is not JSON (or the client went away)"},
            408: {"description": "the body did not arrive in time"},
            413: {"description": "body or batch too large"},
            415: {"description": "neither JSON nor NDJSON"},
            422: {
                "description": "no event was valid (each named), or the body holds no events",
                "content": {
                    "application/json": {
                        "schema": {
                            "anyOf": [
                                {"$ref": "#/components/schemas/IngestResult"},
                                DETAIL,
                            ]
                        }
                    }
                },
            },
            429: {"description": "the key's rate limit; retry after Retry-After, nothing accepted"},
            503: {"description": "the broker did not acknowledge; retry after Retry-After"},
        },
    )
    async def post_events(request: Request, response: Response, principal: EventsWriter) -> Any:
        with telemetry.REQUEST_SECONDS.time():
            return await _post_events(request, response, principal)

    async def _post_events(request: Request, response: Response, principal: Principal) -> Any:
        kind = media_type(request)
        _limited(limiter.admit, principal.key_id)
        body = await read_body(request, settings.max_body_bytes)
        items, decode_errors = decode(body, kind)
        if len(items) > settings.max_events_per_request:
            raise HTTPException(
                413, f"{len(items)} events is more than {settings.max_events_per_request} a request"
            )
        if not items:
            raise HTTPException(422, "no events in the body")
        _limited(limiter.charge, principal.key_id, len(items))
        # Only events that carry a currency are checked against their campaign's currency.
        campaign_ids = {
            item["campaign_id"]
            for item in items
            if isinstance(item, dict)
            and isinstance(item.get("campaign_id"), str)
            and "currency" in item
        }
        known = (
            await run_in_threadpool(ingest.known_currencies, campaign_ids) if campaign_ids else {}
        )
        valid, errors = validate_items(
            items,
            decode_errors,
            known,
            datetime.now(UTC),
            timedelta(seconds=settings.max_clock_skew_seconds),
        )
        if valid:
            try:
                await run_in_threadpool(ingest.publisher.publish, valid)
            except BrokerUnavailable as exc:
                telemetry.BROKER_FAILURES.inc()
                raise HTTPException(
                    503,
                    f"the event broker did not acknowledge ({exc}); nothing was accepted, retry",
                    headers={"Retry-After": str(settings.retry_after_seconds)},
                ) from exc
            telemetry.record_accepted(item["type"] for _, item in valid)
        result = IngestResult(
            accepted=len(valid), rejected=len({e.index for e in errors}), errors=errors
        )
        if not valid:
            response.status_code = 422
        return result

    app.include_router(shopify_router(settings, ingest.publisher, ingest.shopify))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(response: Response) -> dict[str, str]:
        if await run_in_threadpool(ingest.publisher.ready):
            return {"status": "ready"}
        response.status_code = 503
        return {"status": "broker unreachable"}

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(metrics_access)])
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _limited(check: Callable[..., None], *args: Any) -> None:
    try:
        check(*args)
    except RateLimited as exc:
        raise HTTPException(
            429,
            f"the API key's rate limit is reached; nothing was accepted, retry in "
            f"{exc.retry_after} s",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None


def main(settings: IngestSettings | None = None) -> None:
    settings = settings or IngestSettings()
    serve(create_app(settings), settings.host, settings.port, settings.http_limits)
