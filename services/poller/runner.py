"""One polling round: the posts that are due, fetched per platform, turned into ``post_metrics``
snapshots by ``services.sources``, sent to ingest, and each post's outcome recorded.

A snapshot's event id is ``platform:post_id@observed_at`` (``services.sources.common``), fixed when
the answer arrives: sending it again after a failure is the same event, which ingest and the
monitor count once. A post whose poll failed (platform error, a response the adapter refuses,
ingest refusing it) keeps the error and is tried again after ``error_retry``, or at its regular
time if that comes sooner.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from services.domain.events import PostMetrics
from services.domain.post_refs import Platform
from services.poller.client import PlatformClient, PlatformError
from services.poller.clock import Clock
from services.poller.ingest import IngestSender
from services.poller.schedule import PollSchedule
from services.sources import instagram, tiktok, youtube
from services.sources.common import PostContext, SourceError
from services.storage.posts import WatchedPost, WatchedPostRepository

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RoundReport:
    polled: int = 0
    sent: int = 0
    failed: int = 0


def snapshot(platform: Platform, post: WatchedPost, raw: Any, context: PostContext) -> PostMetrics:
    """The adapter of ``platform`` applied to one fetched resource."""
    if platform == "instagram":
        return instagram.post_metrics(raw, post.post_id, context)
    if platform == "tiktok":
        return tiktok.post_metrics(raw, context)
    return youtube.post_metrics(raw, context)


class Poller:
    def __init__(
        self,
        posts: WatchedPostRepository,
        clients: Mapping[Platform, PlatformClient],
        ingest: IngestSender,
        schedule: PollSchedule,
        clock: Clock,
        posts_per_round: int = 500,
        error_retry: timedelta = timedelta(minutes=5),
    ) -> None:
        self._posts = posts
        self._clients = clients
        self._ingest = ingest
        self._schedule = schedule
        self._clock = clock
        self._posts_per_round = posts_per_round
        self._error_retry = error_retry

    async def poll_due(self) -> RoundReport:
        due = await asyncio.to_thread(self._posts.due, self._clock.now(), self._posts_per_round)
        by_platform: dict[Platform, list[WatchedPost]] = defaultdict(list)
        for post in due:
            by_platform[post.platform].append(post)
        results = await asyncio.gather(
            *(self._poll_platform(platform, posts) for platform, posts in by_platform.items())
        )
        return RoundReport(
            polled=len(due),
            sent=sum(report.sent for report in results),
            failed=sum(report.failed for report in results),
        )

    async def _poll_platform(self, platform: Platform, posts: list[WatchedPost]) -> RoundReport:
        client = self._clients.get(platform)
        if client is None:
            now = self._clock.now()
            for post in posts:
                await self._record(post, now, f"no {platform} credentials are configured")
            return RoundReport(polled=len(posts), failed=len(posts))
        fetched = await client.fetch([post.post_id for post in posts])
        observed_at = self._clock.now()
        events: list[PostMetrics] = []
        sent_for: list[WatchedPost] = []
        errors: dict[int, str] = {}
        for index, post in enumerate(posts):
            raw = fetched[post.post_id]
            if isinstance(raw, PlatformError):
                errors[index] = f"{platform}: {raw}"
                continue
            context = PostContext(
                campaign_id=post.campaign_id,
                creator_id=post.creator_id,
                observed_at=observed_at,
                posted_at=post.posted_at,
            )
            try:
                events.append(snapshot(platform, post, raw, context))
            except SourceError as exc:
                errors[index] = str(exc)
                continue
            sent_for.append(post)
        outcome = await self._ingest.send(events) if events else []
        for post, error in zip(sent_for, outcome, strict=True):
            await self._record(post, observed_at, error)
        for index, error in errors.items():
            await self._record(posts[index], observed_at, error)
        refused = sum(error is not None for error in outcome)
        return RoundReport(
            polled=len(posts), sent=len(outcome) - refused, failed=len(errors) + refused
        )

    async def _record(self, post: WatchedPost, polled_at: datetime, error: str | None) -> None:
        next_poll = self._schedule.next_poll(post.posted_at, polled_at)
        if error is not None:
            log.warning(
                "poll failed",
                campaign_id=post.campaign_id,
                platform=post.platform,
                post_id=post.post_id,
                error=error,
            )
            if next_poll is not None:
                next_poll = min(next_poll, polled_at + self._error_retry)
        await asyncio.to_thread(self._posts.record_poll, post, polled_at, next_poll, error)

    async def run(self, stop: asyncio.Event, tick_seconds: float) -> None:
        """Poll rounds until ``stop`` is set, looking for due posts every ``tick_seconds``."""
        while not stop.is_set():
            report = await self.poll_due()
            if report.polled:
                log.info("poll round", polled=report.polled, sent=report.sent, failed=report.failed)
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick_seconds)
            except TimeoutError:
                continue
