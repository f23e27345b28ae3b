"""Conversion reversals in state: revenue and the new customer go back once per event id, never
below what the creator has, and CAC and ROAS follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.domain.events import ConversionReversal, parse_event
from services.domain.state import Outcome
from services.domain.views import campaign_view
from tests.unit.strategies import (
    CAMPAIGN,
    CREATOR,
    T0,
    apply,
    conversion,
    iso,
    new_state,
    spend,
)


def reversal(event_id: str, revenue: str, new_customer: bool, **changes: Any) -> ConversionReversal:
    raw = {
        "type": "conversion_reversal",
        "event_id": event_id,
        "campaign_id": CAMPAIGN,
        "creator_id": CREATOR,
        "reverses": "order-1",
        "occurred_at": iso(T0 + 3600),
        "revenue": revenue,
        "currency": "USD",
        "new_customer": new_customer,
    } | changes
    event = parse_event(raw)
    assert isinstance(event, ConversionReversal), event
    return event


def test_a_reversal_takes_back_revenue_and_the_new_customer_once() -> None:
    campaign, creator = new_state()
    for event in (spend("fee", amount="100"), conversion("order-1", revenue="80")):
        assert apply(campaign, creator, event).outcome is Outcome.APPLIED
    cancel = reversal("order-1-cancelled", "80", True)

    assert apply(campaign, creator, cancel).outcome is Outcome.APPLIED
    assert apply(campaign, creator, cancel).outcome is Outcome.DUPLICATE

    assert (creator.lifetime.revenue_micros, creator.lifetime.new_customers) == (0, 0)
    # The order stays placed: conversions counts orders, revenue and new customers what is kept.
    assert creator.lifetime.conversions == 1


def test_a_partial_refund_keeps_the_customer_and_cac_and_roas_follow() -> None:
    campaign, creator = new_state()
    for event in (
        spend("fee", amount="100"),
        conversion("order-1", revenue="80"),
        conversion("order-2", revenue="120"),
        reversal("refund-1", "30", False),
    ):
        assert apply(campaign, creator, event).outcome is Outcome.APPLIED

    view = campaign_view(
        CAMPAIGN, campaign.currency, [creator], campaign.watermark, "healthy", [], datetime.now(UTC)
    )

    totals = view.totals
    assert (totals.revenue, totals.new_customers) == (170.0, 2)
    assert (totals.roas, totals.cac) == (1.7, 50.0)


def test_a_reversal_never_takes_a_creator_below_zero() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, conversion("order-1", revenue="40", new_customer=False))

    applied = apply(campaign, creator, reversal("too-much", "100", True))

    assert applied.outcome is Outcome.APPLIED
    assert (creator.lifetime.revenue_micros, creator.lifetime.new_customers) == (0, 0)
    again = apply(campaign, creator, reversal("more", "5", True))
    assert again.outcome is Outcome.APPLIED
    assert (creator.lifetime.revenue_micros, creator.lifetime.new_customers) == (0, 0)


def test_a_reversal_in_another_currency_is_rejected() -> None:
    campaign, creator = new_state()
    apply(campaign, creator, conversion("order-1", revenue="40"))

    applied = apply(campaign, creator, reversal("eur", "10", False, currency="EUR"))

    assert (applied.outcome, applied.field) == (Outcome.REJECTED, "currency")
    assert creator.lifetime.revenue_micros == 40_000_000


def test_the_contract_names_the_new_type_and_its_fields() -> None:
    unknown = parse_event(
        {"type": "refund", "event_id": "x", "campaign_id": "c", "creator_id": "a"}
    )
    assert isinstance(unknown, list)
    assert "conversion_reversal" in unknown[0].reason
    missing = parse_event(
        {
            "type": "conversion_reversal",
            "event_id": "x",
            "campaign_id": "c",
            "creator_id": "a",
            "occurred_at": iso(T0),
            "revenue": "1",
            "currency": "USD",
        }
    )
    assert isinstance(missing, list)
    assert [(e.field, e.reason) for e in missing] == [("reverses", "required field is missing")]
