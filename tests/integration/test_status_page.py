from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.api.app import create_app
from services.api.settings import ApiSettings
from services.api.status_page import STATIC_DIR

pytestmark = pytest.mark.integration

# The one absolute URL the page may hold: an XML namespace name, which is never fetched.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(ApiSettings.model_validate({"DATABASE_URL": f"sqlite:///{tmp_path}/pulse.db"}))
    async with app.router.lifespan_context(app):
        yield app


async def test_the_root_is_the_status_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    page = response.text
    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert '<script src="/static/app.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/style.css">' in page
    assert re.search(r'<ul id="alerts"[^>]*aria-live="polite"', page)


@pytest.mark.parametrize(
    ("asset", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
    ],
)
async def test_assets_are_served_with_their_content_types(
    client: httpx.AsyncClient, asset: str, content_type: str
) -> None:
    response = await client.get(f"/static/{asset}")

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC_DIR / asset).read_bytes()


async def test_every_asset_the_page_links_is_served(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    linked = re.findall(r'(?:src|href)="(/[^"]*)"', page)

    assert linked
    for path in linked:
        assert (await client.get(path)).status_code == 200, path


@pytest.mark.parametrize(
    "path", ["/static/nope.js", "/static/index.html", "/static/..%2Fstatus_page.py"]
)
async def test_only_the_listed_assets_are_served(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404


def test_the_page_loads_nothing_from_elsewhere() -> None:
    for asset in sorted(STATIC_DIR.iterdir()):
        text = asset.read_text().replace(SVG_NAMESPACE, "")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), asset.name


async def test_the_page_is_not_in_the_api_description(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
