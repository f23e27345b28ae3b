"""Each suspicious-engagement rule fires on what it is for and not on its honest look-alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.domain.counters import Counters
from services.domain.state import CreatorState, PostSnapshot
from services.domain.suspicion import (
    DEFAULT_SUSPICION,
    EngagementBands,
    Flag,
    creator_flags,
    out_of_band,
)
from services.domain.suspicion.flag import record
from services.domain.suspicion.follower_rules import follower_spike, keep_reading
from services.domain.suspicion.observe import observe_snapshot
from services.domain.suspicion.post_rules import engagement_burst, likes_exceed_views, purge
from services.monitor.settings import MonitorSettings

HOUR = 3600.0
SETTINGS = DEFAULT_SUSPICION


def test_likes_above_views_are_flagged_with_their_numbers() -> None:
    flag = likes_exceed_views("p1", 10.0, Counters(views=800, likes=5_000), SETTINGS)

    assert flag is not None
    assert (flag.kind, flag.post_id, flag.since) == ("likes_exceed_views", "p1", 10.0)
    assert flag.evidence["likes"] == 5_000 and flag.evidence["views"] == 800


def test_engagements_above_views_count_too() -> None:
    counts = Counters(views=100, likes=60, comments=30, shares=20)

    assert likes_exceed_views("p1", 0.0, counts, SETTINGS) is not None


def test_an_honest_snapshot_or_a_handful_of_likes_is_not_flagged() -> None:
    honest = Counters(views=20_000, likes=1_100, comments=60)
    read_before_its_views = Counters(views=3, likes=9)

    assert likes_exceed_views("p1", 0.0, honest, SETTINGS) is None
    assert likes_exceed_views("p1", 0.0, read_before_its_views, SETTINGS) is None


def test_likes_without_matching_views_are_a_burst() -> None:
    gained = Counters(views=1_000, likes=2_000, comments=2)

    flag = engagement_burst("p1", 5.0, gained, 0.05, 0.003, SETTINGS)

    assert flag is not None and flag.kind == "engagement_burst"
    assert flag.likes == 2_000 - 50
    assert flag.evidence["expected_likes"] == 50


def test_likes_growing_with_views_are_no_burst_however_large() -> None:
    viral = Counters(views=400_000, likes=21_000, comments=1_300)

    assert engagement_burst("p1", 5.0, viral, 0.05, 0.003, SETTINGS) is None


def test_no_burst_is_judged_before_the_creator_has_a_rate_of_its_own() -> None:
    gained = Counters(views=100, likes=2_000)

    assert engagement_burst("p1", 5.0, gained, None, None, SETTINGS) is None


def test_a_sharp_downward_revision_is_a_purge_and_undone_for_the_detector() -> None:
    before = Counters(views=50_000, likes=4_000)
    gained = Counters(views=500, likes=-1_200)

    flag = purge("p1", 9.0, before, gained, SETTINGS)

    assert flag is not None and flag.kind == "purge"
    assert flag.likes == -1_200
    assert flag.evidence["share_removed"] == 0.3


def test_a_small_honest_revision_is_no_purge() -> None:
    before = Counters(views=50_000, likes=4_000)

    assert purge("p1", 9.0, before, Counters(views=500, likes=-200), SETTINGS) is None
    assert purge("p1", 9.0, Counters(likes=40), Counters(likes=-8), SETTINGS) is None


def _readings(*points: tuple[float, int, int]) -> list[tuple[float, int, int]]:
    kept: list[tuple[float, int, int]] = []
    for point in points:
        keep_reading(kept, point, SETTINGS)
    return kept


def test_followers_jumping_without_views_are_a_spike() -> None:
    kept = _readings((0.0, 30_000, 100_000), (4 * HOUR, 30_010, 104_000))

    flag = follower_spike(kept, (10 * HOUR, 36_000, 108_000), SETTINGS)

    assert flag is not None and flag.kind == "follower_spike" and flag.post_id is None
    assert flag.evidence["followers_gained"] == 6_000


def test_followers_rising_with_a_viral_posts_views_are_no_spike() -> None:
    # 2.5M views bring 20,000 followers: under one follow per hundred views.
    kept = _readings((0.0, 30_000, 100_000), (4 * HOUR, 31_000, 900_000))

    assert follower_spike(kept, (10 * HOUR, 50_000, 2_600_000), SETTINGS) is None


def test_steady_organic_growth_is_no_spike() -> None:
    kept = _readings((0.0, 2_000_000, 0), (8 * HOUR, 2_001_500, 0))

    assert follower_spike(kept, (20 * HOUR, 2_004_000, 0), SETTINGS) is None


def test_follower_readings_stay_few() -> None:
    kept = _readings(*((hour * HOUR, 1_000 + hour, 0) for hour in range(200)))

    assert len(kept) <= 13
    assert kept[-1][0] - kept[0][0] <= (24 + 12) * HOUR


def _creator(creator_id: str, rates: list[float], platform: str = "tiktok") -> CreatorState:
    creator = CreatorState("c", creator_id, platform=platform, followers=20_000)
    for index, rate in enumerate(rates):
        counts = Counters(views=10_000, likes=round(10_000 * rate))
        creator.posts[f"{creator_id}-p{index}"] = PostSnapshot(1.0, float(index), 20_000, counts)
        creator.lifetime.add(counts)
    return creator


def _bands(*creators: CreatorState) -> EngagementBands:
    bands = EngagementBands(SETTINGS)
    bands.see(creators)
    return bands


def test_a_post_far_above_its_tier_and_platform_band_is_out_of_band() -> None:
    peers = [_creator(f"k{i}", [0.04 + 0.001 * i] * 3) for i in range(10)]
    bought = _creator("bought", [0.05, 0.05, 0.30])

    flags = out_of_band(bought, _bands(*peers, bought))

    assert [(f.kind, f.post_id) for f in flags] == [("engagement_out_of_band", "bought-p2")]
    assert flags[0].evidence["band_creators"] == 11


def test_a_creator_whose_posts_fell_from_its_own_rate_is_not_out_of_band() -> None:
    peers = [_creator(f"k{i}", [0.05] * 3) for i in range(10)]
    decaying = _creator("decaying", [0.06, 0.06, 0.06, 0.06, 0.012])
    low_throughout = _creator("bought-views", [0.01, 0.012, 0.011])
    bands = _bands(*peers, decaying, low_throughout)

    assert out_of_band(decaying, bands) == []
    assert len(out_of_band(low_throughout, bands)) == 3


def test_no_band_without_enough_creators() -> None:
    peers = [_creator(f"k{i}", [0.05] * 3) for i in range(5)]
    bought = _creator("bought", [0.4])

    assert out_of_band(bought, _bands(*peers, bought)) == []


def test_the_platform_band_stands_in_for_a_thin_tier() -> None:
    peers = [replace(_creator(f"k{i}", [0.05] * 3), followers=5_000 * (i + 1)) for i in range(12)]
    bought = _creator("bought", [0.4])

    flags = out_of_band(bought, _bands(*peers, bought))

    assert flags and flags[0].evidence["band_creators"] == 13


def test_a_follower_spike_still_open_is_refreshed_not_repeated() -> None:
    flags: list[Flag] = []
    record(flags, Flag("follower_spike", None, 0.0, {"followers_gained": 5_000}), 24)
    record(flags, Flag("follower_spike", None, 6 * HOUR, {"followers_gained": 9_000}), 24)
    record(flags, Flag("follower_spike", None, 30 * HOUR, {"followers_gained": 4_000}), 24)

    assert [(f.since, f.evidence["followers_gained"]) for f in flags] == [
        (0.0, 9_000),
        (30 * HOUR, 4_000),
    ]


def test_records_are_capped_oldest_first() -> None:
    flags: list[Flag] = []
    for index in range(30):
        record(flags, Flag("engagement_burst", f"p{index}", float(index)), 24)

    assert len(flags) == 24 and flags[0].post_id == "p6"


def test_likes_above_views_are_recorded_once_per_post() -> None:
    creator = _creator("c1", [0.05] * 3)
    counts = Counters(views=100, likes=900)
    for at in (1.0, 2.0, 3.0):
        observe_snapshot(
            creator.flags, "p9", at, None, counts, Counters(), creator.lifetime, SETTINGS
        )

    assert [f.kind for f in creator.flags] == ["likes_exceed_views"]


def test_the_view_shows_one_flag_per_kind_and_post_first_found_first() -> None:
    creator = _creator("c1", [0.05])
    creator.flags = [
        Flag("engagement_burst", "p1", 7_200.0, {"likes_gained": 900}, likes=800),
        Flag("engagement_burst", "p1", 3_600.0, {"likes_gained": 400}, likes=350),
        Flag("purge", "p2", 100.0, {"likes_removed": 300}, likes=-300),
    ]

    shown = creator_flags(creator, None)

    assert [(f.kind, f.post_id, f.since.timestamp()) for f in shown] == [
        ("engagement_burst", "p1", 3_600.0),
        ("purge", "p2", 100.0),
    ]
    assert shown[0].evidence == {"likes_gained": 900}


def test_the_monitor_reads_changed_thresholds_from_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULSE_MONITOR_SUSPICION", '{"burst_factor": 4, "purge_share": 0.2}')

    settings = MonitorSettings().suspicion

    assert (settings.burst_factor, settings.purge_share) == (4.0, 0.2)
    assert settings.band_factor == DEFAULT_SUSPICION.band_factor


def test_a_revoked_campaigns_creators_leave_the_bands() -> None:
    held = [_creator(f"k{i}", [0.05] * 3) for i in range(10)]
    other = [replace(_creator(f"o{i}", [0.05] * 3), campaign_id="other") for i in range(5)]
    bands = _bands(*held, *other)

    bands.forget(lambda campaign_id: campaign_id == "c")

    found = bands.band("tiktok", "micro")
    assert found is not None and found.creators == 10
