"""Status snapshots: the monitor's state turned into views and written to the database.

A status round rebuilds, oldest change first and for as long as its time budget lasts, the view of
every campaign that changed and of the creators in it that changed; the other creators' views are
rebuilt only when the campaign's event time has moved to a new hour (their windows and status are
computed per hour and per six-hour block of event time), so a round costs about one creator view
per changed creator rather than the whole campaign.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from services.domain.detection import CREATOR_SETTINGS, Assessment, CampaignTargets, detect
from services.domain.rollups import DailyRollup, PostFigures, daily_rollups, post_figures
from services.domain.state import CreatorState
from services.domain.suspicion import (
    DEFAULT_SUSPICION,
    EngagementBands,
    SuspicionSettings,
    creator_flags,
    flagged_creators,
    without_flagged,
)
from services.domain.tiers import DEFAULT_TIER_BOUNDS, TierBounds
from services.domain.views import CampaignView, CreatorView, campaign_view, creator_view
from services.domain.windows import block_start, bucket_start
from services.monitor.processor import Processor

NO_TARGETS = CampaignTargets()


@dataclass
class Changes:
    """What changed since the last status round: per campaign, its changed creators, or ``None``
    when every creator's view must be rebuilt (a new configuration, recovered state)."""

    campaigns: dict[str, set[str] | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.campaigns)

    def creators(self, campaign_id: str, creator_ids: Iterable[str]) -> None:
        changed = self.campaigns.setdefault(campaign_id, set())
        if changed is not None:
            changed.update(creator_ids)

    def everything(self, campaign_id: str) -> None:
        self.campaigns[campaign_id] = None

    def pop_oldest(self) -> tuple[str, set[str] | None]:
        campaign_id = next(iter(self.campaigns))
        return campaign_id, self.campaigns.pop(campaign_id)

    def merge(self, other: Changes) -> None:
        """Put ``other``'s changes back, ahead of the newer ones: they have waited longer."""
        combined = Changes(dict(other.campaigns))
        for campaign_id, changed in self.campaigns.items():
            if changed is None:
                combined.everything(campaign_id)
            else:
                combined.creators(campaign_id, changed)
        self.campaigns = combined.campaigns


@dataclass
class Round:
    """What a status round built, the changes it covered (to put back should writing fail) and
    the configured targets of those campaigns (``None`` where none is configured).

    ``rollups`` are the daily figures of the creators whose views were rebuilt, every day their
    state holds in full, and ``posts`` their posts' latest figures: the same round writes a
    creator's view, its days and its posts."""

    campaigns: list[CampaignView] = field(default_factory=list)
    creators: list[CreatorView] = field(default_factory=list)
    rollups: list[DailyRollup] = field(default_factory=list)
    posts: list[PostFigures] = field(default_factory=list)
    covered: Changes = field(default_factory=Changes)
    targets: dict[str, CampaignTargets | None] = field(default_factory=dict)


@dataclass
class _Assessed:
    at: float
    block: int
    assessment: Assessment


class StatusRounds:
    """Builds the views of a status round, remembering between rounds, per campaign, the hour its
    creators were all last viewed at and its last assessment.

    A campaign's assessment (the detector over all its creators, about half the cost of its view)
    is reused for up to ``reassess_seconds`` of wall time while its event time stays in the same
    six-hour block and its configuration is unchanged: a campaign that changes every round is not
    re-tested every round, and its status lags its figures by at most that long.
    """

    def __init__(
        self,
        processor: Processor,
        budget_seconds: float = math.inf,
        reassess_seconds: float = 0.0,
        max_campaigns: int = 500,
        tier_bounds: TierBounds = DEFAULT_TIER_BOUNDS,
        suspicion: SuspicionSettings = DEFAULT_SUSPICION,
    ) -> None:
        self.processor = processor
        self.tier_bounds = tier_bounds
        # Engagement bands over every creator this worker has viewed (the team's own data).
        self.bands = EngagementBands(suspicion, tier_bounds)
        self.budget_seconds = budget_seconds
        self.reassess_seconds = reassess_seconds
        self.max_campaigns = max_campaigns
        self._viewed_hours: dict[str, int] = {}
        self._assessed: dict[str, _Assessed] = {}

    def build(
        self,
        changes: Changes,
        now: datetime,
        target_of: Callable[[str], CampaignTargets | None] = lambda _: None,
    ) -> Round:
        """Views of changed campaigns and creators, taken from ``changes`` oldest first until
        the budget is spent or ``max_campaigns`` are taken (at least one campaign)."""
        deadline = time.monotonic() + self.budget_seconds
        built = Round()
        campaigns, creators, covered = built.campaigns, built.creators, built.covered
        while (
            changes
            and len(covered.campaigns) < self.max_campaigns
            and (not covered or time.monotonic() < deadline)
        ):
            campaign_id, changed = changes.pop_oldest()
            covered.campaigns[campaign_id] = changed
            campaign = self.processor.load_campaign(campaign_id)
            if campaign is None:
                continue
            members = self.processor.load_campaign_creators(campaign)
            self.bands.see(members)
            flags = {c.creator_id: creator_flags(c, self.bands) for c in members}
            # The detector reads the buckets with flagged counts left out: a bought spike is no
            # health, its purge no decay.
            unflagged = {c.creator_id: without_flagged(c) for c in members}
            target = built.targets[campaign_id] = target_of(campaign_id)
            goals = target or NO_TARGETS
            assessment = self._assess(
                campaign_id, list(unflagged.values()), campaign.watermark, goals, changed
            )
            campaigns.append(
                campaign_view(
                    campaign_id,
                    campaign.currency,
                    members,
                    campaign.watermark,
                    assessment.status,
                    assessment.reasons,
                    now,
                    assessment.contributors,
                    flagged_creators(flags.items()),
                )
            )
            hour = bucket_start(campaign.watermark) if campaign.watermark is not None else 0
            if changed is not None and self._viewed_hours.get(campaign_id) == hour:
                members = [creator for creator in members if creator.creator_id in changed]
            else:
                self._viewed_hours[campaign_id] = hour
            for creator in members:
                own = detect(
                    [unflagged[creator.creator_id]], campaign.watermark, goals, CREATOR_SETTINGS
                )
                creators.append(
                    creator_view(
                        creator,
                        campaign.watermark,
                        own.status,
                        own.reasons,
                        now,
                        self.tier_bounds,
                        flags=flags[creator.creator_id],
                    )
                )
                built.rollups.extend(
                    daily_rollups(creator, campaign.watermark, self.processor.retention)
                )
                built.posts.extend(post_figures(creator))
        return built

    def forget(self, holds: Callable[[str], bool]) -> None:
        """Forget what is remembered of the campaigns for which ``holds`` is false: this worker
        no longer holds them (their partition was revoked)."""
        for remembered in (self._viewed_hours, self._assessed):
            for campaign_id in [c for c in remembered if not holds(c)]:
                del remembered[campaign_id]
        self.bands.forget(holds)

    def _assess(
        self,
        campaign_id: str,
        members: list[CreatorState],
        watermark: float | None,
        goals: CampaignTargets,
        changed: set[str] | None,
    ) -> Assessment:
        block = block_start(watermark) if watermark is not None else 0
        clock = time.monotonic()
        last = self._assessed.get(campaign_id)
        if (
            last is not None
            and changed is not None
            and last.block == block
            and clock - last.at < self.reassess_seconds
        ):
            return last.assessment
        assessment = detect(members, watermark, goals)
        self._assessed[campaign_id] = _Assessed(clock, block, assessment)
        return assessment
