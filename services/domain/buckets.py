"""A creator's bucket of one hour or one six-hour block, and how buckets are stored.

A bucket holds the counts that arrived for its time, the ids of the spend and conversions
counted there (so a redelivered one is recognised), and when its conversions arrived (the
reporting delay the conversion test learns). ``bucket_rows`` and ``buckets_from`` are the stored
form, the one the changelogs and snapshots keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.domain.counters import Counters
from services.domain.windows import HOUR

# The conversions' reporting delay is recorded in six-hour blocks up to this many (the last
# entry counting every later one): a day, past which the conversion test takes data as settled.
ARRIVAL_BLOCKS = 5


@dataclass(slots=True)
class Bucket:
    counters: Counters = field(default_factory=Counters)
    # Ids of the spend and conversions counted here; None while there are none, as in most
    # buckets (post snapshots dedupe by observed_at), since an empty set costs 216 bytes.
    event_ids: set[str] | None = None
    # Of the conversions counted here, how many arrived while the campaign's watermark was 0, 1,
    # ... blocks past the conversion's own six-hour block (the last entry: that many or more):
    # the reporting delay the conversion test learns. None while there are none.
    arrivals: tuple[int, ...] | None = None

    def remembers(self, event_id: str) -> bool:
        return self.event_ids is not None and event_id in self.event_ids

    def remember(self, event_id: str) -> None:
        if self.event_ids is None:
            self.event_ids = {event_id}
        else:
            self.event_ids.add(event_id)

    def record_arrival(self, blocks_late: int) -> None:
        # A tuple, not a list: 16 bytes less in every bucket holding conversions, which kept a
        # worker's memory per creator under its 2 KiB target; conversions are rare enough that
        # building a new one per arrival costs nothing measurable.
        slot = min(blocks_late, ARRIVAL_BLOCKS - 1)
        known = self.arrivals or (0,) * ARRIVAL_BLOCKS
        self.arrivals = (*known[:slot], known[slot] + 1, *known[slot + 1 :])

    def absorb(self, other: Bucket) -> None:
        self.counters.add(other.counters)
        if other.arrivals:
            known = self.arrivals or (0,) * ARRIVAL_BLOCKS
            self.arrivals = tuple(a + b for a, b in zip(known, other.arrivals, strict=True))
        if other.event_ids:
            if self.event_ids is None:
                self.event_ids = set(other.event_ids)
            else:
                self.event_ids |= other.event_ids


def bucket_rows(buckets: dict[int, Bucket]) -> list[list[Any]]:
    """Buckets in time order as ``[hours since the previous bucket, counters]``, plus the event ids
    where there are any: a fifth smaller compressed than keying them by their start time."""
    rows: list[list[Any]] = []
    previous = 0
    for start, bucket in sorted(buckets.items()):
        row: list[Any] = [(start - previous) // HOUR, bucket.counters.to_list()]
        if bucket.event_ids or bucket.arrivals:
            row.append(sorted(bucket.event_ids or ()))
        if bucket.arrivals:
            row.append(bucket.arrivals)
        rows.append(row)
        previous = start
    return rows


def buckets_from(stored: list[list[Any]] | dict[str, list[Any]]) -> dict[int, Bucket]:
    if isinstance(stored, dict):  # written before the rows: {start: [counters, ids]}
        return {
            int(start): Bucket(Counters.from_list(counters), set(ids) or None)
            for start, (counters, ids) in stored.items()
        }
    buckets: dict[int, Bucket] = {}
    start = 0
    # Rows written before conversions' arrivals were recorded end at the ids.
    for gap, counters, *rest in stored:
        start += gap * HOUR
        ids = set(rest[0]) if rest and rest[0] else None
        arrivals = tuple(rest[1]) if len(rest) > 1 else None
        buckets[start] = Bucket(Counters.from_list(counters), ids, arrivals)
    return buckets
