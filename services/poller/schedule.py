"""How often a post is polled: often while its counts grow fast, rarely once they settle.

A schedule is a list of steps ``(up to age, every)``: a post younger than the first step's age is
polled at the first step's interval, and so on; past the last step it is no longer polled. Written
as ``"1d=15m,7d=1h,30d=6h"`` (the default: every 15 minutes on the first day, hourly to day 7,
every 6 hours to day 30, then stop), units ``s``, ``m``, ``h``, ``d``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_SCHEDULE = "1d=15m,7d=1h,30d=6h"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd])\s*")


def parse_duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 6h or 7d")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


@dataclass(frozen=True)
class Step:
    until_age: timedelta
    every: timedelta


@dataclass(frozen=True)
class PollSchedule:
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a schedule needs at least one step")
        previous = timedelta(0)
        for step in self.steps:
            if step.every <= timedelta(0):
                raise ValueError(f"an interval must be positive, got {step.every}")
            if step.until_age <= previous:
                raise ValueError("the steps' ages must grow from one step to the next")
            previous = step.until_age

    @classmethod
    def parse(cls, text: str) -> PollSchedule:
        steps = []
        for part in text.split(","):
            age, separator, every = part.partition("=")
            if not separator:
                raise ValueError(f"{part.strip()!r} should read AGE=INTERVAL, e.g. 1d=15m")
            steps.append(Step(parse_duration(age), parse_duration(every)))
        return cls(tuple(steps))

    @property
    def stops_at(self) -> timedelta:
        return self.steps[-1].until_age

    def interval(self, age: timedelta) -> timedelta | None:
        """How often a post of this age is polled; None once it is no longer polled."""
        for step in self.steps:
            if age < step.until_age:
                return step.every
        return None

    def next_poll(self, posted_at: datetime, now: datetime) -> datetime | None:
        """When a post polled at ``now`` is next due; None: never again."""
        if now < posted_at:
            return posted_at
        every = self.interval(now - posted_at)
        return None if every is None else now + every
