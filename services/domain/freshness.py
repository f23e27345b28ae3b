"""How fresh a campaign's post metrics are, per source (the platform the snapshots came from).

Two different ages, because they fail differently: ``last_received_at`` is when the monitor last
took a snapshot from that source (wall clock: a poller or producer that stopped shows here), and
``newest_snapshot_at`` is the newest snapshot's ``observed_at`` (event time: a platform that
reports late shows here, even while snapshots keep arriving). ``snapshot_age_seconds`` is the
newest snapshot's age when the view was built (``updated_at``); a reader later can take the current
time minus ``newest_snapshot_at`` instead. Platforms delay their figures: Meta says Instagram
insights can lag up to 48 hours, so a recent Instagram snapshot may still miss the last two days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from services.domain.state import CreatorState

# Documented delays of a platform's figures behind real time, in hours.
PLATFORM_DELAY_HOURS: dict[str, float] = {"instagram": 48.0}
DELAY_NOTE = (
    "{platform} reports insights late (up to {hours:g} h): recent snapshots may not yet count "
    "the latest views and engagements"
)


class SourceFreshness(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    posts: int
    last_received_at: datetime | None
    newest_snapshot_at: datetime
    snapshot_age_seconds: float
    reporting_delay_hours: float | None
    note: str | None


def source_freshness(creators: Sequence[CreatorState], now: datetime) -> list[SourceFreshness]:
    """One entry per source with at least one post, stalest newest snapshot first."""
    posts: dict[str, int] = {}
    newest: dict[str, float] = {}
    received: dict[str, float] = {}
    for creator in creators:
        if creator.platform is None or not creator.posts:
            continue
        source = creator.platform
        posts[source] = posts.get(source, 0) + len(creator.posts)
        observed = max(post.observed_at for post in creator.posts.values())
        newest[source] = max(newest.get(source, observed), observed)
        if creator.received_at:
            received[source] = max(received.get(source, 0.0), creator.received_at)
    entries = []
    for source, observed in newest.items():
        delay = PLATFORM_DELAY_HOURS.get(source)
        entries.append(
            SourceFreshness(
                source=source,
                posts=posts[source],
                last_received_at=_utc(received[source]) if source in received else None,
                newest_snapshot_at=_utc(observed),
                snapshot_age_seconds=max(0.0, now.timestamp() - observed),
                reporting_delay_hours=delay,
                note=None
                if delay is None
                else DELAY_NOTE.format(platform=source.capitalize(), hours=delay),
            )
        )
    return sorted(entries, key=lambda entry: (entry.newest_snapshot_at, entry.source))


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)
