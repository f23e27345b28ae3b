"""Event-time windows built from hourly buckets.

A window of length L ending at event time ``end`` is the L/1h hourly buckets up to and including the
bucket that holds ``end``; it never depends on the wall clock, so replaying last month's data gives
the figures it gave live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

HOUR = 3600
DAY = 24 * HOUR

T = TypeVar("T")


def bucket_start(at: float) -> int:
    return int(at // HOUR) * HOUR


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    length: int

    def bounds(self, end: float) -> tuple[int, int]:
        """The [start, end) bucket range of this window ending at event time ``end``."""
        last = bucket_start(end)
        return last + HOUR - self.length, last + HOUR


WINDOWS = (Window("24h", DAY), Window("7d", 7 * DAY))


def in_window(buckets: Mapping[int, T], start: int, end: int) -> Iterable[T]:
    return (value for at, value in buckets.items() if start <= at < end)
