"""`pulse report`: a campaign's weekly review, or the portfolio's, written to a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import cast

from services.domain.weekly_model import PortfolioReport, WeeklyReport
from services.domain.weeks import IsoWeek
from services.reporting.formats import MEDIA_TYPES, ReportFormat, render
from services.reporting.pdf import PdfError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--campaign", help="the campaign (default: every campaign, worst first)")
    parser.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    parser.add_argument("--format", choices=tuple(MEDIA_TYPES), default="html")
    parser.add_argument("--out", required=True, help="the file to write")


def main_from_args(args: argparse.Namespace) -> int:
    from services.service_layer.reports import ReviewSources, campaign_review, portfolio_review
    from services.settings import SharedSettings
    from services.storage.db import make_engine, migrate

    try:
        week = IsoWeek.parse(args.week)
    except ValueError as exc:
        print(f"pulse report: --week: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(SharedSettings().database_url)
    try:
        migrate(engine)
        sources = ReviewSources.on(engine)
        report: WeeklyReport | PortfolioReport | None = (
            campaign_review(sources, args.campaign, week)
            if args.campaign
            else portfolio_review(sources, week)
        )
    finally:
        engine.dispose()
    if report is None:
        print(f"pulse report: campaign '{args.campaign}' not found", file=sys.stderr)
        return 1
    try:
        body = render(report, cast(ReportFormat, args.format))
    except PdfError as exc:
        print(f"pulse report: {exc}", file=sys.stderr)
        return 1
    Path(args.out).write_bytes(body)
    print(f"wrote {args.out} ({len(body)} bytes)")
    return 0
