"""A clock the tests step by hand: ``sleep`` moves it on at once and remembers how long."""

from __future__ import annotations

from datetime import datetime, timedelta


class SteppedClock:
    second = timedelta(seconds=1)

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)

    def advance(self, by: timedelta) -> None:
        self.at += by
