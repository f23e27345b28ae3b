from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.domain.allocation.inputs import exclusion
from services.domain.state import CreatorState
from services.domain.views import creator_view
from services.simulator.plans import generate_campaigns
from services.simulator.response import alike, following_week, responses

START = datetime(2026, 3, 2, tzinfo=UTC)


def test_each_creator_has_a_saturating_truth_through_its_plan() -> None:
    plan = generate_campaigns(5, 3, START, timedelta(days=10))[0]
    truth = responses(plan)

    assert set(truth) == {c.creator_id for c in plan.creators}
    for creator in truth.values():
        base = creator.customers(creator.planned_spend)
        assert base == pytest.approx(creator.planned_customers)
        assert creator.customers(1.3 * creator.planned_spend) < 1.3 * base
        assert creator.customers(0.7 * creator.planned_spend) > 0.7 * base
    rates = [c.planned_customers / c.planned_spend for c in truth.values()]
    assert max(rates) > 1.5 * min(rates)
    spend = {c: 2 * r.planned_spend for c, r in truth.items()}
    assert following_week(truth, spend) == {c: truth[c].customers(spend[c]) for c in truth}


def test_alike_creators_share_one_return_and_one_headroom() -> None:
    plan = generate_campaigns(5, 3, START, timedelta(days=10))[0]
    twin, headroom = alike(plan)
    truth = responses(twin, headroom)

    rates = {round(c.planned_customers / c.planned_spend, 12) for c in truth.values()}
    assert len(rates) == 1
    assert {c.headroom for c in truth.values()} == {headroom}
    assert twin.campaign_id == f"{plan.campaign_id}-alike"


def test_a_flagged_or_decaying_creator_is_excluded_from_budget() -> None:
    now = datetime(2026, 3, 9, tzinfo=UTC)
    view = creator_view(CreatorState("c", "ana"), None, "healthy", [], now)

    assert exclusion(view) is None
    assert exclusion(view.model_copy(update={"status": "decaying"})) == (
        "decaying: receives no budget"
    )
    flagged = view.model_copy(update={"flags": ["likes_exceed_views"]})
    assert exclusion(flagged) == (
        "flagged for suspicious engagement (1 flag(s)): receives no budget"
    )
