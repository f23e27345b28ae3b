"""Inline SVG charts for the weekly review: no scripts, no external resources, printable.

Every chart is a ``<figure>`` holding one ``<svg>`` with a ``data-chart`` name (the browser test
looks for them) and a ``<title>`` for screen readers. A missing value is a gap, never a zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

WIDTH = 640
LINE_WIDTH = 400
ROW = 26
LABEL = 150
PAD = 12
INK = "#1f2937"
ACCENT = "#2563eb"
SECOND = "#059669"
GRID = "#e5e7eb"

Format = Callable[[float], str]


def _svg(name: str, title: str, height: int, body: str, width: int = WIDTH) -> str:
    return (
        f'<svg data-chart="{name}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width * 1.5:.0f}px">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def line_chart(
    name: str, title: str, labels: Sequence[str], values: Sequence[float | None], fmt: Format
) -> str:
    """Values over the labels, drawn as line segments with a dot per value; ``None`` breaks the
    line and shows "no figure" above its label."""
    width, height, top, bottom, side = LINE_WIDTH, 180, 20, 30, 38
    known = [v for v in values if v is not None]
    high = max(known) * 1.15 if known and max(known) > 0 else 1.0
    step = (width - 2 * side) / max(len(values) - 1, 1)

    def x(index: int) -> float:
        return side + index * step

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - value / high)

    parts = [
        f'<line x1="{side}" y1="{y(0):.1f}" x2="{width - side}" y2="{y(0):.1f}" stroke="{GRID}"/>'
    ]
    run: list[str] = []
    for index, value in enumerate([*values, None]):
        if value is None:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{ACCENT}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
            run = []
            continue
        run.append(f"{x(index):.1f},{y(value):.1f}")
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        parts.append(_text(x(index), height - bottom + 18, label, "middle", 10))
        if value is None:
            parts.append(_text(x(index), y(0) - 6, "no figure", "middle", 10))
            continue
        parts.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="4" fill="{ACCENT}"/>')
        parts.append(_text(x(index), y(value) - 8, fmt(value), "middle", 11))
    return _svg(name, title, height, "".join(parts), width)


def paired_bars(
    name: str,
    title: str,
    rows: Sequence[tuple[str, float, float]],
    legends: tuple[str, str],
    fmts: tuple[Format, Format],
) -> str:
    """Two bars per row (e.g. spend and new customers of a creator), each on its own scale."""
    height = 30 + len(rows) * 2 * ROW
    span = WIDTH - LABEL - PAD - 90
    highs = (
        max((row[1] for row in rows), default=0.0) or 1.0,
        max((row[2] for row in rows), default=0.0) or 1.0,
    )
    parts = [
        f'<rect x="{LABEL}" y="4" width="10" height="10" fill="{ACCENT}"/>',
        _text(LABEL + 14, 13, legends[0], size=11),
        f'<rect x="{LABEL + 160}" y="4" width="10" height="10" fill="{SECOND}"/>',
        _text(LABEL + 174, 13, legends[1], size=11),
    ]
    for index, (label, first, second) in enumerate(rows):
        top = 24 + index * 2 * ROW
        parts.append(_text(LABEL - 8, top + ROW, label[:22], "end"))
        for offset, (value, colour, high, fmt) in enumerate(
            ((first, ACCENT, highs[0], fmts[0]), (second, SECOND, highs[1], fmts[1]))
        ):
            bar = span * max(value, 0.0) / high
            y = top + offset * (ROW - 6) + 4
            parts.append(
                f'<rect x="{LABEL}" y="{y}" width="{bar:.1f}" height="{ROW - 10}" fill="{colour}"/>'
            )
            parts.append(_text(LABEL + bar + 6, y + ROW - 13, fmt(value), size=11))
    return _svg(name, title, height, "".join(parts))


def funnel_chart(name: str, title: str, steps: Sequence[tuple[str, int, float | None]]) -> str:
    """One bar per step, widths on a log scale (views outnumber conversions by thousands), with
    the count and the rate from the step before."""
    height = 10 + len(steps) * (ROW + 8)
    span = WIDTH - LABEL - PAD - 150
    high = math.log10(max((count for _, count, _ in steps), default=1) + 1) or 1.0
    parts = []
    for index, (label, count, rate) in enumerate(steps):
        y = 6 + index * (ROW + 8)
        bar = max(span * math.log10(count + 1) / high, 2.0)
        parts.append(_text(LABEL - 8, y + ROW - 8, label, "end"))
        parts.append(
            f'<rect x="{LABEL}" y="{y}" width="{bar:.1f}" height="{ROW}" fill="{ACCENT}" '
            f'opacity="{1 - index * 0.15:.2f}"/>'
        )
        note = f"{count:,}" + (f"  ({rate:.2%} of previous)" if rate is not None else "")
        parts.append(_text(LABEL + bar + 6, y + ROW - 8, note, size=11))
    return _svg(name, title, height, "".join(parts))
