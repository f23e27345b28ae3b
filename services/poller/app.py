"""`pulse poll`: the poller as a service. SIGTERM or Ctrl-C ends it after the current round."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

import httpx

from services.poller.client import PlatformClient, RetryPolicy
from services.poller.clock import SystemClock
from services.poller.ingest import IngestSender
from services.poller.runner import Poller
from services.poller.settings import PollerSettings
from services.storage.db import make_engine, migrate
from services.storage.posts import WatchedPostRepository


async def serve(settings: PollerSettings, once: bool = False) -> int:
    platforms = settings.platforms()
    if settings.ingest_key is None:
        print(
            "pulse poll: PULSE_POLL_INGEST_KEY (a key with events:write) is not set",
            file=sys.stderr,
        )
        return 2
    if not platforms:
        print(
            "pulse poll: no platform credentials: set PULSE_POLL_INSTAGRAM_TOKEN, "
            "PULSE_POLL_TIKTOK_TOKEN or PULSE_POLL_YOUTUBE_API_KEY",
            file=sys.stderr,
        )
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    engine = make_engine(settings.database_url)
    clock = SystemClock()
    policy = RetryPolicy(
        settings.max_attempts, settings.backoff_initial_seconds, settings.backoff_max_seconds
    )
    try:
        await asyncio.to_thread(migrate, engine)
        async with httpx.AsyncClient(timeout=settings.request_timeout_seconds) as http:
            poller = Poller(
                WatchedPostRepository(engine),
                {p: PlatformClient(a, http, clock, policy) for p, a in platforms.items()},
                IngestSender(http, settings.ingest_url, settings.ingest_key, clock, policy),
                settings.poll_schedule,
                clock,
                settings.posts_per_round,
                timedelta(seconds=settings.error_retry_seconds),
            )
            print(f"pulse poll: polling {', '.join(sorted(platforms))}", flush=True)
            if once:
                report = await poller.poll_due()
                print(f"polled {report.polled}, sent {report.sent}, failed {report.failed}")
                return 0 if report.failed == 0 else 1
            await poller.run(stop, settings.tick_seconds)
    finally:
        engine.dispose()
    return 0


def main(once: bool = False) -> int:
    return asyncio.run(serve(PollerSettings(), once))
