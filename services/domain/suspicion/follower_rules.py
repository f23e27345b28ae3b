"""``follower_spike``: followers gained far beyond what the creator's views explain.

A reading is ``(event time, followers, the creator's lifetime views then)``; a few are kept per
creator, at most one per ``follower_point_hours``, so the rule costs a handful of comparisons per
snapshot and a few dozen bytes per creator."""

from __future__ import annotations

from services.domain.suspicion.flag import Flag
from services.domain.suspicion.settings import SuspicionSettings

HOUR = 3600.0
DAY = 86_400.0
Reading = tuple[float, int, int]


def follower_spike(
    readings: list[Reading], latest: Reading, settings: SuspicionSettings
) -> Flag | None:
    """Compare ``latest`` with the oldest kept reading within the lookback (at least the minimum
    gap before it): a gain above what the views since then explain, plus organic growth, by more
    than the spike threshold is a spike."""
    at, followers, views = latest
    reference = _reference(readings, at, settings)
    if reference is None:
        return None
    then, followers_then, _ = reference
    views_then = _views_before(readings, reference, settings)
    gained = followers - followers_then
    days = (at - then) / DAY
    views_gained = max(0, views - views_then)
    explained = (
        settings.follows_per_view * views_gained
        + settings.organic_growth_per_day * followers_then * days
    )
    threshold = max(settings.follower_spike_min, settings.follower_spike_share * followers_then)
    if gained - explained <= threshold:
        return None
    return Flag(
        "follower_spike",
        None,
        at,
        {
            "followers_before": followers_then,
            "followers_gained": gained,
            "hours": round((at - then) / HOUR, 1),
            "views_gained": views_gained,
            "explained_followers": round(explained),
            "threshold_followers": round(threshold),
        },
    )


def _reference(readings: list[Reading], at: float, settings: SuspicionSettings) -> Reading | None:
    earliest = at - settings.follower_lookback_hours * HOUR
    latest_allowed = at - settings.follower_min_gap_hours * HOUR
    for reading in readings:
        if earliest <= reading[0] <= latest_allowed:
            return reading
    return None


def _views_before(readings: list[Reading], reference: Reading, settings: SuspicionSettings) -> int:
    """The lifetime views at the oldest reading up to ``follower_view_lag_hours`` before the
    reference reading: views just before it still bring follows after it. The reference itself
    qualifies, so the search ends there at the latest."""
    earliest = reference[0] - settings.follower_view_lag_hours * HOUR
    for at, _, views in readings:
        if at >= earliest:
            return views
    return reference[2]


def keep_reading(readings: list[Reading], latest: Reading, settings: SuspicionSettings) -> None:
    """Add ``latest`` when the last kept reading is old enough, and drop readings older than the
    lookback and the views' lag together."""
    if readings and latest[0] - readings[-1][0] < settings.follower_point_hours * HOUR:
        return
    readings.append(latest)
    hours = settings.follower_lookback_hours + settings.follower_view_lag_hours
    earliest = latest[0] - hours * HOUR
    while readings[0][0] < earliest:
        del readings[0]
