"""A stand-in for the Instagram Graph API, the TikTok Display API and the YouTube Data API: a real
HTTP server on loopback answering at the paths the real APIs use, in the shapes their
documentation shows (see /work/shared/SOURCES.md and the fixtures of tests/unit/test_sources_*).

- ``GET /{version}/{media-id}/insights?metric=…`` (Instagram, ``Authorization: Bearer``): one
  lifetime entry per requested metric, or an empty ``data`` list for a post with no insights yet;
- ``POST /v2/video/query/?fields=…`` with ``{"filters": {"video_ids": […]}}`` (TikTok, bearer):
  ``{"data": {"videos": […], "cursor", "has_more"}, "error": {"code": "ok", …}}``, the requested
  fields only, unknown ids left out;
- ``GET /youtube/v3/videos?part=statistics,snippet&id=a,b`` (YouTube, ``X-Goog-Api-Key``):
  ``{"kind", "items": [{"id", "snippet": {"publishedAt"}, "statistics": {"viewCount": "…"}}]}``,
  counts as strings.

Every answer for a post counts one more fetch of it, and its counts grow with the fetches. A wrong
credential gets the platform's refusal (401 for Instagram and TikTok, YouTube's 400 keyInvalid).
``fail_next`` queues answers for the next requests of a platform: a 429 with ``Retry-After``, or
a 5xx.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

INSTAGRAM_VERSION = "v21.0"


@dataclass(frozen=True)
class Failure:
    status: int
    retry_after: str | None = None


@dataclass
class FakePost:
    platform: str
    post_id: str
    posted_at: datetime
    fetches: int = 0
    no_data: bool = False

    def counts(self) -> dict[str, int]:
        n = self.fetches
        return {
            "views": 1000 * n,
            "likes": 50 * n,
            "comments": 5 * n,
            "shares": 2 * n,
            "saved": 3 * n,
        }


class FakePlatforms:
    def __init__(self, credentials: dict[str, str]) -> None:
        self.credentials = dict(credentials)
        self.posts: dict[tuple[str, str], FakePost] = {}
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def base_url(self, platform: str) -> str:
        return f"{self.url}/{INSTAGRAM_VERSION}" if platform == "instagram" else self.url

    def __enter__(self) -> FakePlatforms:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_post(self, platform: str, post_id: str, posted_at: datetime) -> FakePost:
        post = self.posts[(platform, post_id)] = FakePost(platform, post_id, posted_at)
        return post

    def fail_next(
        self, platform: str, status: int, times: int = 1, retry_after: str | None = None
    ) -> None:
        with self._lock:
            self.failures[platform].extend([Failure(status, retry_after)] * times)

    def count(self, platform: str) -> int:
        return sum(1 for name, _ in self.requests if name == platform)

    # The answers, each (status, headers, body).

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, dict[str, str], Any]:
        platform = _platform_of(method, path)
        if platform is None:
            return 404, {}, {"error": f"no such endpoint: {method} {path}"}
        with self._lock:
            self.requests.append((platform, path))
            failure = self.failures[platform].popleft() if self.failures[platform] else None
        if failure is not None:
            extra = {} if failure.retry_after is None else {"Retry-After": failure.retry_after}
            return failure.status, extra, {"error": {"code": failure.status, "message": "scripted"}}
        refusal = self._refusal(platform, headers)
        if refusal is not None:
            return refusal
        if platform == "instagram":
            status, answer = self._instagram(path.split("/")[2], query)
            return status, {}, answer
        if platform == "tiktok":
            return 200, {}, self._tiktok(query, body)
        return 200, {}, self._youtube(query)

    def _refusal(self, platform: str, headers: Any) -> tuple[int, dict[str, str], Any] | None:
        expected = self.credentials.get(platform)
        if platform == "youtube":
            if headers.get("X-Goog-Api-Key") == expected:
                return None
            return (
                400,
                {},
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "errors": [{"reason": "keyInvalid", "domain": "usageLimits"}],
                    }
                },
            )
        if headers.get("Authorization") == f"Bearer {expected}":
            return None
        if platform == "tiktok":
            return (
                401,
                {},
                {
                    "data": {},
                    "error": {
                        "code": "access_token_invalid",
                        "message": "The access token is invalid or not found in the request.",
                        "log_id": "fake",
                    },
                },
            )
        return (
            401,
            {},
            {
                "error": {
                    "message": "Invalid OAuth access token - Cannot parse access token",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
        )

    def _fetched(self, platform: str, post_id: str) -> FakePost | None:
        with self._lock:
            post = self.posts.get((platform, post_id))
            if post is not None:
                post.fetches += 1
            return post

    def _instagram(self, media_id: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        post = self._fetched("instagram", media_id)
        if post is None:
            return 400, {
                "error": {
                    "message": f"Unsupported get request. Object with ID '{media_id}' is unknown",
                    "type": "GraphMethodException",
                    "code": 100,
                }
            }
        if post.no_data:
            return 200, {"data": []}
        metrics = query.get("metric", [""])[0].split(",")
        counts = post.counts() | {
            "reach": 700 * post.fetches,
            "total_interactions": 60 * post.fetches,
        }
        return 200, {
            "data": [
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": counts[name]}],
                    "title": name.capitalize(),
                    "description": f"The number of {name}.",
                    "id": f"{media_id}/insights/{name}/lifetime",
                }
                for name in metrics
                if name in counts
            ]
        }

    def _tiktok(self, query: dict[str, list[str]], body: Any) -> Any:
        fields = query.get("fields", [""])[0].split(",")
        ids = body.get("filters", {}).get("video_ids", []) if isinstance(body, dict) else []
        videos = []
        for video_id in ids:
            post = self._fetched("tiktok", video_id)
            if post is None:
                continue
            counts = post.counts()
            video = {
                "id": video_id,
                "create_time": int(post.posted_at.timestamp()),
                "share_url": f"{self.url}/@creator/video/{video_id}",
                "view_count": counts["views"],
                "like_count": counts["likes"],
                "comment_count": counts["comments"],
                "share_count": counts["shares"],
            }
            videos.append({name: value for name, value in video.items() if name in fields})
        return {
            "data": {"videos": videos, "cursor": 0, "has_more": False},
            "error": {"code": "ok", "message": "", "log_id": "fake"},
        }

    def _youtube(self, query: dict[str, list[str]]) -> Any:
        items = []
        for video_id in query.get("id", [""])[0].split(","):
            post = self._fetched("youtube", video_id)
            if post is None:
                continue
            counts = post.counts()
            items.append(
                {
                    "kind": "youtube#video",
                    "etag": "fake",
                    "id": video_id,
                    "snippet": {"publishedAt": post.posted_at.isoformat().replace("+00:00", "Z")},
                    "statistics": {
                        "viewCount": str(counts["views"]),
                        "likeCount": str(counts["likes"]),
                        "favoriteCount": "0",
                        "commentCount": str(counts["comments"]),
                    },
                }
            )
        return {
            "kind": "youtube#videoListResponse",
            "etag": "fake",
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, headers, answer = fake._answer(
                    method, parts.path, parse_qs(parts.query), self.headers, body
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _platform_of(method: str, path: str) -> str | None:
    if method == "GET" and path.startswith(f"/{INSTAGRAM_VERSION}/") and path.endswith("/insights"):
        return "instagram"
    if method == "POST" and path == "/v2/video/query/":
        return "tiktok"
    if method == "GET" and path == "/youtube/v3/videos":
        return "youtube"
    return None
