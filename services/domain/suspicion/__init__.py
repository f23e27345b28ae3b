"""Suspicious engagement: fake spikes (bought likes, pods, bought followers) and their removal
(purges), flagged in the stream so they are neither read as health nor as decay.

The modules: ``settings`` (every threshold), ``flag`` (a flag record and how records are kept),
``post_rules`` (``likes_exceed_views``, ``engagement_burst``, ``purge`` on a post's new snapshot),
``follower_rules`` (``follower_spike``), ``band`` (``engagement_out_of_band`` against the
tier-and-platform band of every creator the monitor holds), ``observe`` (the rules as the state
applies a snapshot), ``baseline`` (the buckets the detector reads, flagged counts left out) and
``report`` (flags as the views show them). The method and the evidence behind each threshold are
in ``docs/suspicious-engagement.md``.

Pure: no I/O and no wall clock; everything is a function of the events applied.
"""

from services.domain.suspicion.band import EngagementBands, out_of_band
from services.domain.suspicion.baseline import without_flagged
from services.domain.suspicion.flag import Flag
from services.domain.suspicion.observe import observe_followers, observe_snapshot
from services.domain.suspicion.report import (
    CreatorFlag,
    FlaggedCreator,
    creator_flags,
    flagged_creators,
    shown,
)
from services.domain.suspicion.settings import (
    DEFAULT_SUSPICION,
    FLAG_KINDS,
    FlagKind,
    SuspicionSettings,
)

__all__ = [
    "DEFAULT_SUSPICION",
    "FLAG_KINDS",
    "CreatorFlag",
    "EngagementBands",
    "Flag",
    "FlagKind",
    "FlaggedCreator",
    "SuspicionSettings",
    "creator_flags",
    "flagged_creators",
    "observe_followers",
    "observe_snapshot",
    "out_of_band",
    "shown",
    "without_flagged",
]
