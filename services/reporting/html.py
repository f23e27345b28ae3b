"""The weekly review as one self-contained HTML page: inline CSS and SVG, no script, no URL.

The PDF is this page printed by headless Chromium (``pdf.py``), so the two always agree.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.domain.weekly_model import PortfolioReport, WeeklyReport
from services.reporting.charts import funnel_chart, line_chart, paired_bars

_ENVIRONMENT = Environment(
    loader=PackageLoader("services.reporting", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def money(amount: float | None, currency: str | None = None) -> str:
    if amount is None:
        return "—"
    return f"{currency} {amount:,.2f}" if currency else f"{amount:,.2f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def signed_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0%}"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


_ENVIRONMENT.filters.update(
    money=money, percent=percent, signed_percent=signed_percent, ratio=ratio
)

CREATORS_CHARTED = 12


def charts(report: WeeklyReport) -> dict[str, Markup]:
    weeks = [point.week for point in report.history]
    currency = report.currency
    creators = report.creators[:CREATORS_CHARTED]
    svg = {
        "cac": line_chart(
            "weekly-cac",
            "CAC by week",
            weeks,
            [point.cac for point in report.history],
            lambda v: money(v, currency),
        ),
        "engagement": line_chart(
            "weekly-engagement-rate",
            "Engagement rate by views, by week",
            weeks,
            [point.engagement_rate_by_views for point in report.history],
            percent,
        ),
        "creators": paired_bars(
            "creator-spend-customers",
            "Spend and new customers by creator",
            [(c.creator_id, c.spend, float(c.new_customers)) for c in creators],
            ("spend", "new customers"),
            (lambda v: money(v, currency), lambda v: f"{v:,.0f}"),
        ),
        "funnel": funnel_chart(
            "funnel",
            "Funnel: views, engagements, clicks, conversions",
            [(s.step, s.count, s.rate_from_previous) for s in report.funnel],
        ),
    }
    # The SVG is built from escaped text only (charts.py), so it is marked safe as it is.
    return {name: Markup(body) for name, body in svg.items()}


def render_html(report: WeeklyReport) -> str:
    template = _ENVIRONMENT.get_template("weekly.html.j2")
    return template.render(report=report, charts=charts(report))


def render_portfolio_html(report: PortfolioReport) -> str:
    template = _ENVIRONMENT.get_template("portfolio.html.j2")
    return template.render(report=report)
