"""Each platform's request budget, and the pause a 429 asks for.

A token bucket per platform (``services.domain.rate_limit``) filled at the platform's documented
rate (TikTok's Display API: 600 requests a minute per endpoint); a request waits for its token
rather than being sent and refused. A 429's ``Retry-After`` pauses every request to that platform
until then, not only the one that got it: the budget is the account's, shared by every post.
"""

from __future__ import annotations

from datetime import datetime

from services.domain.rate_limit import TokenBucket
from services.poller.clock import Clock


class PlatformLimiter:
    def __init__(self, requests_per_minute: float, clock: Clock) -> None:
        self._clock = clock
        rate = requests_per_minute / 60.0
        # A minute's worth at most: a poller that was idle may not then send a minute's budget
        # twice within one minute.
        self._bucket = TokenBucket.full(rate, max(1.0, requests_per_minute), self._seconds())
        self._paused_until: datetime | None = None

    def _seconds(self) -> float:
        return self._clock.now().timestamp()

    def pause_until(self, until: datetime) -> None:
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until

    async def acquire(self) -> None:
        """Wait until a request may go out, then take its token."""
        while True:
            if self._paused_until is not None:
                remaining = (self._paused_until - self._clock.now()).total_seconds()
                if remaining > 0:
                    await self._clock.sleep(remaining)
                    continue
                self._paused_until = None
            waiting = self._bucket.take(1.0, self._seconds())
            if waiting == 0.0:
                return
            await self._clock.sleep(waiting)
