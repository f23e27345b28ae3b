"""Flags kept in a creator's state: found as snapshots are applied, stored and read back, and left
out of the buckets the detector reads."""

from __future__ import annotations

import orjson

from services.domain.state import CreatorState
from services.domain.suspicion import without_flagged
from services.domain.windows import HOUR, bucket_start
from tests.unit.strategies import T0, apply, new_state, snapshot


def _history() -> tuple[CreatorState, list[float]]:
    """One honest post read every four hours, then a second post whose likes jump by 3,000
    between two readings while its views grow by 400; then a purge of 1,980 likes."""
    campaign, creator = new_state()
    times = []
    for step in range(6):
        at = T0 + step * 4 * HOUR
        apply(
            campaign,
            creator,
            snapshot(
                observed_at=at,
                views=2_000 * (step + 1),
                likes=100 * (step + 1),
                comments=5 * (step + 1),
            ),
        )
        times.append(at)
    second = {"post_id": "post-2", "posted_at": T0}
    readings = [(10_000, 500), (10_400, 3_520), (10_800, 1_540)]
    for step, (views, likes) in enumerate(readings):
        at = T0 + (24 + 4 * step) * HOUR
        apply(campaign, creator, snapshot(observed_at=at, views=views, likes=likes, **second))
        times.append(at)
    return creator, times


def test_a_burst_and_a_purge_are_recorded_as_snapshots_are_applied() -> None:
    creator, times = _history()

    kinds = [(f.kind, f.post_id, f.since) for f in creator.flags]

    assert kinds == [("engagement_burst", "post-2", times[7]), ("purge", "post-2", times[8])]
    burst, purge = creator.flags
    assert burst.likes == 3_020 - round(0.05 * 400)
    assert purge.likes == -1_980


def test_flags_and_follower_readings_round_trip_through_json() -> None:
    creator, _ = _history()

    stored = orjson.loads(orjson.dumps(creator.to_dict()))
    read = CreatorState.from_dict(stored)

    assert read == creator
    assert read.flags and read.follower_readings


def test_state_stored_before_flags_existed_is_still_read() -> None:
    creator, _ = _history()
    stored = creator.to_dict()
    del stored["flags"], stored["follower_readings"]

    read = CreatorState.from_dict(stored)

    assert read.flags == [] and read.follower_readings == []
    assert read.lifetime == creator.lifetime


def test_the_detector_reads_the_buckets_with_flagged_counts_left_out() -> None:
    creator, times = _history()
    burst_hour, purge_hour = bucket_start(times[7]), bucket_start(times[8])

    unflagged = without_flagged(creator)

    burst = creator.flags[0]
    assert unflagged.buckets[burst_hour].counters.likes == (
        creator.buckets[burst_hour].counters.likes - burst.likes
    )
    # The purge is undone in its hour; it removed fewer likes than the burst had added, so no
    # earlier hour loses any.
    assert unflagged.buckets[purge_hour].counters.likes == (
        creator.buckets[purge_hour].counters.likes + 1_980
    )
    first = bucket_start(times[0])
    assert unflagged.buckets[first].counters.likes == creator.buckets[first].counters.likes == 100


def test_likes_a_purge_revealed_as_fake_come_out_of_the_hours_before_it() -> None:
    # Likes were padded by half all along (600 a reading instead of 400); the purge removes the
    # 1,000 padded likes of 3,000, a third, so a third of every earlier hour's likes goes.
    campaign, creator = new_state()
    for step in range(5):
        at = T0 + step * 4 * HOUR
        apply(
            campaign,
            creator,
            snapshot(observed_at=at, views=8_000 * (step + 1), likes=600 * (step + 1)),
        )
    purge_at = T0 + 20 * HOUR
    apply(campaign, creator, snapshot(observed_at=purge_at, views=48_000, likes=2_000))

    unflagged = without_flagged(creator)

    assert [f.kind for f in creator.flags] == ["purge"]
    earlier = [s for s in creator.buckets if s < bucket_start(purge_at)]
    assert [unflagged.buckets[s].counters.likes for s in earlier] == [400] * 5
    assert unflagged.buckets[bucket_start(purge_at)].counters.likes == 0


def test_a_creator_without_flags_is_read_as_it_is() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, snapshot(observed_at=T0, views=5_000, likes=250))

    assert without_flagged(creator) is creator
