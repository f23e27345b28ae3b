"""The status page's documents: open to anyone (they hold no data), served as they are, with a
sign-in form that trades a key for the session cookie and keeps the key nowhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.api.app import create_app
from services.api.routes.status_page import STATIC_DIR
from services.api.settings import ApiSettings

pytestmark = pytest.mark.integration

# The one absolute URL the page may hold: an XML namespace name, which is never fetched.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(ApiSettings.model_validate({"DATABASE_URL": f"sqlite:///{tmp_path}/pulse.db"}))
    async with app.router.lifespan_context(app):
        yield app


async def test_the_root_is_the_status_page(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/")

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
    anonymous: httpx.AsyncClient, asset: str, content_type: str
) -> None:
    response = await anonymous.get(f"/static/{asset}")

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC_DIR / asset).read_bytes()


async def test_every_asset_the_page_links_is_served(anonymous: httpx.AsyncClient) -> None:
    page = (await anonymous.get("/")).text
    linked = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(/[^"]*)"', page)

    assert linked
    for path in linked:
        assert (await anonymous.get(path)).status_code == 200, path


async def test_the_page_signs_in_with_a_hidden_key_field(anonymous: httpx.AsyncClient) -> None:
    page = (await anonymous.get("/")).text
    form = re.search(r'<form id="sign-in-form"[^>]*>(.*?)</form>', page, re.S)

    assert form
    # POST, so even a form sent before the script ran would not put the key in the URL.
    assert 'method="post"' in form.group(0)
    assert re.search(r'<input id="sign-in-key" name="key" type="password" autocomplete="off"', page)
    assert "A key with campaigns:read; <code>pulse run</code> wrote one to" in form.group(1)
    assert "<code>.run/admin.key</code>" in form.group(1)
    # Everything that shows data starts hidden: nothing shows until the session is known.
    for part in ('id="dashboard"', 'class="summary"', 'id="updated"', 'id="account"'):
        assert re.search(rf"<[a-z]+ [^>]*{part}[^>]* hidden data-signed-in", page), part


def test_the_script_keeps_no_key() -> None:
    script = (STATIC_DIR / "app.js").read_text()

    for storage in ("localStorage", "sessionStorage", "document.cookie", "indexedDB"):
        assert storage not in script
    assert "Authorization" not in script, "the HttpOnly session cookie authenticates the page"
    # The key travels once, as the JSON body of the sign-in, never in a URL.
    assert "${key" not in script and "key=" not in script
    assert "JSON.stringify({ key })" in script


async def test_the_data_behind_the_page_needs_a_session(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/v1/session")).status_code == 401
    assert (await anonymous.get("/v1/campaigns")).status_code == 401


@pytest.mark.parametrize(
    "path", ["/static/nope.js", "/static/index.html", "/static/..%2Fstatus_page.py"]
)
async def test_only_the_listed_assets_are_served(anonymous: httpx.AsyncClient, path: str) -> None:
    response = await anonymous.get(path)

    assert response.status_code == 404


def test_the_page_loads_nothing_from_elsewhere() -> None:
    for asset in sorted(STATIC_DIR.iterdir()):
        text = asset.read_text().replace(SVG_NAMESPACE, "")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), asset.name


async def test_the_page_is_not_in_the_api_description(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
