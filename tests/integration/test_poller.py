"""`pulse poll` end to end: the poller against the fake platforms over real HTTP, sending through
the real ingest app to a real broker, on a clock the test steps (no sleeps)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.domain.keys import Scope
from services.domain.post_refs import PLATFORMS, Platform
from services.poller.client import PlatformClient, RetryPolicy
from services.poller.ingest import IngestSender
from services.poller.runner import Poller
from services.poller.schedule import DEFAULT_SCHEDULE, PollSchedule
from services.poller.settings import PlatformAccess
from services.service_layer.access import issue_key
from services.storage.db import make_engine, migrate
from services.storage.keys import KeyRepository
from services.storage.posts import WatchedPost, WatchedPostRepository
from tests.fakes.clock import SteppedClock
from tests.fakes.platforms import FakePlatforms
from tests.integration.test_ingest import client_of, ingest_settings, new_topic, on_topic, started

pytestmark = pytest.mark.integration

# Three days ago: every snapshot the stepped clock stamps is in ingest's past.
START = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
POSTED = START - timedelta(hours=2)
CREDENTIALS = {
    "instagram": "ig-token-s3cret",
    "tiktok": "tt-token-s3cret",
    "youtube": "yt-key-s3cret",
}
POSTS: dict[Platform, str] = {
    "instagram": "17895695668004550",
    "tiktok": "7311234567890123456",
    "youtube": "-s-_Mh1QhMc",
}
MINUTE = timedelta(minutes=1)


@dataclass
class Rig:
    poller: Poller
    posts: WatchedPostRepository
    fake: FakePlatforms
    clock: SteppedClock
    bootstrap: str
    topic: str

    def watch(self, platform: Platform, post_id: str, posted_at: datetime = POSTED) -> None:
        self.fake.add_post(platform, post_id, posted_at)
        post = WatchedPost(
            "launch", platform, post_id, f"{platform}-creator", posted_at, START, START
        )
        assert self.posts.register(post)

    def post(self, platform: Platform) -> WatchedPost:
        found = self.posts.get("launch", platform, POSTS[platform])
        assert found is not None
        return found

    def snapshots(self) -> list[dict[str, object]]:
        return [event for _, _, batch in on_topic(self.bootstrap, self.topic) for event in batch]


@pytest.fixture
async def rig(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Rig]:
    database_url = f"sqlite:///{tmp_path / 'pulse.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    key = issue_key(KeyRepository(engine), "poller", frozenset({Scope.EVENTS_WRITE})).key
    topic = new_topic(kafka_bootstrap)
    clock = SteppedClock(START)
    policy = RetryPolicy(max_attempts=3, initial_seconds=1.0, max_seconds=8.0)
    with FakePlatforms(CREDENTIALS) as fake:
        async with (
            started(ingest_settings(kafka_bootstrap, database_url, topic)) as ingest,
            client_of(ingest, {}) as to_ingest,
            httpx.AsyncClient(timeout=10) as http,
        ):
            clients = {
                platform: PlatformClient(
                    PlatformAccess(
                        platform, SecretStr(CREDENTIALS[platform]), fake.base_url(platform), 600.0
                    ),
                    http,
                    clock,
                    policy,
                    draw=lambda: 0.0,
                )
                for platform in PLATFORMS
            }
            sender = IngestSender(to_ingest, "http://ingest.test", SecretStr(key), clock, policy)
            posts = WatchedPostRepository(engine)
            poller = Poller(posts, clients, sender, PollSchedule.parse(DEFAULT_SCHEDULE), clock)
            yield Rig(poller, posts, fake, clock, kafka_bootstrap, topic)
    engine.dispose()


async def test_snapshots_arrive_on_schedule_each_counted_once(rig: Rig) -> None:
    for platform, post_id in POSTS.items():
        rig.watch(platform, post_id)

    first = await rig.poller.poll_due()
    assert (first.polled, first.sent, first.failed) == (3, 3, 0)
    assert (await rig.poller.poll_due()).polled == 0
    for platform in PLATFORMS:
        post = rig.post(platform)
        assert (post.last_success_at, post.next_poll_at) == (START, START + 15 * MINUTE)
    rig.clock.advance(14 * MINUTE)
    assert (await rig.poller.poll_due()).polled == 0
    rig.clock.advance(MINUTE)
    assert (await rig.poller.poll_due()).sent == 3
    # Past its first day a post is polled hourly.
    rig.clock.at = POSTED + timedelta(days=1, minutes=1)
    assert (await rig.poller.poll_due()).sent == 3
    assert rig.post("tiktok").next_poll_at == rig.clock.at + timedelta(hours=1)

    snapshots = rig.snapshots()
    assert len(snapshots) == 9
    assert max(Counter(e["event_id"] for e in snapshots).values()) == 1
    for platform, post_id in POSTS.items():
        views = [e["views"] for e in snapshots if e["post_id"] == post_id]
        assert views == [1000, 2000, 3000], platform
    youtube = next(e for e in snapshots if e["platform"] == "youtube")
    assert youtube["event_id"] == f"youtube:-s-_Mh1QhMc@{START:%Y-%m-%dT%H:%M:%S}.000000Z"
    assert rig.fake.requests.count(("instagram", f"/v21.0/{POSTS['instagram']}/insights")) == 3


async def test_a_post_past_its_schedule_is_polled_no_more(rig: Rig) -> None:
    rig.watch("youtube", POSTS["youtube"], posted_at=START - timedelta(days=30) + MINUTE)
    assert (await rig.poller.poll_due()).sent == 1
    post = rig.post("youtube")
    assert post.next_poll_at == START + timedelta(hours=6)
    rig.clock.advance(timedelta(hours=6))
    assert (await rig.poller.poll_due()).sent == 1
    assert rig.post("youtube").next_poll_at is None
    rig.clock.advance(timedelta(days=1))
    assert (await rig.poller.poll_due()).polled == 0


async def test_429_is_honoured_errors_are_recorded_and_retried(rig: Rig) -> None:
    for platform, post_id in POSTS.items():
        rig.watch(platform, post_id)
    rig.fake.fail_next("tiktok", 429, retry_after="30")

    assert (await rig.poller.poll_due()).sent == 3
    assert rig.clock.slept == [30.0]
    assert rig.fake.count("tiktok") == 2

    # TikTok's snapshot was taken after the 30 s pause, so it is next due 30 s after the others.
    assert rig.post("tiktok").next_poll_at == START + 15 * MINUTE + 30 * rig.clock.second
    rig.clock.at = START + 16 * MINUTE
    rig.clock.slept.clear()
    rig.fake.fail_next("youtube", 500, times=3)
    rig.fake.posts[("instagram", POSTS["instagram"])].no_data = True
    rig.fake.credentials["tiktok"] = "rotated"
    report = await rig.poller.poll_due()
    assert (report.sent, report.failed) == (0, 3)
    # Two backoffs between three attempts: 0.5 s, then 1 s (the lowest jitter draw).
    assert rig.clock.slept == [0.5, 1.0]
    youtube, instagram, tiktok = rig.post("youtube"), rig.post("instagram"), rig.post("tiktok")
    assert youtube.last_error is not None and "HTTP 500" in youtube.last_error
    assert instagram.last_error is not None and "data: is empty" in instagram.last_error
    assert tiktok.last_error is not None and "HTTP 401" in tiktok.last_error
    for post in (youtube, instagram, tiktok):
        assert post.failures == 1
        assert post.last_success_at is not None and post.last_success_at < rig.clock.at
        assert CREDENTIALS[post.platform] not in (post.last_error or "")
        # Retried after five minutes, sooner than the regular fifteen.
        assert post.next_poll_at == post.last_polled_at + 5 * MINUTE  # type: ignore[operator]

    rig.clock.advance(5 * MINUTE)
    rig.fake.posts[("instagram", POSTS["instagram"])].no_data = False
    rig.fake.credentials["tiktok"] = CREDENTIALS["tiktok"]
    assert (await rig.poller.poll_due()).sent == 3
    for platform in PLATFORMS:
        post = rig.post(platform)
        assert (post.last_error, post.failures, post.last_success_at) == (None, 0, rig.clock.at)

    snapshots = rig.snapshots()
    assert len(snapshots) == 6
    assert max(Counter(e["event_id"] for e in snapshots).values()) == 1
