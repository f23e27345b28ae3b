"""Every route of every service is behind a key, except a short open list: a route added
without a security dependency fails here, so none can be added unprotected by accident."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from services.ingest.app import create_app as create_ingest_app
from services.ingest.settings import IngestSettings
from services.runtime.security import authenticate

# Probes and scrapers, the status page's own files (no data in them), the API documents, the
# sign-in itself, which takes its key in the body, and Shopify's webhooks, which Shopify cannot
# send with an API key: each is authenticated by the HMAC of its body under the shop's secret
# (tests/integration/test_shopify.py refuses an unknown shop and a bad signature with 401).
OPEN = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/"),
    ("GET", "/static/{asset}"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("POST", "/v1/session"),
    ("POST", "/v1/sources/shopify"),
}
OPEN_PREFIXES = ("/docs/",)
# Static files mounted whole: Swagger UI's own assets, served from its package.
OPEN_MOUNTS = {"/docs-assets"}


def _is_open(method: str, path: str) -> bool:
    return (method, path) in OPEN or (method == "GET" and path.startswith(OPEN_PREFIXES))


def _guarded(dependant: Dependant) -> bool:
    return dependant.call is authenticate or any(_guarded(d) for d in dependant.dependencies)


def _endpoints(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, path, whether a security dependency guards it) for every route, with the
    dependencies of the routers that include it."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount) and route.path in OPEN_MOUNTS:
            continue
        assert isinstance(route, Route), f"{route!r} is not a plain route: check it by hand"
        included = getattr(context, "dependencies", None) or []
        guarded = (isinstance(route, APIRoute) and _guarded(route.dependant)) or any(
            _guarded(get_dependant(path=route.path, call=d.dependency))
            for d in included
            if d.dependency is not None
        )
        assert context.path is not None
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield method, context.path, guarded


@pytest.fixture
def ingest_app(tmp_path: Path) -> FastAPI:
    settings = IngestSettings.model_validate(
        {"DATABASE_URL": f"sqlite:///{tmp_path}/pulse.db", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    )
    return create_ingest_app(settings)


def test_every_route_but_the_open_ones_has_a_security_dependency(
    app: FastAPI, ingest_app: FastAPI
) -> None:
    unguarded = [
        (service, method, path)
        for service, each in (("api", app), ("ingest", ingest_app))
        for method, path, guarded in _endpoints(each)
        if not guarded and not _is_open(method, path)
    ]
    assert unguarded == []


def test_the_open_list_holds_nothing_that_is_not_there(app: FastAPI, ingest_app: FastAPI) -> None:
    present = {(m, p) for each in (app, ingest_app) for m, p, _ in _endpoints(each)}
    assert {"/healthz", "/readyz", "/metrics", "/", "/v1/session"} <= {p for _, p in present}
    assert OPEN - present <= {("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}


async def test_every_guarded_route_answers_401_without_a_key(
    app: FastAPI, ingest_app: FastAPI
) -> None:
    refused = 0
    for each in (app, ingest_app):
        transport = httpx.ASGITransport(app=each)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as anonymous:
            for method, path, guarded in _endpoints(each):
                if not guarded:
                    continue
                url = re.sub(r"\{[^}]+\}", "x", path)
                response = await anonymous.request(method, url)
                assert response.status_code == 401, (method, path, response.text)
                assert "WWW-Authenticate" in response.headers
                refused += 1
    assert refused >= 20
