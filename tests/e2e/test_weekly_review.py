"""The weekly review's HTML in real headless Chromium, and its PDF printed by it, read back as
images by pdftoppm."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.domain.counters import Counters
from services.domain.rollups import DailyRollup, PostFigures
from services.domain.weekly import ReviewInputs, weekly_report
from services.domain.weekly_model import WeeklyReport
from services.domain.weeks import IsoWeek
from services.reporting.formats import render
from tests.e2e.chromium import Chromium, chromium_binary

pytestmark = pytest.mark.e2e

WEEK = IsoWeek.parse("2026-W48")
CHARTS = ["weekly-cac", "weekly-engagement-rate", "funnel", "creator-spend-customers"]


def _report() -> WeeklyReport:
    """Five weeks of three creators, one week without spend (a gap in the CAC line)."""
    rollups = []
    for back in range(35):
        day: date = WEEK.last_day - timedelta(days=back)
        for rank, creator in enumerate(("ana", "bo", "cy"), start=1):
            paid = back % 7 == 0 and back != 14
            rollups.append(
                DailyRollup(
                    "spring",
                    creator,
                    day,
                    Counters(
                        views=5_000 * rank,
                        likes=300 * rank,
                        comments=20,
                        clicks=60 * rank,
                        spend_micros=80_000_000 * rank if paid else 0,
                        conversions=rank + 1,
                        new_customers=rank,
                        revenue_micros=45_000_000 * rank,
                    ),
                )
            )
    posted = WEEK.start() + timedelta(days=1)
    posts = [
        PostFigures(
            "spring",
            creator,
            f"{creator}-{n}",
            posted,
            WEEK.end(),
            Counters(views=v, likes=v // (n + 8)),
        )
        for n, (creator, v) in enumerate(
            (("ana", 9_000), ("bo", 4_000), ("cy", 12_000), ("ana", 700))
        )
    ]
    return weekly_report(
        ReviewInputs(
            "spring", WEEK, rollups, posts=posts, currency="EUR", target_cac=20.0, status="watch"
        )
    )


def _ink(png: Path) -> int:
    """How many pixels of the page are not white (PPM from pdftoppm: header, then RGB bytes)."""
    data = png.read_bytes()
    header_end = 0
    for _ in range(3):
        header_end = data.index(b"\n", header_end) + 1
    pixels = data[header_end:]
    return sum(1 for i in range(0, len(pixels), 3) if pixels[i : i + 3] != b"\xff\xff\xff")


def test_the_pdf_has_pages_with_ink(tmp_path: Path) -> None:
    assert shutil.which("pdftoppm"), "pdftoppm is not installed: run `make system-packages`"
    pdf = tmp_path / "review.pdf"
    pdf.write_bytes(render(_report(), "pdf"))

    subprocess.run(
        ["pdftoppm", "-r", "30", str(pdf), str(tmp_path / "page")], check=True, timeout=60
    )

    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = sorted(tmp_path.glob("page-*.ppm"))
    assert len(pages) >= 2  # the one-page summary, then the diagnostic part
    assert all(_ink(page) > 500 for page in pages)


def test_the_html_opens_without_errors_and_shows_its_charts(tmp_path: Path) -> None:
    binary = chromium_binary()
    assert binary, "chromium is not installed: run `make system-packages`"
    page = tmp_path / "review.html"
    page.write_bytes(render(_report(), "html"))

    with Chromium(binary, tmp_path / "chromium") as browser:
        browser.watch_console()
        browser.open(page.as_uri(), 1000, 1400)
        drawn = browser.evaluate(
            "[...document.querySelectorAll('svg[data-chart]')]"
            ".filter((svg) => svg.getBoundingClientRect().width > 100)"
            ".map((svg) => svg.dataset.chart)"
        )
        gap = browser.evaluate(
            "document.querySelector('svg[data-chart=\"weekly-cac\"]').textContent"
        )
        errors = browser.console_errors()
        best_posts = browser.evaluate("document.querySelectorAll('#posts tbody tr').length")

    assert drawn == CHARTS
    assert "no figure" in gap
    assert errors == []
    assert best_posts == 4  # three best, then the one left for the worst
