"""Webhook subscriptions: where the notifier delivers alert changes and weekly reviews.

Every URL goes through the egress guard (``services.runtime.egress``) when it is registered, when
it is tested and at every delivery; a refused one is a 422 on ``url`` with the reason.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    UrlConstraints,
    field_validator,
)
from starlette.concurrency import run_in_threadpool

from services.api.deps import Audit, Settings, Webhooks, WebhooksReader, WebhooksWriter
from services.notifier.delivery import Sender
from services.notifier.payloads import test_body
from services.notifier.signing import validate_secret
from services.runtime.egress import EgressPolicy, EgressRefused, guarded_client
from services.storage.webhooks import (
    ALERTS,
    Webhook,
    WebhookEvent,
    WebhookFormat,
    WebhookRepository,
)

_SHOWN_SECRET_CHARS = 4
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "no such webhook"}
}

router = APIRouter(tags=["webhooks"])

Secret = Annotated[
    str,
    AfterValidator(validate_secret),
    Field(
        max_length=256,
        description="`whsec_` and the base64 of 24 to 64 random bytes; generated when absent.",
    ),
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]
    format: WebhookFormat = "generic"
    secret: Secret | None = None
    events: Annotated[
        list[WebhookEvent],
        Field(
            min_length=1,
            max_length=len(get_args(WebhookEvent)),
            description="What to deliver: `alerts` (every alert change) and `report.weekly` "
            "(each campaign's review once its week closed).",
        ),
    ] = [ALERTS]

    @field_validator("events")
    @classmethod
    def _once_each(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        if len(set(events)) != len(events):
            raise ValueError("names an event type twice")
        return events


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: Secret | None = None


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    format: WebhookFormat
    events: list[WebhookEvent]
    secret: str = Field(description="Shown in full only in the answer that made it.")
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation, until when deliveries are also signed with the old secret."
    )
    created_at: datetime
    active: bool
    disabled_reason: str | None = Field(description="Why the notifier stopped delivering.")
    failing_since: datetime | None = Field(description="Start of the current run of failures.")
    last_error: str | None = Field(description="What went wrong in the last failed attempt.")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class TestDelivery(BaseModel):
    delivered: bool = Field(description="The receiver answered 2xx.")
    status_code: int | None = Field(description="The receiver's answer; null when none.")
    reason: str | None = Field(description="Why it was not delivered (refused, unreachable…).")
    message_id: str = Field(description="The `webhook-id` the test event carried.")


def _out(webhook: Webhook, reveal: bool) -> WebhookOut:
    shown = webhook.secret[-_SHOWN_SECRET_CHARS:]
    return WebhookOut(
        webhook_id=webhook.webhook_id,
        url=webhook.url,
        format=webhook.format,
        events=list(webhook.events),
        secret=webhook.secret if reveal else f"********{shown}",
        previous_secret_expires_at=webhook.previous_secret_expires_at,
        created_at=webhook.created_at,
        active=webhook.active,
        disabled_reason=webhook.disabled_reason,
        failing_since=webhook.failing_since,
        last_error=webhook.last_error,
    )


async def _found(webhooks: WebhookRepository, webhook_id: str) -> Webhook:
    webhook = await run_in_threadpool(webhooks.get, webhook_id)
    if webhook is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webhook '{webhook_id}' not found")
    return webhook


@router.post("/v1/webhooks", response_model=WebhookOut, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookCreate,
    principal: WebhooksWriter,
    webhooks: Webhooks,
    audit: Audit,
    settings: Settings,
) -> WebhookOut:
    """Deliver every alert state change from now on to ``url``, signed with ``secret``."""
    url = str(body.url)
    try:
        await EgressPolicy(settings.webhook_allow_cidrs).check_url(url)
    except EgressRefused as exc:
        raise RequestValidationError(
            [{"loc": ("body", "url"), "msg": str(exc), "type": "url_refused", "input": url}]
        ) from exc
    webhook = await run_in_threadpool(
        webhooks.create, url, body.format, body.secret, tuple(body.events)
    )
    await run_in_threadpool(
        audit.record, principal.name, principal.key_id, "webhook.create", webhook.webhook_id
    )
    return _out(webhook, reveal=True)


@router.get("/v1/webhooks", response_model=WebhookList)
def list_webhooks(
    _: WebhooksReader,
    webhooks: Webhooks,
    state: Annotated[
        Literal["all", "active", "disabled"], Query(description="Which webhooks to list.")
    ] = "all",
) -> WebhookList:
    """Webhooks oldest first, secrets masked, with why a disabled one was disabled."""
    active = {"all": None, "active": True, "disabled": False}[state]
    return WebhookList(items=[_out(w, reveal=False) for w in webhooks.find(active)])


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut, responses=_NOT_FOUND)
async def get_webhook(webhook_id: str, _: WebhooksReader, webhooks: Webhooks) -> WebhookOut:
    return _out(await _found(webhooks, webhook_id), reveal=False)


@router.post(
    "/v1/webhooks/{webhook_id}/rotate-secret", response_model=WebhookOut, responses=_NOT_FOUND
)
async def rotate_secret(
    webhook_id: str,
    principal: WebhooksWriter,
    webhooks: Webhooks,
    audit: Audit,
    settings: Settings,
    body: SecretRotation | None = None,
) -> WebhookOut:
    """A new secret, shown once; deliveries are signed with the old one too (both signatures)
    for the overlap the API is configured with (24 h by default)."""
    overlap = timedelta(seconds=settings.webhook_secret_overlap_seconds)
    secret = body.secret if body is not None else None
    webhook = await run_in_threadpool(webhooks.rotate_secret, webhook_id, overlap, secret)
    if webhook is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webhook '{webhook_id}' not found")
    await run_in_threadpool(
        audit.record, principal.name, principal.key_id, "webhook.rotate_secret", webhook_id
    )
    return _out(webhook, reveal=True)


@router.post("/v1/webhooks/{webhook_id}/enable", response_model=WebhookOut, responses=_NOT_FOUND)
def enable_webhook(
    webhook_id: str, principal: WebhooksWriter, webhooks: Webhooks, audit: Audit
) -> WebhookOut:
    """Deliver to a disabled webhook again (after its receiver was fixed): it resumes where it
    stopped, so it gets every change it missed, in order. Enabling an active webhook changes
    nothing."""
    webhook = webhooks.enable(webhook_id)
    if webhook is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webhook '{webhook_id}' not found")
    audit.record(principal.name, principal.key_id, "webhook.enable", webhook_id)
    return _out(webhook, reveal=False)


@router.post("/v1/webhooks/{webhook_id}/test", response_model=TestDelivery, responses=_NOT_FOUND)
async def test_webhook(
    webhook_id: str,
    principal: WebhooksWriter,
    webhooks: Webhooks,
    audit: Audit,
    settings: Settings,
) -> TestDelivery:
    """Send a signed ``webhook.test`` event now, guarded and signed as deliveries are, and tell
    what the receiver answered. Also works for a disabled webhook, to check it before a new one."""
    webhook = await _found(webhooks, webhook_id)
    now = datetime.now(UTC)
    message_id = f"test_{uuid.uuid4().hex}"
    policy = EgressPolicy(settings.webhook_allow_cidrs)
    timeout = settings.webhook_test_timeout_seconds
    async with guarded_client(policy, timeout) as client:
        attempt = await Sender(client, timeout).send(
            webhook.url,
            message_id,
            test_body(webhook.format, webhook_id, now),
            webhook.signing_secrets(now),
            now,
        )
    await run_in_threadpool(
        audit.record, principal.name, principal.key_id, "webhook.test", webhook_id
    )
    return TestDelivery(
        delivered=attempt.delivered,
        status_code=attempt.status,
        reason=attempt.error,
        message_id=message_id,
    )


@router.delete(
    "/v1/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_NOT_FOUND,
)
def delete_webhook(
    webhook_id: str, principal: WebhooksWriter, webhooks: Webhooks, audit: Audit
) -> Response:
    """Stop deliveries to a webhook and forget it."""
    if not webhooks.delete(webhook_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webhook '{webhook_id}' not found")
    audit.record(principal.name, principal.key_id, "webhook.delete", webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
