"""Labelled suspicious behaviour of one creator, and what it does to the counts the creator's
posts report: bought likes, bought followers, an engagement pod, fake likes later purged, and an
honest look-alike (a viral post whose followers rise with its views).

Sizes (``docs/suspicious-engagement.md``): bought likes are sold in packages from a few hundred
up, delivered within the hour, so one lands between two snapshots; bought followers arrive over a
few hours to a day (HypeAuditor: paid promotion rarely adds more than about 5,000 a day, so a jump
beyond what views explain stands out); a pod's members like and comment within the first hour of
every post (vendors: "comment bursts in the first hour"); a purge removes the fake likes a
platform found, all at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

Behaviour = Literal["bought_likes", "bought_followers", "engagement_pod", "purge", "viral_post"]
BEHAVIOURS: tuple[Behaviour, ...] = get_args(Behaviour)
FRAUDULENT: tuple[Behaviour, ...] = BEHAVIOURS[:4]

# The flag kinds each behaviour is labelled with; ``likes_exceed_views`` is labelled from the
# snapshots themselves (bought likes exceed views only when the package outgrows the post's
# views at delivery), see ``services.evaluation.flags``.
LABELS: dict[Behaviour, frozenset[str]] = {
    "bought_likes": frozenset({"engagement_burst", "engagement_out_of_band"}),
    "bought_followers": frozenset({"follower_spike"}),
    "engagement_pod": frozenset({"engagement_burst", "engagement_out_of_band"}),
    "purge": frozenset({"purge"}),
    "viral_post": frozenset(),
}

POD_MINUTES = 30.0
VIRAL_FOLLOW_DAYS = 1.0


@dataclass(frozen=True)
class FraudPlan:
    """One creator's behaviour.

    - ``bought_likes``: post ``post_index`` gets ``size`` times its total views in likes, in
      ``batches`` deliveries ``spacing`` apart from ``start``;
    - ``bought_followers``: ``amount`` followers arrive linearly over ``hours`` from ``start``;
    - ``engagement_pod``: every post from ``start`` on gets ``amount`` engagements within the
      first hour, ``comment_share`` of them comments;
    - ``purge``: posts carry ``size`` times their organic likes in fake likes until ``start``,
      when the platform removes them (and no more arrive);
    - ``viral_post``: post ``post_index`` (posted at ``start``) gets ``size`` times its views,
      and ``amount`` followers follow over the day after it.
    """

    creator_id: str
    behaviour: Behaviour
    start: datetime
    post_index: int = -1
    size: float = 0.0
    amount: int = 0
    batches: int = 1
    spacing: timedelta = timedelta(hours=6)
    hours: float = 0.0
    comment_share: float = 0.0

    def extra_views(self, posted_at: datetime, observed_at: datetime) -> int:
        """A pod's members see the post they engage with: one view each."""
        if self.behaviour == "engagement_pod" and posted_at >= self.start:
            return round(self.amount * _pod_share(posted_at, observed_at))
        return 0

    def views_factor(self, post_index: int) -> float:
        if self.behaviour == "viral_post" and post_index == self.post_index:
            return self.size
        return 1.0

    def extra_likes(
        self,
        post_index: int,
        posted_at: datetime,
        observed_at: datetime,
        organic_likes: float,
        total_views: float,
    ) -> int:
        """Likes the post reports beyond its organic ones at ``observed_at``."""
        if self.behaviour == "bought_likes" and post_index == self.post_index:
            delivered = sum(
                1
                for batch in range(self.batches)
                if self.start + batch * self.spacing <= observed_at
            )
            return round(self.size * total_views * delivered / self.batches)
        if self.behaviour == "purge" and posted_at < self.start and observed_at < self.start:
            return round(self.size * organic_likes)
        if self.behaviour == "engagement_pod" and posted_at >= self.start:
            return round(
                self.amount * (1 - self.comment_share) * _pod_share(posted_at, observed_at)
            )
        return 0

    def extra_comments(self, posted_at: datetime, observed_at: datetime) -> int:
        if self.behaviour == "engagement_pod" and posted_at >= self.start:
            return round(self.amount * self.comment_share * _pod_share(posted_at, observed_at))
        return 0

    def extra_followers(self, observed_at: datetime) -> int:
        elapsed = (observed_at - self.start).total_seconds()
        if elapsed <= 0:
            return 0
        if self.behaviour == "bought_followers":
            return round(self.amount * min(1.0, elapsed / (self.hours * 3600)))
        if self.behaviour == "viral_post":
            return round(self.amount * (1 - math.exp(-elapsed / (VIRAL_FOLLOW_DAYS * 86_400))))
        return 0


def _pod_share(posted_at: datetime, observed_at: datetime) -> float:
    minutes = (observed_at - posted_at).total_seconds() / 60
    return 1 - math.exp(-minutes / POD_MINUTES)
