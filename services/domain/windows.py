"""Event-time buckets and the windows built from them.

A creator's counts are kept in hourly buckets for the last two days of event time and in six-hour
blocks (aligned to UTC) before that: the 24-hour window and late data need the hour, the seven-day
window, the trend and the detector only need the block, and a week of hourly buckets would be most
of a creator's state. A bucket's resolution follows from its age against the campaign's watermark,
which only moves forward, so hours are merged into their block exactly once.

A window of length L ending at event time ``end`` covers the buckets from ``end``'s hour back to L
before it; a window reaching beyond the hourly horizon starts at the first block boundary inside
it, so the seven-day window covers 163 to 168 hours. Windows never depend on the wall clock, so
replaying last month's data gives the figures it gave live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

HOUR = 3600
BLOCK = 6 * HOUR
DAY = 24 * HOUR
HOURLY_HORIZON = 2 * DAY

T = TypeVar("T")


def bucket_start(at: float) -> int:
    return int(at // HOUR) * HOUR


def block_start(at: float) -> int:
    return int(at // BLOCK) * BLOCK


def hourly_from(watermark: float) -> int:
    """The first hour kept hourly: buckets before it are six-hour blocks."""
    return block_start(watermark - HOURLY_HORIZON)


def bucket_key(at: float, watermark: float | None) -> int:
    """The start of the bucket that holds event time ``at`` while the watermark is ``watermark``."""
    hour = bucket_start(at)
    if watermark is None or hour >= hourly_from(watermark):
        return hour
    return block_start(at)


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    length: int

    def bounds(self, end: float) -> tuple[int, int]:
        """The [start, end) bucket range of this window ending at event time ``end``."""
        last = bucket_start(end)
        start = last + HOUR - self.length
        if start < hourly_from(end):
            start = -(-start // BLOCK) * BLOCK
        return start, last + HOUR


WINDOWS = (Window("24h", DAY), Window("7d", 7 * DAY))


def in_window(buckets: Mapping[int, T], start: int, end: int) -> Iterable[T]:
    return (value for at, value in buckets.items() if start <= at < end)
