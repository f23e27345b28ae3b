"""Every derived metric, with its denominator in its name.

- engagements = likes + comments + shares + saves
- engagement rate by views = engagements / views (platform-neutral)
- engagement rate by followers = mean over posts of engagements / followers (what platforms show)
- CPE = spend / engagements; CPM = 1000 * spend / views; click-through rate = clicks / views
- CAC = spend / new customers; ROAS = revenue / spend

A ratio whose denominator is zero is ``None``: unknown, not zero and not infinite.
"""

from __future__ import annotations

from collections.abc import Iterable


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def engagement_rate_by_views(engagements: int, views: int) -> float | None:
    return ratio(engagements, views)


def engagement_rate_by_followers(post_rates: Iterable[float | None]) -> float | None:
    known = [r for r in post_rates if r is not None]
    return sum(known) / len(known) if known else None


def cpe(spend: float, engagements: int) -> float | None:
    return ratio(spend, engagements)


def cpm(spend: float, views: int) -> float | None:
    return ratio(1000 * spend, views)


def click_through_rate(clicks: int, views: int) -> float | None:
    return ratio(clicks, views)


def cac(spend: float, new_customers: int) -> float | None:
    return ratio(spend, new_customers)


def paid_cac(spend: float, new_customers: int) -> float | None:
    """CAC over a span with spend: ``None``, not 0, where nothing was spent in it (fees are paid
    at posting, customers come later, so a span of customers alone is not free customers)."""
    return cac(spend, new_customers) if spend else None


def roas(revenue: float, spend: float) -> float | None:
    return ratio(revenue, spend)
