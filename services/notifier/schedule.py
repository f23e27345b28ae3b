"""When to try a failed delivery again, and when to give up on a webhook (pure logic).

Follows the Standard Webhooks sender rules: only a 2xx delivers (a 3xx is a failure and is not
followed); 410 Gone disables the webhook at once; 429, 502, 503 and 504 may say how long to wait
in ``Retry-After`` (seconds or an HTTP date), which is honoured up to a bound; other failures wait
by a fixed schedule, like Svix's (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then 10 h again), with
jitter so that receivers coming back are not hit by every sender at once. A webhook that has
failed without a success in between for ``disable_after`` is disabled.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

GONE = 410
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt: the receiver's status, or None when it did not answer."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Verdict:
    """What follows a failed attempt: the next try, or disabling the webhook for a reason."""

    retry_at: datetime | None
    disabled_reason: str | None = None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header as seconds from ``now`` (never negative); None when absent or
    unreadable, so that the schedule applies."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    return max(0.0, (at - now).total_seconds())


def attempt_of(status: int, retry_after: str | None, now: datetime) -> Attempt:
    """The outcome of an answer with ``status``."""
    if 200 <= status < 300:
        return Attempt(status)
    wait = retry_after_seconds(retry_after, now) if status in RETRY_AFTER_STATUSES else None
    kind = "redirect, not followed" if 300 <= status < 400 else "not accepted"
    return Attempt(status, f"HTTP {status} ({kind})", wait)


@dataclass(frozen=True)
class RetryPolicy:
    schedule: Sequence[float]
    jitter: float
    retry_after_max: float
    disable_after: timedelta
    # Every duration above, and every Retry-After, is multiplied by this: tests run days in seconds.
    time_scale: float = 1.0

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1 for the first)."""
        base = self.schedule[min(failures, len(self.schedule)) - 1]
        return base * self.time_scale * (1 + rng.uniform(-self.jitter, self.jitter))

    def after_failure(
        self,
        attempt: Attempt,
        failures: int,
        failing_since: datetime | None,
        now: datetime,
        rng: random.Random,
    ) -> Verdict:
        """``failures`` counts this attempt; ``failing_since`` is when the run of failures began
        (None when this is its first)."""
        if attempt.status == GONE:
            return Verdict(None, "the receiver answered 410 Gone")
        since = failing_since or now
        if now - since >= self.disable_after * self.time_scale:
            return Verdict(
                None,
                f"failing since {since.isoformat(timespec='seconds')} "
                f"(last error: {attempt.error})",
            )
        if attempt.retry_after is not None:
            wait = min(attempt.retry_after, self.retry_after_max) * self.time_scale
        else:
            wait = self.delay(failures, rng)
        return Verdict(now + timedelta(seconds=wait))
