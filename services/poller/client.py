"""Calls to the platforms' APIs: limited per platform, retried with backoff, 429 honoured.

One request is tried up to ``max_attempts`` times. A connection error or a 5xx waits an
exponential backoff with jitter (``initial · 2^(attempt-1)``, capped, times a random factor in
[0.5, 1): "equal jitter", so that posts failing together do not retry together). A 429 pauses the
whole platform for its ``Retry-After`` (seconds or an HTTP date; the backoff when absent). Any
other 4xx is final: the request is wrong (bad token, unknown post), and repeating it changes
nothing. Credentials travel in headers, never in URLs, so no access log or error message carries
them.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from services.poller.clock import Clock
from services.poller.rate_limit import PlatformLimiter
from services.poller.settings import PlatformAccess

INSTAGRAM_METRICS = "views,likes,comments,shares,saved"
TIKTOK_FIELDS = "id,create_time,view_count,like_count,comment_count,share_count"
TIKTOK_IDS_PER_REQUEST = 20
YOUTUBE_IDS_PER_REQUEST = 50
_EXCERPT = 200


class PlatformError(Exception):
    """A request that did not give a usable answer; the message says what happened."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_seconds: float = 1.0
    max_seconds: float = 60.0

    def backoff(self, attempt: int, draw: float) -> float:
        """The wait after failed attempt number ``attempt`` (from 1), ``draw`` in [0, 1)."""
        ceiling: float = min(self.max_seconds, self.initial_seconds * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + draw / 2)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delay-seconds or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    clock: Clock,
    limiter: PlatformLimiter,
    draw: Callable[[], float] = random.random,
) -> httpx.Response:
    """The first answer that is neither a 429 nor a 5xx, or PlatformError once tries run out."""
    failure = "no attempt"
    for attempt in range(1, policy.max_attempts + 1):
        await limiter.acquire()
        delay = policy.backoff(attempt, draw())
        try:
            response = await send()
        except httpx.TransportError as exc:
            failure = f"{type(exc).__name__} reaching the platform"
        else:
            if response.status_code == 429:
                asked = retry_after_seconds(response.headers.get("retry-after"), clock.now())
                pause = delay if asked is None else asked
                limiter.pause_until(clock.now() + timedelta(seconds=pause))
                failure = f"HTTP 429 (rate limited, Retry-After {pause:g} s)"
                # The limiter holds every request to the platform until then.
                delay = 0.0
            elif response.status_code >= 500:
                failure = f"HTTP {response.status_code}: {response.text[:_EXCERPT]}"
            else:
                return response
        if attempt < policy.max_attempts and delay > 0:
            await clock.sleep(delay)
    raise PlatformError(f"{failure}, after {policy.max_attempts} attempts")


def _json(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise PlatformError(f"HTTP {response.status_code}: {response.text[:_EXCERPT]}")
    try:
        return response.json()
    except ValueError as exc:
        raise PlatformError(f"HTTP {response.status_code}: the answer is not JSON") from exc


def _chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def _by_id(resources: Any, where: str) -> dict[str, Any]:
    if not isinstance(resources, list):
        raise PlatformError(f"{where} must be a list, got {resources!r:.{_EXCERPT}}")
    return {r["id"]: r for r in resources if isinstance(r, dict) and isinstance(r.get("id"), str)}


Fetched = dict[str, Any | PlatformError]


class PlatformClient:
    """Fetches the raw resources of posts on one platform, for ``services.sources`` to read."""

    def __init__(
        self,
        access: PlatformAccess,
        http: httpx.AsyncClient,
        clock: Clock,
        policy: RetryPolicy,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.access = access
        self._http = http
        self._clock = clock
        self._policy = policy
        self._draw = draw
        self.limiter = PlatformLimiter(access.requests_per_minute, clock)

    def _headers(self) -> dict[str, str]:
        secret = self.access.credential.get_secret_value()
        if self.access.platform == "youtube":
            return {"X-Goog-Api-Key": secret}
        return {"Authorization": f"Bearer {secret}"}

    async def _call(self, method: str, path: str, params: dict[str, str], body: Any = None) -> Any:
        url = f"{self.access.base_url}{path}"

        def send() -> Awaitable[httpx.Response]:
            return self._http.request(
                method, url, params=params, json=body, headers=self._headers()
            )

        response = await send_with_retries(
            send, self._policy, self._clock, self.limiter, self._draw
        )
        return _json(response)

    async def fetch(self, post_ids: Sequence[str]) -> Fetched:
        """Each post's raw resource, or the PlatformError that kept it from being fetched."""
        fetchers = {
            "instagram": self._instagram,
            "tiktok": self._tiktok,
            "youtube": self._youtube,
        }
        return await fetchers[self.access.platform](list(dict.fromkeys(post_ids)))

    async def _instagram(self, media_ids: list[str]) -> Fetched:
        fetched: Fetched = {}
        for media_id in media_ids:
            try:
                fetched[media_id] = await self._call(
                    "GET", f"/{media_id}/insights", {"metric": INSTAGRAM_METRICS}
                )
            except PlatformError as exc:
                fetched[media_id] = exc
        return fetched

    async def _in_chunks(
        self,
        ids: list[str],
        size: int,
        query: Callable[[list[str]], Awaitable[dict[str, Any]]],
        missing: str,
    ) -> Fetched:
        """Posts fetched ``size`` ids a request: ``query`` answers a chunk's resources by id; an
        id it leaves out gets ``missing``, and a failed request fails its whole chunk."""
        fetched: Fetched = {}
        for chunk in _chunks(ids, size):
            try:
                found = await query(chunk)
            except PlatformError as exc:
                fetched.update(dict.fromkeys(chunk, exc))
                continue
            for post_id in chunk:
                fetched[post_id] = found.get(post_id) or PlatformError(missing)
        return fetched

    async def _tiktok(self, video_ids: list[str]) -> Fetched:
        async def query(chunk: list[str]) -> dict[str, Any]:
            answer = await self._call(
                "POST",
                "/v2/video/query/",
                {"fields": TIKTOK_FIELDS},
                {"filters": {"video_ids": chunk}},
            )
            error = answer.get("error") if isinstance(answer, dict) else None
            if isinstance(error, dict) and error.get("code") not in (None, "ok"):
                raise PlatformError(f"TikTok answered error {error!r:.{_EXCERPT}}")
            data = answer.get("data") if isinstance(answer, dict) else None
            return _by_id(data.get("videos") if isinstance(data, dict) else None, "data.videos")

        return await self._in_chunks(
            video_ids,
            TIKTOK_IDS_PER_REQUEST,
            query,
            "not in TikTok's answer: deleted, private, or not a video of the token's user",
        )

    async def _youtube(self, video_ids: list[str]) -> Fetched:
        async def query(chunk: list[str]) -> dict[str, Any]:
            answer = await self._call(
                "GET", "/youtube/v3/videos", {"part": "statistics,snippet", "id": ",".join(chunk)}
            )
            return _by_id(answer.get("items") if isinstance(answer, dict) else None, "items")

        return await self._in_chunks(
            video_ids,
            YOUTUBE_IDS_PER_REQUEST,
            query,
            "not in YouTube's answer: deleted, private or never existed",
        )
