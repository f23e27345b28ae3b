from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from services.api.alerts import router as alerts_router
from services.api.metrics import ApiMetrics, MetricsMiddleware
from services.api.routes import router
from services.api.settings import ApiSettings
from services.api.status_page import router as status_page_router
from services.api.webhooks import webhooks_router
from services.runtime.http import serve
from services.storage.db import make_engine, migrate
from services.storage.repository import StatusRepository


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url)
        try:
            await run_in_threadpool(migrate, engine)
            app.state.repository = StatusRepository(engine)
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Campaign Pulse API",
        summary="Live status of influencer-marketing campaigns and their creators.",
        docs_url="/docs",
        lifespan=lifespan,
    )
    api_metrics = ApiMetrics()
    app.state.metrics = api_metrics
    app.add_middleware(MetricsMiddleware, metrics=api_metrics, routes=app.routes)
    app.include_router(router)
    app.include_router(alerts_router)
    app.include_router(status_page_router)
    app.include_router(webhooks_router(settings.kafka_bootstrap_servers))
    return app


def main() -> None:
    settings = ApiSettings()
    serve(create_app(settings), settings.host, settings.port)
