"""Daily rollups from state and the weekly review computed from them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from pydantic import ValidationError

from services.domain.alerts import Alert
from services.domain.config import CampaignSettings
from services.domain.counters import Counters
from services.domain.rollups import DailyRollup, PostFigures, daily_rollups, day_of
from services.domain.state import CreatorState, Outcome
from services.domain.suspicion import CreatorFlag
from services.domain.views import CreatorView, creator_view, trend
from services.domain.weekly import ReviewInputs, portfolio, weekly_report
from services.domain.weeks import IsoWeek
from services.domain.windows import DAY, HOUR
from services.notifier.payloads import report_body
from services.reporting.charts import line_chart
from services.service_layer.reports import report_event
from tests.alerts import firing_alert
from tests.unit.strategies import (
    CAMPAIGN,
    CREATOR,
    RETENTION,
    T0,
    Event,
    apply,
    conversion,
    new_state,
    snapshot,
    spend,
)

WEEK = IsoWeek.of(day_of(T0))  # 2025-W10: T0 is Monday 3 March 2025, 00:00 UTC


def _history() -> list[Event]:
    """A fee on Monday, a post's views growing over three days, a customer on Tuesday and two
    on Wednesday."""
    return [
        spend("fee", occurred_at=T0 + 9 * HOUR, amount="300"),
        snapshot(observed_at=T0 + 10 * HOUR, posted_at=T0 + 9 * HOUR, views=1_000, likes=50),
        snapshot(observed_at=T0 + DAY + 10 * HOUR, posted_at=T0 + 9 * HOUR, views=3_000, likes=90),
        snapshot(observed_at=T0 + 2 * DAY + 8 * HOUR, posted_at=T0 + 9 * HOUR, views=3_500),
        conversion("c1", occurred_at=T0 + DAY + 3 * HOUR, revenue="80"),
        conversion("c2", occurred_at=T0 + 2 * DAY + 13 * HOUR, revenue="40"),
        conversion("c3", occurred_at=T0 + 2 * DAY + 20 * HOUR, revenue="40"),
    ]


def _rollups_after(events: list[Event]) -> tuple[list[DailyRollup], float | None]:
    campaign, creator = new_state()
    for event in events:
        assert apply(campaign, creator, event).outcome in (Outcome.APPLIED, Outcome.DUPLICATE)
    return daily_rollups(creator, campaign.watermark, RETENTION), campaign.watermark


def test_a_rollup_is_the_days_full_figure() -> None:
    rollups, _ = _rollups_after(_history())

    by_day = {r.day: r.counters for r in rollups}
    monday, tuesday, wednesday = (date(2025, 3, 3) + timedelta(days=n) for n in range(3))
    assert by_day[monday] == Counters(views=1_000, likes=50, spend_micros=300_000_000)
    assert by_day[tuesday] == Counters(
        views=2_000, likes=40, conversions=1, new_customers=1, revenue_micros=80_000_000
    )
    assert by_day[wednesday] == Counters(
        views=500, likes=-90, conversions=2, new_customers=2, revenue_micros=80_000_000
    )


def test_a_replay_leaves_every_day_as_it_was() -> None:
    once, _ = _rollups_after(_history())
    twice, _ = _rollups_after(_history() + _history())

    assert twice == once


def test_a_late_event_changes_its_own_day_only_once_hours_are_blocks() -> None:
    later = snapshot(observed_at=T0 + 3 * DAY + 6 * HOUR, posted_at=T0 + 9 * HOUR, views=3_600)
    before, watermark = _rollups_after([*_history(), later])
    late = conversion("late", occurred_at=T0 + DAY + 5 * HOUR, revenue="20")
    after, _ = _rollups_after([*_history(), later, late])

    assert watermark is not None and watermark - (T0 + DAY + 5 * HOUR) > 2 * DAY  # in a block
    changed = {a.day for a, b in zip(after, before, strict=True) if a != b}
    assert changed == {date(2025, 3, 4)}
    tuesday = next(r.counters for r in after if r.day == date(2025, 3, 4))
    assert (tuesday.new_customers, tuesday.revenue_micros) == (2, 100_000_000)


def test_days_past_the_retention_are_left_to_their_stored_figure() -> None:
    far = snapshot(observed_at=T0 + 11 * DAY + HOUR, posted_at=T0 + 9 * HOUR, views=4_000)
    rollups, _ = _rollups_after([*_history(), far])

    assert min(r.day for r in rollups) > date(2025, 3, 3)


def _day(creator: str, day: date, **counts: int) -> DailyRollup:
    return DailyRollup(CAMPAIGN, creator, day, Counters(**counts))


def _alert(opened: datetime, acknowledged: datetime | None) -> Alert:
    alert = firing_alert(CAMPAIGN, "engagement rate fell", opened)
    if acknowledged is None:
        return alert
    return alert.model_copy(update={"state": "acknowledged", "acknowledged_at": acknowledged})


def test_the_weeks_figures_are_the_sums_of_their_days() -> None:
    monday = WEEK.first_day
    rollups = [
        _day("ana", monday, views=1_000, likes=100, clicks=20, spend_micros=50_000_000),
        _day("ana", monday + timedelta(days=3), conversions=3, new_customers=2),
        _day("bo", monday + timedelta(days=6), views=500, likes=10, new_customers=1),
        _day("bo", monday - timedelta(days=1), spend_micros=90_000_000, new_customers=3),
        _day("bo", monday + timedelta(days=7), spend_micros=10**9),
    ]
    start = WEEK.start()
    alerts = [
        _alert(start + timedelta(hours=2), start + timedelta(hours=5)),
        _alert(start + timedelta(days=2), start + timedelta(days=2, hours=1)),
        _alert(start - timedelta(days=3), None),
    ]

    report = weekly_report(
        ReviewInputs(CAMPAIGN, WEEK, rollups, alerts=alerts, currency="USD", target_cac=20.0)
    )

    now, before = report.summary.this_week, report.summary.last_week
    assert (now.views, now.engagements, now.clicks, now.conversions) == (1_500, 110, 20, 3)
    assert (now.spend, now.new_customers) == (50.0, 3)
    assert now.cac == pytest.approx(50 / 3)
    assert (before.spend, before.new_customers, before.cac) == (90.0, 3, 30.0)
    assert [step.count for step in report.funnel] == [1_500, 110, 20, 3]
    assert report.summary.headline.startswith("CAC USD 16.67 against a target of USD 20.00")
    assert [c.creator_id for c in report.creators] == ["bo", "ana"]
    assert (report.alerts.opened, report.alerts.acknowledged) == (2, 2)
    assert report.alerts.median_hours_to_acknowledge == 2.0
    assert report.suspicious_engagement.available and report.suspicious_engagement.items == []
    assert not report.budget_moves.available
    assert [point.week for point in report.history][-2:] == ["2025-W09", "2025-W10"]


def test_a_week_without_spend_has_no_cac_rather_than_zero() -> None:
    rollups = [_day("ana", WEEK.first_day, new_customers=4)]

    report = weekly_report(ReviewInputs(CAMPAIGN, WEEK, rollups))

    assert report.summary.this_week.cac is None
    assert report.history[-1].cac is None


def test_partnership_candidates_held_their_returns_for_four_weeks() -> None:
    rollups = []
    for back in range(4):
        monday = WEEK.shifted(-back).first_day
        rollups.append(
            _day("steady", monday, spend_micros=10**8, new_customers=3, revenue_micros=2 * 10**8)
        )
        rollups.append(
            _day(
                "fading",
                monday,
                spend_micros=10**8,
                new_customers=9 if back else 1,
                revenue_micros=3 * 10**8,
            )
        )
        if back != 2:
            rollups.append(_day("gappy", monday, new_customers=5, revenue_micros=10**8))

    report = weekly_report(ReviewInputs(CAMPAIGN, WEEK, rollups))

    assert [c.creator_id for c in report.partnership_candidates] == ["steady"]
    assert report.partnership_candidates[0].weekly_new_customers == [3, 3, 3, 3]


def test_the_portfolio_puts_the_worst_campaign_first() -> None:
    def review(campaign_id: str, status: str, spend_micros: int) -> ReviewInputs:
        rollups = [
            DailyRollup(
                campaign_id,
                CREATOR,
                WEEK.first_day,
                Counters(spend_micros=spend_micros, new_customers=10),
            )
        ]
        return ReviewInputs(campaign_id, WEEK, rollups, target_cac=10.0, status=status)  # type: ignore[arg-type]

    reports = [
        weekly_report(review("calm", "healthy", 50 * 10**6)),
        weekly_report(review("pricey", "healthy", 300 * 10**6)),
        weekly_report(review("fading", "decaying", 50 * 10**6)),
    ]

    assert [line.campaign_id for line in portfolio(WEEK, reports).campaigns] == [
        "fading",
        "pricey",
        "calm",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-48", "not an ISO week"),
        ("2026-W54", "has no ISO week 54"),
        ("2026-W00", "no ISO week 0"),
    ],
)
def test_a_bad_week_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        IsoWeek.parse(text)


def test_weeks_run_monday_to_sunday_in_utc() -> None:
    week = IsoWeek.parse("2026-W01")

    assert (week.first_day, week.last_day) == (date(2025, 12, 29), date(2026, 1, 4))
    assert week.start() == datetime(2025, 12, 29, tzinfo=UTC)
    assert week.shifted(-1).label == "2025-W52"


def test_the_status_page_cac_is_a_gap_until_there_is_spend_and_a_customer() -> None:
    watermark = T0 + 3 * DAY
    steps = {
        int(T0 - DAY): Counters(new_customers=2),
        int(T0): Counters(spend_micros=100_000_000),
        int(T0 + DAY): Counters(new_customers=4),
    }

    points = trend(steps, watermark)

    by_start = {p.start.timestamp(): p.cac_to_date for p in points}
    assert by_start[T0 - DAY] is None  # customers, no spend yet: no figure, not 0.00
    assert by_start[T0] == pytest.approx(50.0)  # 100 over the 2 customers so far
    assert by_start[T0 + DAY] == pytest.approx(100 / 6)


def test_a_missing_value_breaks_the_line_and_says_so() -> None:
    svg = line_chart("cac", "CAC", ["W1", "W2", "W3", "W4"], [10.0, 12.0, None, 9.0], str)

    assert svg.count("<polyline") == 1
    assert "no figure" in svg
    assert svg.count("<circle") == 3


def test_a_campaign_time_zone_must_be_an_iana_zone_and_is_named_in_the_review() -> None:
    with pytest.raises(ValidationError, match="'Mars/Olympus' is not an IANA time zone"):
        CampaignSettings(time_zone="Mars/Olympus")

    report = weekly_report(ReviewInputs(CAMPAIGN, WEEK, [], time_zone="America/New_York"))

    assert "America/New_York was UTC-5 h" in report.day_boundaries
    assert "starts at 19:00 local time" in report.day_boundaries


def test_a_slack_receiver_gets_the_headline_the_decision_and_the_links() -> None:
    report = weekly_report(ReviewInputs(CAMPAIGN, WEEK, [_day("ana", WEEK.first_day, views=10)]))
    event = report_event(report, "http://pulse.internal:8000/")

    message = orjson.loads(report_body("slack", event))

    [block] = message["blocks"]
    assert report.summary.headline in message["text"]
    assert report.summary.decision in block["text"]["text"]
    assert (
        f"<http://pulse.internal:8000/v1/campaigns/{CAMPAIGN}/reports/weekly?week=2025-W10"
        "&format=pdf|PDF>"
    ) in block["text"]["text"]
    assert orjson.loads(report_body("generic", event)) == event


def test_posts_of_the_week_rank_by_engagement_rate_and_unseen_ones_are_left_out() -> None:
    posted = WEEK.start() + timedelta(hours=10)

    def post(post_id: str, views: int, likes: int) -> PostFigures:
        counters = Counters(views=views, likes=likes)
        return PostFigures(CAMPAIGN, CREATOR, post_id, posted, posted + timedelta(days=1), counters)

    posts = [post("p1", 1_000, 50), post("p2", 1_000, 90), post("p3", 0, 0), post("p4", 500, 10)]

    report = weekly_report(ReviewInputs(CAMPAIGN, WEEK, [], posts=posts))

    assert report.posts.published == 4
    assert [p.post_id for p in report.posts.best] == ["p2", "p1", "p4"]
    assert report.posts.worst == []  # three ranked posts, all among the best
    assert report.posts.best[0].engagement_rate_by_views == pytest.approx(0.09)


def test_the_review_lists_the_flags_found_by_the_weeks_end() -> None:
    def flagged(creator_id: str, since: datetime) -> CreatorView:
        flag = CreatorFlag(
            kind="engagement_burst", post_id="p1", since=since, evidence={"likes_gained": 900.0}
        )
        state = CreatorState(campaign_id=CAMPAIGN, creator_id=creator_id)
        return creator_view(state, None, "healthy", [], WEEK.end(), flags=[flag])

    in_week = flagged("bought", WEEK.start() + timedelta(days=2))
    after = flagged("later", WEEK.end() + timedelta(hours=1))
    section = weekly_report(ReviewInputs(CAMPAIGN, WEEK, [], creators=[in_week, after]))
    assert section.suspicious_engagement.available
    assert [(f.creator_id, f.kind, f.post_id) for f in section.suspicious_engagement.items] == [
        ("bought", "engagement_burst", "p1")
    ]
    assert section.suspicious_engagement.items[0].evidence == {"likes_gained": 900.0}
