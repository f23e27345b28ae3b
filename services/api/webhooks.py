"""Webhook subscriptions and campaign configuration.

A campaign's configuration is produced to the compacted config topic (key: campaign id, value:
``CampaignConfig`` as JSON) and stored only once the broker acknowledged it, so the database never
holds a configuration the monitor cannot see; when the broker does not answer the client gets 503
and nothing is stored.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request, Response, status
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints
from pydantic_settings import SettingsConfigDict
from starlette.concurrency import run_in_threadpool

from services.domain.config import CampaignConfig, CampaignSettings
from services.runtime.topics import TopicSpec, ensure_topics
from services.settings import SharedSettings
from services.storage.repository import StatusRepository
from services.storage.webhooks import (
    CampaignConfigRepository,
    Webhook,
    WebhookFormat,
    WebhookRepository,
)

CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$"
_SHOWN_SECRET_CHARS = 4


class CampaignConfigSettings(SharedSettings):
    """Where campaign configurations go; ``PULSE_CONFIG_TOPIC`` and ``PULSE_API_CONFIG_*``."""

    model_config = SettingsConfigDict(env_prefix="PULSE_API_", extra="ignore")

    config_partitions: int = Field(
        default=4, description="Partitions of the config topic: as many as the events topic."
    )
    config_produce_timeout_seconds: float = 5.0
    config_retry_after_seconds: int = 5


class ConfigNotPublished(Exception):
    """The broker did not acknowledge a configuration; nothing may be stored."""


class ConfigPublisher:
    """Produces configurations with kafka-python, acks=all, waiting for the acknowledgement."""

    def __init__(self, bootstrap_servers: str, settings: CampaignConfigSettings) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._topic = TopicSpec(
            settings.config_topic, settings.config_partitions, {"cleanup.policy": "compact"}
        )
        self._timeout = settings.config_produce_timeout_seconds
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _connect(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                timeout_ms = int(self._timeout * 1000)
                producer = KafkaProducer(
                    bootstrap_servers=self._bootstrap_servers.split(","),
                    client_id="pulse-api-config",
                    acks="all",
                    retries=3,
                    bootstrap_timeout_ms=timeout_ms,
                    max_block_ms=timeout_ms,
                    request_timeout_ms=timeout_ms,
                    delivery_timeout_ms=timeout_ms + 2000,
                )
                try:
                    # The broker answered the producer's bootstrap, so this rarely waits.
                    ensure_topics(self._bootstrap_servers, [self._topic])
                except BaseException:
                    producer.close(timeout=0)
                    raise
                self._producer = producer
            return self._producer

    def publish(self, config: CampaignConfig) -> None:
        """Return only once the broker acknowledged the configuration."""
        try:
            producer = self._connect()
            future = producer.send(
                self._topic.name,
                key=config.campaign_id.encode(),
                value=config.model_dump_json().encode(),
            )
            producer.flush(timeout=self._timeout)
            future.get(timeout=self._timeout)
        except KafkaError as exc:
            raise ConfigNotPublished(str(exc)) from exc

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self._timeout)


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


def _webhooks(request: Request) -> WebhookRepository:
    repository: WebhookRepository = request.app.state.webhooks
    return repository


def _configs(request: Request) -> CampaignConfigRepository:
    repository: CampaignConfigRepository = request.app.state.campaign_configs
    return repository


def _publisher(request: Request) -> ConfigPublisher:
    publisher: ConfigPublisher = request.app.state.config_publisher
    return publisher


Webhooks = Annotated[WebhookRepository, Depends(_webhooks)]
Configs = Annotated[CampaignConfigRepository, Depends(_configs)]
Publisher = Annotated[ConfigPublisher, Depends(_publisher)]
CampaignId = Annotated[str, Path(min_length=1, max_length=128, pattern=CAMPAIGN_ID_PATTERN)]


def webhooks_router(
    bootstrap_servers: str, settings: CampaignConfigSettings | None = None
) -> APIRouter:
    """The webhook and campaign-configuration routes; they use the app's status database."""
    config_settings = settings or CampaignConfigSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        statuses: StatusRepository = app.state.repository
        app.state.webhooks = WebhookRepository(statuses.engine)
        app.state.campaign_configs = CampaignConfigRepository(statuses.engine)
        publisher = ConfigPublisher(bootstrap_servers, config_settings)
        app.state.config_publisher = publisher
        try:
            yield
        finally:
            await run_in_threadpool(publisher.close)

    router = APIRouter(lifespan=lifespan)

    @router.post(
        "/v1/webhooks",
        response_model=WebhookOut,
        status_code=status.HTTP_201_CREATED,
        tags=["webhooks"],
    )
    def create_webhook(body: WebhookCreate, webhooks: Webhooks) -> WebhookOut:
        """Deliver every alert state change from now on to ``url``, signed with ``secret``."""
        webhook = webhooks.create(str(body.url), body.format, body.secret)
        return _out(webhook, reveal=True)

    @router.get("/v1/webhooks", response_model=WebhookList, tags=["webhooks"])
    def list_webhooks(webhooks: Webhooks) -> WebhookList:
        """Active webhooks, oldest first, secrets masked."""
        return WebhookList(items=[_out(w, reveal=False) for w in webhooks.list_active()])

    @router.delete(
        "/v1/webhooks/{webhook_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["webhooks"],
    )
    def delete_webhook(webhook_id: str, webhooks: Webhooks) -> Response:
        """Stop deliveries to a webhook."""
        if not webhooks.deactivate(webhook_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"webhook '{webhook_id}' not found")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.put(
        "/v1/campaigns/{campaign_id}/config",
        response_model=CampaignConfig,
        responses={
            status.HTTP_503_SERVICE_UNAVAILABLE: {
                "description": "the broker did not acknowledge; nothing stored, retry"
            }
        },
        tags=["campaigns"],
    )
    def put_config(
        campaign_id: CampaignId, body: CampaignSettings, configs: Configs, publisher: Publisher
    ) -> CampaignConfig:
        """Set a campaign's target CAC, budget, currency and sensitivity (replacing them all)."""
        config = CampaignConfig(
            campaign_id=campaign_id, updated_at=datetime.now(UTC), **body.model_dump()
        )
        try:
            publisher.publish(config)
        except ConfigNotPublished as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the broker did not acknowledge the configuration ({exc}); nothing was stored, "
                "retry",
                headers={"Retry-After": str(config_settings.config_retry_after_seconds)},
            ) from exc
        configs.save(config)
        return config

    @router.get(
        "/v1/campaigns/{campaign_id}/config", response_model=CampaignConfig, tags=["campaigns"]
    )
    def get_config(campaign_id: CampaignId, configs: Configs) -> CampaignConfig:
        config = configs.get(campaign_id)
        if config is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"campaign '{campaign_id}' has no configuration"
            )
        return config

    return router
