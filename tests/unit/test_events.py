"""The event contract: what is accepted, and what is refused with which field and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.domain.events import (
    Conversion,
    FieldError,
    PostMetrics,
    Spend,
    event_currency,
    parse_event,
)
from services.domain.money import to_micros
from tests.unit.strategies import (
    COUNT_FIELDS,
    T0,
    amounts,
    conversion_raw,
    parsed,
    post_metrics_raw,
    raw_conversions,
    raw_events,
    raw_post_metrics,
    raw_spends,
    spend_raw,
)

REQUIRED = {
    "post_metrics": {
        "event_id",
        "campaign_id",
        "creator_id",
        "platform",
        "post_id",
        "observed_at",
        "posted_at",
        *COUNT_FIELDS,
    },
    "conversion": {
        "event_id",
        "campaign_id",
        "creator_id",
        "occurred_at",
        "revenue",
        "currency",
        "new_customer",
    },
    "spend": {"event_id", "campaign_id", "creator_id", "occurred_at", "amount", "currency"},
}
VALID: dict[str, dict[str, Any]] = {
    "post_metrics": post_metrics_raw(views=1_000, likes=40, comments=5, shares=2, saves=3),
    "conversion": conversion_raw("conversion-1"),
    "spend": spend_raw("spend-1"),
}
TIME_FIELDS = [
    ("post_metrics", "observed_at"),
    ("post_metrics", "posted_at"),
    ("conversion", "occurred_at"),
    ("spend", "occurred_at"),
]
NOW = datetime.fromtimestamp(T0, UTC)


def with_fields(kind: str, **changes: Any) -> dict[str, Any]:
    return {**VALID[kind], **changes}


def without(kind: str, *names: str) -> dict[str, Any]:
    return {k: v for k, v in VALID[kind].items() if k not in names}


def errors(raw: Any, index: int = 0, **kwargs: Any) -> list[FieldError]:
    result = parse_event(raw, index, **kwargs)
    assert isinstance(result, list), f"accepted: {result!r}"
    return result


def error_fields(raw: Any) -> set[str]:
    return {e.field for e in errors(raw)}


@pytest.mark.parametrize(
    ("kind", "model"), [("post_metrics", PostMetrics), ("conversion", Conversion), ("spend", Spend)]
)
def test_a_valid_event_parses_to_its_model(kind: str, model: type) -> None:
    assert isinstance(parse_event(VALID[kind]), model)


def test_a_snapshot_exposes_its_engagements_and_time() -> None:
    event = parsed(VALID["post_metrics"])
    assert isinstance(event, PostMetrics)
    assert event.engagements == 40 + 5 + 2 + 3
    assert event.event_time.timestamp() == T0
    assert event_currency(event) is None


def test_money_events_expose_micros_and_currency() -> None:
    spent = parsed(spend_raw("s", amount="12.345678", currency="EUR"))
    converted = parsed(conversion_raw("c", revenue="0.000001"))
    assert isinstance(spent, Spend)
    assert isinstance(converted, Conversion)
    assert spent.amount_micros == 12_345_678
    assert converted.revenue_micros == 1
    assert event_currency(spent) == "EUR"


@pytest.mark.parametrize("kind", list(REQUIRED))
def test_every_missing_required_field_is_named(kind: str) -> None:
    found = errors({"type": kind})
    assert {e.field for e in found} == REQUIRED[kind]
    assert all(e.reason == "required field is missing" for e in found)


@pytest.mark.parametrize(
    ("kind", "name"), [(kind, name) for kind, names in REQUIRED.items() for name in sorted(names)]
)
def test_one_missing_field_is_the_only_error(kind: str, name: str) -> None:
    assert errors(without(kind, name)) == [
        FieldError(index=0, field=name, reason="required field is missing")
    ]


@pytest.mark.parametrize("kind", list(REQUIRED))
def test_an_unknown_field_is_refused(kind: str) -> None:
    assert errors(with_fields(kind, colour="red")) == [
        FieldError(index=0, field="colour", reason="unknown field")
    ]


@pytest.mark.parametrize("name", COUNT_FIELDS)
@pytest.mark.parametrize("value", ["12", 12.0, 12.5, True, False, None, [12]])
def test_a_count_must_be_a_json_integer(name: str, value: Any) -> None:
    assert error_fields(with_fields("post_metrics", **{name: value})) == {name}


@pytest.mark.parametrize("name", COUNT_FIELDS)
def test_a_count_cannot_be_negative(name: str) -> None:
    (error,) = errors(with_fields("post_metrics", **{name: -1}))
    assert error.field == name
    assert "greater than or equal to 0" in error.reason


@pytest.mark.parametrize(("kind", "name"), TIME_FIELDS)
def test_a_time_without_a_timezone_is_refused(kind: str, name: str) -> None:
    naive = datetime.fromtimestamp(T0 - 3 * 86_400, UTC).replace(tzinfo=None).isoformat()
    (error,) = errors(with_fields(kind, **{name: naive}))
    assert error.field == name
    assert "timezone" in error.reason


@pytest.mark.parametrize(("kind", "name"), TIME_FIELDS)
@pytest.mark.parametrize("value", ["yesterday", "2025-13-01T00:00:00Z", None, True])
def test_a_time_must_be_a_datetime(kind: str, name: str, value: Any) -> None:
    assert name in error_fields(with_fields(kind, **{name: value}))


def test_a_post_cannot_be_observed_before_it_was_posted() -> None:
    (error,) = errors(post_metrics_raw(observed_at=T0, posted_at=T0 + 1))
    assert error.field == "observed_at"
    assert "before posted_at" in error.reason


def test_a_post_can_be_observed_the_moment_it_is_posted() -> None:
    assert isinstance(parse_event(post_metrics_raw(observed_at=T0, posted_at=T0)), PostMetrics)


BEFORE_2004 = datetime(2003, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
START_OF_2004 = datetime(2004, 1, 1, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (post_metrics_raw(posted_at=BEFORE_2004), "posted_at"),
        (post_metrics_raw(posted_at=BEFORE_2004, observed_at=BEFORE_2004), "posted_at"),
        (conversion_raw("c", occurred_at=BEFORE_2004), "occurred_at"),
        (spend_raw("s", occurred_at=BEFORE_2004), "occurred_at"),
    ],
)
def test_a_time_before_2004_is_refused_naming_its_field(raw: dict[str, Any], name: str) -> None:
    (error,) = errors(raw)
    assert error.field == name
    assert "before 2004-01-01" in error.reason


@pytest.mark.parametrize(
    "raw",
    [
        post_metrics_raw(posted_at=START_OF_2004, observed_at=START_OF_2004),
        conversion_raw("c", occurred_at=START_OF_2004),
        spend_raw("s", occurred_at=START_OF_2004),
    ],
)
def test_the_first_moment_of_2004_is_accepted(raw: dict[str, Any]) -> None:
    assert not isinstance(parse_event(raw), list)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda at: post_metrics_raw(observed_at=at), "observed_at"),
        (lambda at: conversion_raw("c", occurred_at=at), "occurred_at"),
        (lambda at: spend_raw("s", occurred_at=at), "occurred_at"),
    ],
)
def test_a_time_beyond_the_clock_skew_is_refused(make: Any, name: str) -> None:
    skew = timedelta(minutes=5)
    (error,) = errors(make(T0 + 301), now=NOW, max_clock_skew=skew)
    assert error.field == name
    assert "future" in error.reason
    assert not isinstance(parse_event(make(T0 + 300), now=NOW, max_clock_skew=skew), list)


def test_future_times_are_accepted_without_a_clock() -> None:
    far = post_metrics_raw(observed_at=T0 + 10 * 365 * 86_400)
    assert isinstance(parse_event(far), PostMetrics)
    assert isinstance(parse_event(far, now=NOW), PostMetrics)
    assert isinstance(parse_event(far, max_clock_skew=timedelta(0)), PostMetrics)


@pytest.mark.parametrize("kind", ["conversion", "spend"])
@pytest.mark.parametrize("value", ["usd", "US", "USDX", "U$D", 840, None])
def test_a_currency_must_be_three_capital_letters(kind: str, value: Any) -> None:
    assert error_fields(with_fields(kind, currency=value)) == {"currency"}


@pytest.mark.parametrize(("kind", "name"), [("spend", "amount"), ("conversion", "revenue")])
def test_money_has_at_most_six_decimals(kind: str, name: str) -> None:
    (error,) = errors(with_fields(kind, **{name: "0.0000001"}))
    assert error.field == name
    assert "6 decimal places" in error.reason
    accepted = parsed(with_fields(kind, **{name: "0.000001"}))
    assert isinstance(accepted, Spend | Conversion)
    assert getattr(accepted, name) == Decimal("0.000001")


@pytest.mark.parametrize(("kind", "name"), [("spend", "amount"), ("conversion", "revenue")])
@pytest.mark.parametrize("value", ["-0.01", "NaN", "Infinity", "1000000000.000001", True, "ten"])
def test_money_must_be_a_finite_bounded_non_negative_number(
    kind: str, name: str, value: Any
) -> None:
    assert error_fields(with_fields(kind, **{name: value})) == {name}


@pytest.mark.parametrize("value", ["click", "", "Post_Metrics", 3, None])
def test_an_unknown_type_is_refused(value: Any) -> None:
    (error,) = errors(with_fields("spend", type=value))
    assert error.field == "type"
    assert "unknown event type" in error.reason


def test_a_missing_type_is_refused() -> None:
    (error,) = errors(without("spend", "type"))
    assert error.field == "type"
    assert error.reason.startswith("required field is missing")


@pytest.mark.parametrize("item", [[], ["spend"], "spend", 7, 1.5, None, True])
def test_an_item_must_be_an_object(item: Any) -> None:
    assert errors(item, index=4) == [
        FieldError(index=4, field="(event)", reason="an event must be a JSON object")
    ]


@pytest.mark.parametrize("name", ["event_id", "campaign_id", "creator_id", "post_id"])
@pytest.mark.parametrize("value", ["", " padded", "a/b", "x" * 129, 42])
def test_an_identifier_is_a_short_safe_string(name: str, value: Any) -> None:
    assert error_fields(with_fields("post_metrics", **{name: value})) == {name}


@pytest.mark.parametrize("name", ["event_id", "campaign_id", "creator_id"])
@pytest.mark.parametrize("value", ["-leading-dash", "_leading-underscore"])
def test_other_identifiers_start_with_a_letter_or_digit(name: str, value: str) -> None:
    assert error_fields(with_fields("post_metrics", **{name: value})) == {name}


@pytest.mark.parametrize("value", ["-s-_Mh1QhMc", "_abcdefghij"])
def test_a_post_id_may_start_with_a_dash_or_underscore_as_youtube_ids_do(value: str) -> None:
    event = parse_event(with_fields("post_metrics", post_id=value))
    assert isinstance(event, PostMetrics)
    assert event.post_id == value


def test_errors_carry_the_item_index() -> None:
    found = errors(with_fields("post_metrics", views=-1, likes="many"), index=17)
    assert {(e.index, e.field) for e in found} == {(17, "views"), (17, "likes")}


@settings(max_examples=150, deadline=None)
@given(raw_events)
def test_a_valid_event_round_trips_through_json(raw: dict[str, Any]) -> None:
    event = parsed(raw)
    again = parsed(event.model_dump(mode="json"))
    assert again == event
    assert type(again) is type(event)


@settings(max_examples=50, deadline=None)
@given(raw_post_metrics(), st.sampled_from(sorted(REQUIRED["post_metrics"])))
def test_any_snapshot_missing_a_field_names_it(raw: dict[str, Any], name: str) -> None:
    del raw[name]
    assert error_fields(raw) == {name}


@settings(max_examples=50, deadline=None)
@given(st.one_of(raw_conversions(), raw_spends()), st.text(min_size=1, max_size=12))
def test_any_extra_field_is_named(raw: dict[str, Any], name: str) -> None:
    assume(name not in raw)
    raw[name] = 1
    assert errors(raw) == [FieldError(index=0, field=name, reason="unknown field")]


@settings(max_examples=100, deadline=None)
@given(amounts)
def test_micros_are_exact(amount: str) -> None:
    assert to_micros(Decimal(amount)) == Decimal(amount) * 1_000_000
