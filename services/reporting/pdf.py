"""The weekly review as PDF: its HTML printed by Debian's headless Chromium.

The page is written to a private temporary directory and printed from there with a throw-away
profile; it has no script and no URL, and the browser is told not to reach the network, so
printing touches nothing outside that directory.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

PRINT_SECONDS = 60
# A print takes a CPU second or two: at most this many at once, whoever asks.
_PRINTING = threading.BoundedSemaphore(2)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)


class PdfError(RuntimeError):
    """Chromium is missing or did not print the page."""


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@lru_cache(maxsize=16)
def html_to_pdf(html: str) -> bytes:
    """The page printed to PDF; the same page asked for again (a review opened twice in a
    meeting) is not printed again."""
    chromium = chromium_binary()
    if chromium is None:
        raise PdfError("no chromium on PATH: install Debian's chromium package to print PDFs")
    with _PRINTING:
        return _print(chromium, html)


def _print(chromium: str, html: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="pulse-report-") as folder:
        root = Path(folder)
        page, pdf = root / "review.html", root / "review.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            chromium,
            *FLAGS,
            f"--user-data-dir={root / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=PRINT_SECONDS, check=True)
        except subprocess.TimeoutExpired:
            raise PdfError(f"chromium did not print within {PRINT_SECONDS} s") from None
        except subprocess.CalledProcessError as exc:
            raise PdfError(f"chromium failed (exit {exc.returncode})") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            raise PdfError("chromium wrote no PDF")
        return pdf.read_bytes()
