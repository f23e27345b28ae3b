"""Snapshots to ingest's ``POST /v1/events``: the path every producer takes, so validation, rate
limits and exactly-once rules are ingest's. A 429 or 503 (broker not acknowledging) is retried
with backoff and ``Retry-After`` as a platform's would be: ingest accepted nothing then, and the
same events (the same ids) are sent again, so a retry never counts twice."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from services.domain.events import PostMetrics
from services.poller.client import PlatformError, RetryPolicy, send_with_retries
from services.poller.clock import Clock
from services.poller.rate_limit import PlatformLimiter

EVENTS_PER_REQUEST = 500


class IngestSender:
    def __init__(
        self,
        http: httpx.AsyncClient,
        ingest_url: str,
        key: SecretStr,
        clock: Clock,
        policy: RetryPolicy,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._http = http
        self._url = ingest_url.rstrip("/") + "/v1/events"
        self._key = key
        self._clock = clock
        self._policy = policy
        self._draw = draw
        # Ingest has its own per-key limit and answers 429 past it; this only holds the poller
        # back for a Retry-After.
        self._limiter = PlatformLimiter(float(10**9), clock)

    async def send(self, events: Sequence[PostMetrics]) -> list[str | None]:
        """Per event, None when ingest accepted it, else why it was not."""
        outcome: list[str | None] = []
        for start in range(0, len(events), EVENTS_PER_REQUEST):
            batch = [e.model_dump(mode="json") for e in events[start : start + EVENTS_PER_REQUEST]]
            try:
                outcome.extend(await self._send_batch(batch))
            except PlatformError as exc:
                outcome.extend([f"ingest: {exc}"] * len(batch))
        return outcome

    async def _send_batch(self, batch: list[dict[str, Any]]) -> list[str | None]:
        headers = {"Authorization": f"Bearer {self._key.get_secret_value()}"}

        def send() -> Awaitable[httpx.Response]:
            return self._http.post(self._url, json=batch, headers=headers)

        # A 429 or a 5xx (503: the broker did not acknowledge) is retried there.
        response = await send_with_retries(
            send, self._policy, self._clock, self._limiter, self._draw
        )
        return _per_event(response, len(batch))


def _per_event(response: httpx.Response, size: int) -> list[str | None]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code not in (202, 422) or not isinstance(body, dict):
        detail = body.get("detail") if isinstance(body, dict) else response.text[:200]
        return [f"ingest answered HTTP {response.status_code}: {detail}"] * size
    outcome: list[str | None] = [None] * size
    for error in body.get("errors") or []:
        index = error.get("index") if isinstance(error, dict) else None
        if isinstance(index, int) and 0 <= index < size:
            outcome[index] = f"ingest refused it: {error.get('field')}: {error.get('reason')}"
    return outcome
