"""Weekly reviews of a campaign and of the whole portfolio, as JSON, HTML or PDF.

Every format is rendered from the same ``WeeklyReport`` (``services.domain.weekly``); the PDF is
the HTML printed by headless Chromium.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool

from services.api.deps import CampaignsReader, Reviews
from services.domain.weekly_model import PortfolioReport, WeeklyReport
from services.domain.weeks import IsoWeek
from services.reporting.formats import MEDIA_TYPES, ReportFormat, render
from services.reporting.pdf import PdfError
from services.service_layer.reports import campaign_review, portfolio_review

router = APIRouter(tags=["reports"])


def _week(text: str) -> str:
    IsoWeek.parse(text)
    return text


WeekQuery = Annotated[
    str,
    Query(
        pattern=r"^\d{4}-W\d{2}$",
        description="ISO week, e.g. 2026-W48 (weeks of UTC days).",
        examples=["2026-W48"],
    ),
    AfterValidator(_week),
]
FormatQuery = Annotated[ReportFormat, Query(alias="format", description="json, html or pdf.")]

_RENDERED: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The review in the format asked for.",
    },
    status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "the PDF could not be printed"},
}


async def _answer(report: WeeklyReport | PortfolioReport, fmt: ReportFormat) -> Response:
    try:
        body = await run_in_threadpool(render, report, fmt)
    except PdfError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    return Response(body, media_type=MEDIA_TYPES[fmt])


@router.get(
    "/v1/campaigns/{campaign_id}/reports/weekly",
    response_model=WeeklyReport,
    responses={
        **_RENDERED,
        status.HTTP_404_NOT_FOUND: {"description": "no such campaign"},
    },
)
async def campaign_weekly_review(
    campaign_id: str,
    week: WeekQuery,
    _: CampaignsReader,
    reviews: Reviews,
    fmt: FormatQuery = "json",
) -> Response:
    """The campaign's weekly review: the one-page summary and the diagnostic part."""
    report = await run_in_threadpool(campaign_review, reviews, campaign_id, IsoWeek.parse(week))
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"campaign '{campaign_id}' not found")
    return await _answer(report, fmt)


@router.get("/v1/reports/weekly", response_model=PortfolioReport, responses=_RENDERED)
async def portfolio_weekly_review(
    week: WeekQuery, _: CampaignsReader, reviews: Reviews, fmt: FormatQuery = "json"
) -> Response:
    """Every campaign with figures that week, worst first (status, then CAC against target)."""
    report = await run_in_threadpool(portfolio_review, reviews, IsoWeek.parse(week))
    return await _answer(report, fmt)
