"""Creator-level alert episodes in `pulse eval`: each creator's own status (the detector on that
creator, with the creator settings the monitor uses), kept as the alert policy keeps a
creator's alerts: an episode opens on entering ``decaying`` and closes once the creator has been
clear for the auto-resolve time of event time."""

from __future__ import annotations

from collections.abc import Iterable

from services.domain.detection import CREATOR_SETTINGS, detect
from services.domain.state import CreatorState


class CreatorEpisodes:
    def __init__(self, resolve_after: float) -> None:
        self.resolve_after = resolve_after
        self.alerting: set[tuple[str, str]] = set()
        self.clear_since: dict[tuple[str, str], float] = {}

    def opened(
        self, campaign_id: str, creators: Iterable[CreatorState], watermark: float
    ) -> list[str]:
        """The creators of the campaign whose alert episode opens at ``watermark``."""
        opened = []
        for creator in creators:
            key = (campaign_id, creator.creator_id)
            status = detect([creator], watermark, settings=CREATOR_SETTINGS).status
            if status == "decaying":
                self.clear_since.pop(key, None)
                if key not in self.alerting:
                    self.alerting.add(key)
                    opened.append(creator.creator_id)
            elif status in ("healthy", "insufficient_data") and key in self.alerting:
                cleared = self.clear_since.setdefault(key, watermark)
                if watermark - cleared >= self.resolve_after:
                    self.alerting.discard(key)
                    del self.clear_since[key]
        return opened
