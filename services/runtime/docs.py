"""The interactive API documentation (Swagger UI at ``/docs``) served with its JavaScript and CSS
from this process, and the responses every secured operation can give, for ingest and the API.

FastAPI's own pages load them from a CDN, which an air-gapped deployment cannot reach and which
would run third-party code next to the bearer key a user types into "Authorize". The files come
from the pinned ``fastapi-offline`` wheel (Swagger UI 5, which reads OpenAPI 3.1; the
``swagger-ui-bundle`` package ships Swagger UI 4, which cannot); only its static files are used.
FastAPI's ``/redoc`` is switched off rather than served: it would load from a CDN too. The page
and the files hold no data, so they are open, as is ``/openapi.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# How FastAPI's HTTPException answers: {"detail": "<reason>"}.
DETAIL: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": DETAIL}}}


UNAUTHENTICATED = _error("no usable API key: missing, malformed, unknown, expired or revoked")
FORBIDDEN = _error("the API key lacks the scope this operation needs")
UNPARSABLE = _error("the body could not be read as JSON at all (e.g. not UTF-8)")


def document_common_responses(app: FastAPI) -> None:
    """Add to the OpenAPI document the answers FastAPI gives but does not list: 401 on every
    operation behind the key dependency, 403 where it names a scope, and 400 where there is a
    JSON body (FastAPI answers 400 to a body it cannot decode). One place, so a new route is
    documented as it is secured."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                security = operation.get("security", [])
                if any(requirement for requirement in security):
                    responses.setdefault("401", UNAUTHENTICATED)
                if any(scopes for requirement in security for scopes in requirement.values()):
                    responses.setdefault("403", FORBIDDEN)
                if "application/json" in operation.get("requestBody", {}).get("content", {}):
                    responses.setdefault("400", UNPARSABLE)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
