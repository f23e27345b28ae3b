"""Per-key rate limits for ingest: one token bucket (``services.domain.rate_limit``) per API key,
charged one token per event.

Events, not requests, are what a client costs (validation, the Kafka bytes, the monitor's work),
and a 500-event batch is what a producer should send, so charging per event does not push clients
towards many tiny requests. A request still costs at least one token, and one that arrives at an
empty bucket is refused before its body is read.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from services.domain.rate_limit import TokenBucket

# Buckets of keys not seen for a while are dropped oldest first beyond this many; a dropped bucket
# comes back full, which only ever errs on the lenient side.
MAX_BUCKETS = 10_000


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class KeyRateLimiter:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        # Requests of one key may be validated on several threads at once.
        self._lock = threading.Lock()

    def _bucket(self, key_id: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = TokenBucket.full(self.rate, self.burst, now)
            self._buckets[key_id] = bucket
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(key_id)
        return bucket

    def admit(self, key_id: str) -> None:
        """Refuse a request while the key's bucket cannot pay even for one event."""
        with self._lock:
            now = self._clock()
            self._refuse_after(self._bucket(key_id, now).wait(1, now))

    def charge(self, key_id: str, events: int) -> None:
        """Take one token per event (at least one), or nothing and raise ``RateLimited``."""
        with self._lock:
            now = self._clock()
            self._refuse_after(self._bucket(key_id, now).take(max(1, events), now))

    @staticmethod
    def _refuse_after(seconds: float) -> None:
        if seconds > 0:
            # Retry-After is whole seconds; rounding up means a client that waits it is served.
            raise RateLimited(max(1, math.ceil(seconds)))
