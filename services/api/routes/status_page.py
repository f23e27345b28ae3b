"""The status page: one HTML document and its script and style, served from ``static/``.

The page is rendered in the browser from the JSON API (campaigns every few seconds, alerts over
Server-Sent Events); nothing here reads the database.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
ASSETS: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
# Always revalidate (the ETag makes that cheap) so a deployment shows up on the next reload.
_HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=FileResponse)
def status_page() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS
    )


@router.get("/static/{asset}", response_class=FileResponse)
def static_asset(asset: str) -> FileResponse:
    media_type = ASSETS.get(asset)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset '{asset}'")
    return FileResponse(STATIC_DIR / asset, media_type=media_type, headers=_HEADERS)
