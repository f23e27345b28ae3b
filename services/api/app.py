from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from services.api.config_publisher import ConfigPublisher
from services.api.metrics import ApiMetrics, MetricsMiddleware
from services.api.routes import (
    alerts,
    benchmarks,
    campaigns,
    configs,
    creators,
    keys,
    operations,
    posts,
    recommendations,
    reports,
    session,
    sources,
    status_page,
    webhooks,
)
from services.api.settings import ApiSettings
from services.runtime.docs import document_common_responses, serve_docs
from services.runtime.http import serve
from services.runtime.methods import list_allowed_methods
from services.service_layer.access import Authenticator
from services.service_layer.reports import ReviewSources
from services.storage.alerts import AlertRepository
from services.storage.db import make_engine, migrate
from services.storage.keys import AuditLog, KeyRepository
from services.storage.posts import WatchedPostRepository
from services.storage.repository import StatusRepository
from services.storage.shopify import ShopifyRepository
from services.storage.webhooks import CampaignConfigRepository, WebhookRepository

ROUTERS = (
    campaigns.router,
    creators.router,
    benchmarks.router,
    configs.router,
    posts.router,
    recommendations.router,
    alerts.router,
    reports.router,
    webhooks.router,
    sources.router,
    keys.router,
    session.router,
    operations.router,
    status_page.router,
)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        publisher = ConfigPublisher(settings)
        try:
            await run_in_threadpool(migrate, engine)
            app.state.repository = StatusRepository(engine)
            app.state.alerts = AlertRepository(engine)
            app.state.webhooks = WebhookRepository(engine)
            app.state.campaign_configs = CampaignConfigRepository(engine)
            app.state.shopify = ShopifyRepository(engine)
            app.state.keys = KeyRepository(engine)
            app.state.watched_posts = WatchedPostRepository(engine)
            app.state.audit = AuditLog(engine)
            app.state.authenticator = Authenticator(app.state.keys, settings.key_cache_seconds)
            app.state.config_publisher = publisher
            app.state.reviews = ReviewSources.on(engine)
            yield
        finally:
            await run_in_threadpool(publisher.close)
            engine.dispose()

    app = FastAPI(
        title="Campaign Pulse API",
        summary="Live status of influencer-marketing campaigns and their creators.",
        description="Every route but /healthz, /readyz and /metrics wants an API key: "
        "`Authorization: Bearer pulse_…`.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    serve_docs(app)
    document_common_responses(app)
    list_allowed_methods(app)
    app.state.settings = settings
    app.state.metrics_token = settings.metrics_token
    api_metrics = ApiMetrics()
    app.state.metrics = api_metrics
    app.add_middleware(MetricsMiddleware, metrics=api_metrics, routes=app.routes)
    for router in ROUTERS:
        app.include_router(router)
    return app


def main() -> None:
    settings = ApiSettings()
    serve(create_app(settings), settings.host, settings.port)
