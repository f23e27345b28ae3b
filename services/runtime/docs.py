"""The interactive API documentation (Swagger UI at ``/docs``) served with its JavaScript and CSS
from this process, for ingest and the API alike.

FastAPI's own pages load them from a CDN, which an air-gapped deployment cannot reach and which
would run third-party code next to the bearer key a user types into "Authorize". The files come
from the pinned ``fastapi-offline`` wheel (Swagger UI 5, which reads OpenAPI 3.1; the
``swagger-ui-bundle`` package ships Swagger UI 4, which cannot); only its static files are used.
FastAPI's ``/redoc`` is switched off rather than served: it would load from a CDN too. The page
and the files hold no data, so they are open, as is ``/openapi.json``.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"


def serve_docs(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to an app made with ``docs_url=None`` and
    ``redoc_url=None``."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("make the app with docs_url=None and redoc_url=None")
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            # The key typed into "Authorize" survives a reload of the page.
            swagger_ui_parameters={"persistAuthorization": True},
        )
