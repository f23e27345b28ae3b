"""Freshness per source: when snapshots last reached Kafka, how old the newest one is, and the
platforms' documented reporting delay; the processor keeps the arrival time from the message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from services.domain.counters import Counters
from services.domain.freshness import source_freshness
from services.domain.state import CreatorState, PostSnapshot
from services.domain.views import campaign_view
from services.monitor import codec
from services.monitor.buffer import HeldWrites
from services.monitor.processor import Processor
from tests.unit.strategies import CAMPAIGN, CREATOR, LATENESS, RETENTION, T0, post_metrics_raw

NOW = datetime.fromtimestamp(T0, UTC) + timedelta(hours=10)
HOUR = 3600.0


def creator(
    creator_id: str, platform: str | None, observed: list[float], received: float
) -> CreatorState:
    state = CreatorState(CAMPAIGN, creator_id, platform=platform, received_at=received)
    for index, at in enumerate(observed):
        state.posts[f"{creator_id}-{index}"] = PostSnapshot(at, T0 - HOUR, 1000, Counters(views=10))
    return state


def test_each_source_shows_its_newest_snapshot_arrival_and_delay_stalest_first() -> None:
    creators = [
        creator("ana", "instagram", [T0, T0 + 2 * HOUR], received=T0 + 9 * HOUR),
        creator("bo", "instagram", [T0 + 1 * HOUR], received=T0 + 3 * HOUR),
        creator("cy", "youtube", [T0 + 8 * HOUR], received=0.0),
        creator("di", "tiktok", [], received=T0),
        creator("ed", None, [], received=0.0),
    ]
    entries = source_freshness(creators, NOW)

    assert [e.source for e in entries] == ["instagram", "youtube"]
    instagram, youtube = entries
    assert instagram.posts == 3
    assert instagram.newest_snapshot_at == datetime.fromtimestamp(T0 + 2 * HOUR, UTC)
    assert instagram.snapshot_age_seconds == 8 * HOUR
    assert instagram.last_received_at == datetime.fromtimestamp(T0 + 9 * HOUR, UTC)
    assert instagram.reporting_delay_hours == 48
    assert instagram.note is not None and "up to 48 h" in instagram.note
    assert (youtube.last_received_at, youtube.reporting_delay_hours, youtube.note) == (
        None,
        None,
        None,
    )
    assert youtube.snapshot_age_seconds == 2 * HOUR


def test_a_snapshot_observed_after_the_view_was_built_is_not_of_negative_age() -> None:
    (entry,) = source_freshness([creator("ana", "tiktok", [T0 + 11 * HOUR], T0)], NOW)
    assert entry.snapshot_age_seconds == 0.0


def test_the_campaign_view_carries_the_freshness() -> None:
    creators = [creator("ana", "youtube", [T0], received=T0 + HOUR)]
    view = campaign_view(CAMPAIGN, None, creators, T0, "insufficient_data", [], NOW)
    assert [e.source for e in view.freshness] == ["youtube"]
    assert view.freshness[0].snapshot_age_seconds == 10 * HOUR


def test_the_processor_keeps_the_latest_message_time_a_snapshot_arrived_with() -> None:
    processor = Processor(
        HeldWrites({}, codec.CAMPAIGNS), HeldWrites({}, codec.CREATORS), LATENESS, RETENTION
    )
    key = CAMPAIGN.encode()

    def send(observed_at: float, received_at: float) -> None:
        item = post_metrics_raw(observed_at=observed_at, views=int(observed_at - T0) + 1)
        processor.process(key, orjson.dumps([item]), received_at)

    send(T0, T0 + 5 * HOUR)
    send(T0 + HOUR, T0 + 6 * HOUR)
    # A duplicate changes nothing, not even the arrival time; a late message never moves it back.
    send(T0 + HOUR, T0 + 7 * HOUR)
    send(T0 + 2 * HOUR, T0 + 4 * HOUR)
    state = processor.load_creator(CAMPAIGN, CREATOR)
    assert state is not None
    assert state.received_at == T0 + 6 * HOUR
