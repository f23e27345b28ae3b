"""Flags as the views show them: one entry per kind and post, with the evidence of its latest
finding and the time it was first found."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from services.domain.suspicion.band import EngagementBands, out_of_band
from services.domain.suspicion.flag import Flag
from services.domain.suspicion.settings import FLAG_KINDS, FlagKind

if TYPE_CHECKING:
    from services.domain.state import CreatorState


class CreatorFlag(BaseModel):
    """A suspicious-engagement flag: the rule (``kind``), the post it fired on (``null`` for a
    creator-level signal), when it was first found (event time) and the numbers behind it."""

    model_config = ConfigDict(frozen=True)

    kind: FlagKind
    post_id: str | None
    since: datetime
    evidence: dict[str, float]


class FlaggedCreator(BaseModel):
    """A creator of the campaign with at least one flag, and the kinds found."""

    model_config = ConfigDict(frozen=True)

    creator_id: str
    kinds: list[FlagKind]
    flags: int


def shown(records: Iterable[Flag]) -> list[CreatorFlag]:
    """One flag per kind and post: first found at its earliest ``since``, with the evidence of
    its latest record; ordered by kind, then time."""
    merged: dict[tuple[str, str | None], CreatorFlag] = {}
    for flag in sorted(records, key=lambda f: f.since):
        key = (flag.kind, flag.post_id)
        first = merged.get(key)
        since = first.since if first is not None else datetime.fromtimestamp(flag.since, UTC)
        merged[key] = CreatorFlag(
            kind=flag.kind, post_id=flag.post_id, since=since, evidence=flag.evidence
        )
    return sorted(merged.values(), key=lambda f: (FLAG_KINDS.index(f.kind), f.since))


def creator_flags(creator: CreatorState, bands: EngagementBands | None) -> list[CreatorFlag]:
    """The public entry point: a creator's flags, those kept in its state and, given the bands
    of the creators the monitor holds, its posts out of band."""
    found = list(creator.flags)
    if bands is not None:
        found += out_of_band(creator, bands)
    return shown(found)


def flagged_creators(flags: Iterable[tuple[str, Sequence[CreatorFlag]]]) -> list[FlaggedCreator]:
    """The campaign's summary: its flagged creators, most flags first."""
    found = [
        FlaggedCreator(
            creator_id=creator_id,
            kinds=sorted({f.kind for f in mine}, key=FLAG_KINDS.index),
            flags=len(mine),
        )
        for creator_id, mine in flags
        if mine
    ]
    return sorted(found, key=lambda c: (-c.flags, c.creator_id))
