"""/docs of both services work without the internet: every script, style sheet and icon
they name is served by the service itself, without a key, and "Authorize" takes the bearer key."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.api.app import create_app as create_api
from services.api.settings import ApiSettings
from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings

# Neither app is started: the documentation needs no database or broker.
APPS: dict[str, Callable[[Path], FastAPI]] = {
    "api": lambda tmp: create_api(
        ApiSettings.model_validate({"DATABASE_URL": f"sqlite:///{tmp}/a.db"})
    ),
    "ingest": lambda tmp: create_ingest(
        IngestSettings.model_validate({"DATABASE_URL": f"sqlite:///{tmp}/i.db"})
    ),
}
REFERENCE = re.compile(rb"""(?:src|href)=["']([^"']+)["']|url: ?'([^']+)'""")
# Probes, the scraper, signing in (the key is in the body), and Shopify's webhooks (signed with
# the shop's secret instead: see tests/integration/test_route_protection.py).
OPEN = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/v1/session"),
    ("post", "/v1/sources/shopify"),
}
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}


@pytest.fixture(params=sorted(APPS))
async def anonymous(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=APPS[request.param](tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://pulse.test") as client:
        yield client


async def test_the_docs_name_only_their_own_assets_and_they_are_served(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.get("/docs")

    assert response.status_code == 200
    assert not re.search(rb"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", response.content, re.I)
    references = [a or b for a, b in REFERENCE.findall(response.content)]
    assert len(references) >= 3, response.text
    for reference in references:
        assert reference.startswith(b"/"), reference
        asset = await anonymous.get(reference.decode())
        assert asset.status_code == 200, reference
        suffix = Path(reference.decode()).suffix
        assert ASSET_TYPES[suffix] in asset.headers["content-type"], reference


async def test_authorize_takes_a_bearer_key_for_every_data_route(
    anonymous: httpx.AsyncClient,
) -> None:
    document = (await anonymous.get("/openapi.json")).json()

    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method, path) not in OPEN:
                schemes = {name for each in operation.get("security", []) for name in each}
                assert "apiKey" in schemes, (method, path)
