"""Decay detection: each campaign against its own, mix-adjusted baseline, with a sequential test.

Every six-hour block, a campaign's engagements, link clicks and conversions are compared with
what its creators' own baseline rates predict for the views they actually had, so a change in
the creator mix is no decay. Generalised likelihood ratio tests look for a drop that started in
the test window and lasts until now (a step or a deepening ramp), with creators weighed by their
information and each one's outliers bounded; conversions are tested on settled data, by day,
with a change-point test and a whole-window trend test. A status needs a change that is both
significant and large enough to matter, and ``decaying`` needs it to persist; a CAC above the
campaign's target is a finding of its own.

The method, the evidence behind every threshold and the decisions taken (and the alternatives
rejected) are in ``docs/detection.md``.

The modules: ``settings`` (settings, targets, constants), ``series`` (the block series and the
baseline's extent), ``baselines`` (creators' baseline rates and noise), ``likelihood`` (the GLR
drop and trend tests), ``engagement``, ``conversions`` (conversions and CAC), ``status`` (status,
reasons and contributors) and ``detector`` (the entry point).

``detect`` is a pure function of the buckets and the watermark: replaying the same events gives
the same status, live or backfilled.
"""

from services.domain.detection.detector import detect
from services.domain.detection.settings import (
    CREATOR_SETTINGS,
    CampaignTargets,
    DetectorSettings,
    Sensitivity,
)
from services.domain.detection.status import Assessment

__all__ = [
    "CREATOR_SETTINGS",
    "Assessment",
    "CampaignTargets",
    "DetectorSettings",
    "Sensitivity",
    "detect",
]
