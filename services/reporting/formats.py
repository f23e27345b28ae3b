"""One review, three formats: what the API, the CLI and the notifier hand out."""

from __future__ import annotations

from typing import Literal

from services.domain.weekly_model import PortfolioReport, WeeklyReport
from services.reporting.html import render_html, render_portfolio_html
from services.reporting.pdf import html_to_pdf

ReportFormat = Literal["json", "html", "pdf"]
MEDIA_TYPES: dict[ReportFormat, str] = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def render(report: WeeklyReport | PortfolioReport, fmt: ReportFormat) -> bytes:
    """The report as JSON, HTML or PDF (printed from that HTML); PDF raises ``PdfError`` when
    Chromium cannot print it."""
    if fmt == "json":
        return report.model_dump_json(indent=2).encode()
    html = (
        render_html(report) if isinstance(report, WeeklyReport) else render_portfolio_html(report)
    )
    return html.encode() if fmt == "html" else html_to_pdf(html)
