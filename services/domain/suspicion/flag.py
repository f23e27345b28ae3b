"""A flag record: what a rule found, and the counts the decay detector must leave out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from services.domain.suspicion.settings import FlagKind


@dataclass(slots=True)
class Flag:
    kind: FlagKind
    post_id: str | None
    """The post the rule fired on; ``None`` for a creator-level signal (``follower_spike``)."""
    since: float
    """Event time the rule first fired."""
    evidence: dict[str, float] = field(default_factory=dict)
    """The numbers that triggered it and the threshold they crossed."""
    likes: int = 0
    """Likes the detector takes out of the bucket at ``since`` (negative: a revision undone)."""
    comments: int = 0
    """Comments the detector takes out of the bucket at ``since``."""

    def to_list(self) -> list[Any]:
        return [self.kind, self.post_id, self.since, self.evidence, self.likes, self.comments]

    @classmethod
    def from_list(cls, row: list[Any]) -> Flag:
        kind, post_id, since, evidence, likes, comments = row
        return cls(cast(FlagKind, kind), post_id, since, dict(evidence), likes, comments)


def record(flags: list[Flag], found: Flag, max_records: int) -> None:
    """Keep ``found``: a follower spike still open (the last one, within a day) only has its
    evidence refreshed, anything else is a record of its own since each carries counts the
    detector must leave out. The oldest records go beyond ``max_records``."""
    if found.kind == "follower_spike":
        for kept in reversed(flags):
            if kept.kind == "follower_spike":
                if found.since - kept.since <= 86_400:
                    kept.evidence = found.evidence
                    return
                break
    flags.append(found)
    if len(flags) > max_records:
        del flags[: len(flags) - max_records]
