"""A token bucket: ``rate`` tokens a second flow in, at most ``burst`` are kept, a request takes
its cost in tokens or is refused whole and told how long to wait.

Pure: the caller passes the time (any monotonic clock, in seconds), so tests step it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

# Clock readings are rounded floats: a bucket that lacks no more than a microsecond's worth of
# tokens counts as holding the cost, so that waiting the time ``wait`` names is always enough.
SLACK_SECONDS = 1e-6


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        if rate <= 0 or burst <= 0:
            raise ValueError(f"rate ({rate}) and burst ({burst}) must be positive")
        return cls(rate=rate, burst=burst, tokens=burst, updated=now)

    def _refill(self, now: float) -> None:
        # A clock that steps back (another thread read it first) adds nothing rather than
        # taking tokens away.
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = max(self.updated, now)

    def wait(self, cost: float, now: float) -> float:
        """Seconds until ``cost`` tokens are there (0 when they are now); takes nothing."""
        if cost > self.burst:
            raise ValueError(f"a cost of {cost} can never fit a burst of {self.burst}")
        self._refill(now)
        missing = cost - self.tokens
        return 0.0 if missing <= SLACK_SECONDS * self.rate else missing / self.rate

    def take(self, cost: float, now: float) -> float:
        """Take ``cost`` tokens and return 0, or take nothing and return the seconds to wait."""
        waiting = self.wait(cost, now)
        if waiting == 0.0:
            self.tokens = max(0.0, self.tokens - cost)
        return waiting
