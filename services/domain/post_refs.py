"""Which post a campaign team means: a platform's post id, or the post's URL turned into that id.

URLs are recognised by the shape of their path, whatever the host (a mobile or regional host, a
link copied through a redirector that kept the path), because the id is all the poller needs:

- TikTok: ``/@{user}/video/{id}`` and ``/v/{id}.html``; the id is the video's numeric id, the one
  the Display API's ``video/query`` takes. Short share links (``/ZM…/``) only redirect to the
  real URL, so they are refused with that hint.
- YouTube: ``/watch?v={id}``, ``/shorts/{id}``, ``/embed/{id}``, ``/live/{id}``, ``/v/{id}``
  and the short-link form ``/{id}``; an id is 11 characters of base64url (letters, digits, ``-``,
  ``_``).
- Instagram: refused. A post URL carries the post's shortcode, which is not the Graph API media id
  that insights are asked for; the media id comes from ``GET /{ig-user-id}/media``.
"""

from __future__ import annotations

import re
from typing import Literal, get_args
from urllib.parse import parse_qs, urlsplit

Platform = Literal["instagram", "tiktok", "youtube"]
PLATFORMS: tuple[Platform, ...] = get_args(Platform)

_INSTAGRAM_ID = re.compile(r"[0-9]{1,32}")
_TIKTOK_ID = re.compile(r"[0-9]{1,32}")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_TIKTOK_PATHS = (
    re.compile(r"/@[^/]+/video/(?P<id>[0-9]+)/?"),
    re.compile(r"/v/(?P<id>[0-9]+)\.html"),
)
_YOUTUBE_PATHS = (
    re.compile(r"/(?:shorts|embed|live|v)/(?P<id>[^/]+)/?"),
    re.compile(r"/(?P<id>[A-Za-z0-9_-]{11})/?"),
)


class PostReferenceError(ValueError):
    """``reference`` names no post of the platform; the message says why."""


def _is_url(reference: str) -> bool:
    return reference.startswith(("http://", "https://"))


def _youtube_from_url(reference: str) -> str:
    parts = urlsplit(reference)
    if parts.path.rstrip("/") == "/watch":
        found = parse_qs(parts.query).get("v", [])
        if found and _YOUTUBE_ID.fullmatch(found[0]):
            return found[0]
        raise PostReferenceError("a YouTube watch URL needs v= followed by an 11-character id")
    for shape in _YOUTUBE_PATHS:
        match = shape.fullmatch(parts.path)
        if match and _YOUTUBE_ID.fullmatch(match["id"]):
            return match["id"]
    raise PostReferenceError(
        "not a YouTube video URL: expected /watch?v=ID, /shorts/ID, /embed/ID, /live/ID or a "
        "short link /ID, with an 11-character id"
    )


def _tiktok_from_url(reference: str) -> str:
    path = urlsplit(reference).path
    for shape in _TIKTOK_PATHS:
        match = shape.fullmatch(path)
        if match and _TIKTOK_ID.fullmatch(match["id"]):
            return match["id"]
    raise PostReferenceError(
        "not a TikTok video URL: expected /@user/video/ID (a short share link only redirects "
        "there: open it and copy the full URL, or give the numeric video id)"
    )


def post_id_from(platform: Platform, reference: str) -> str:
    """The platform's id of the post ``reference`` names: the id itself, or a URL of the post."""
    text = reference.strip()
    if not text:
        raise PostReferenceError("is empty: give the post's id or URL")
    if platform == "instagram":
        if _is_url(text):
            raise PostReferenceError(
                "an Instagram post URL carries a shortcode, not the Graph API media id that "
                "insights need: give the media id (GET /{ig-user-id}/media lists them)"
            )
        if not _INSTAGRAM_ID.fullmatch(text):
            raise PostReferenceError("an Instagram media id is a string of digits")
        return text
    if platform == "tiktok":
        if _is_url(text):
            return _tiktok_from_url(text)
        if not _TIKTOK_ID.fullmatch(text):
            raise PostReferenceError("a TikTok video id is a string of digits")
        return text
    if _is_url(text):
        return _youtube_from_url(text)
    if not _YOUTUBE_ID.fullmatch(text):
        raise PostReferenceError(
            "a YouTube video id is 11 characters: letters, digits, '-' and '_'"
        )
    return text
