"""The boundary between the flags and decay detection: a creator's buckets with flagged counts
left out, so a bought spike is not read as health and its removal not as decay.

- a burst's excess likes and comments come out of the bucket it was counted in;
- a purge's downward revision is undone in its bucket, and the fake likes it revealed come out
  of the buckets before it: the share of likes the purged posts lost (beyond bursts already
  taken out of them) is taken from every earlier bucket's likes (where the fake likes were
  counted, as far as the state can tell).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from services.domain.counters import Counters
from services.domain.windows import block_start, bucket_start

if TYPE_CHECKING:
    from services.domain.buckets import Bucket
    from services.domain.state import CreatorState
    from services.domain.suspicion.flag import Flag


def without_flagged(creator: CreatorState) -> CreatorState:
    """``creator`` with its flagged counts left out of its buckets; the creator itself when it
    has no flag carrying counts (the common case, at no cost)."""
    carrying = [f for f in creator.flags if f.likes or f.comments]
    if not carrying:
        return creator
    buckets = dict(creator.buckets)
    for flag in carrying:
        counted_in = _start_of(buckets, flag.since)
        if counted_in is not None:
            _take(buckets, counted_in, flag.likes, flag.comments)
    purges = [f for f in carrying if f.kind == "purge"]
    if purges:
        share = _fake_share(purges, carrying)
        first_start = _start_of(buckets, min(f.since for f in purges))
        for start, bucket in creator.buckets.items():
            if first_start is not None and start < first_start and bucket.counters.likes > 0:
                _take(buckets, start, round(share * bucket.counters.likes), 0)
    return replace(creator, buckets=buckets)


def _fake_share(purges: list[Flag], carrying: list[Flag]) -> float:
    """The share of their likes the purged posts lost, beyond the bursts already taken out of
    them (a purge of bought likes flagged as a burst removes nothing more)."""
    removed = before = 0
    for purge in purges:
        taken = sum(
            f.likes
            for f in carrying
            if f.kind == "engagement_burst" and f.post_id == purge.post_id and f.since < purge.since
        )
        removed += max(0, -purge.likes - taken)
        before += max(0, int(purge.evidence["likes_before"]) - taken)
    return removed / before if before else 0.0


def _start_of(buckets: dict[int, Bucket], at: float) -> int | None:
    """The bucket ``at`` was counted in: its hour, or the block the hour was merged into."""
    for start in (bucket_start(at), block_start(at)):
        if start in buckets:
            return start
    return None


def _take(buckets: dict[int, Bucket], start: int, likes: int, comments: int) -> None:
    bucket = buckets[start]
    counters = Counters(*bucket.counters.to_list())
    counters.likes -= likes
    counters.comments -= comments
    buckets[start] = replace(bucket, counters=counters)
