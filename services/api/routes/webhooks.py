"""Webhook subscriptions: where the notifier delivers alert changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from services.api.deps import Audit, Webhooks, WebhooksReader, WebhooksWriter
from services.storage.webhooks import Webhook, WebhookFormat

_SHOWN_SECRET_CHARS = 4

router = APIRouter(tags=["webhooks"])


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]
    format: WebhookFormat = "generic"
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="HMAC-SHA256 key for X-Pulse-Signature; generated when absent.",
    )


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    format: WebhookFormat
    secret: str = Field(description="Shown in full only in the answer to the POST that made it.")
    created_at: datetime
    active: bool


class WebhookList(BaseModel):
    items: list[WebhookOut]


def _out(webhook: Webhook, reveal: bool) -> WebhookOut:
    shown = webhook.secret[-_SHOWN_SECRET_CHARS:]
    return WebhookOut(
        webhook_id=webhook.webhook_id,
        url=webhook.url,
        format=webhook.format,
        secret=webhook.secret if reveal else f"********{shown}",
        created_at=webhook.created_at,
        active=webhook.active,
    )


@router.post("/v1/webhooks", response_model=WebhookOut, status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate, principal: WebhooksWriter, webhooks: Webhooks, audit: Audit
) -> WebhookOut:
    """Deliver every alert state change from now on to ``url``, signed with ``secret``."""
    webhook = webhooks.create(str(body.url), body.format, body.secret)
    audit.record(principal.name, principal.key_id, "webhook.create", webhook.webhook_id)
    return _out(webhook, reveal=True)


@router.get("/v1/webhooks", response_model=WebhookList)
def list_webhooks(_: WebhooksReader, webhooks: Webhooks) -> WebhookList:
    """Active webhooks, oldest first, secrets masked."""
    return WebhookList(items=[_out(w, reveal=False) for w in webhooks.list_active()])


@router.delete(
    "/v1/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={status.HTTP_404_NOT_FOUND: {"description": "no such active webhook"}},
)
def delete_webhook(
    webhook_id: str, principal: WebhooksWriter, webhooks: Webhooks, audit: Audit
) -> Response:
    """Stop deliveries to a webhook."""
    if not webhooks.deactivate(webhook_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"webhook '{webhook_id}' not found")
    audit.record(principal.name, principal.key_id, "webhook.delete", webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
