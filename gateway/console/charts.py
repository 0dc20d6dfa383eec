"""Line charts as inline SVG, drawn here: no chart library, nothing fetched, readable without JS.

Pure: numbers in, markup out. Colours come from the stylesheet (``.series-N``) so every chart of
the console uses the same palette; text is escaped; the time axis is labelled in Vietnam time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from html import escape

VIETNAM = timezone(timedelta(hours=7), "ICT")
PALETTE_SIZE = 8
TIME_STEPS_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 10, 24


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (unix seconds, value), in time order


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 × 10^k) that cuts ``span`` into about ``ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def y_ticks(top: float) -> list[float]:
    """Gridline values from 0 to at least ``top`` (0..1 when everything is 0: an empty chart still reads)."""
    step = nice_step(max(top, 1.0))
    count = max(1, math.ceil(max(top, 1.0) / step))
    return [step * i for i in range(count + 1)]


def time_ticks(start: float, end: float, most: int = 6) -> list[float]:
    """Round times (every 1, 2, 5, 10… minutes, on the minute) between ``start`` and ``end``."""
    span = max(end - start, 60.0)
    step = next((m * 60 for m in TIME_STEPS_MINUTES if span / (m * 60) <= most), TIME_STEPS_MINUTES[-1] * 60)
    first = math.ceil(start / step) * step
    ticks: list[float] = []
    moment = float(first)
    while moment <= end:
        ticks.append(moment)
        moment += step
    return ticks


def _label(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".") if value >= 1 or value == 0 else f"{value:.1f}"


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).astimezone(VIETNAM).strftime("%H:%M")


def line_chart(
    series: Sequence[Series],
    *,
    start: float,
    end: float,
    width: int = 640,
    height: int = 200,
    title: str = "",
    empty_text: str = "",
) -> str:
    """An SVG line chart of ``series`` over [start, end] (unix seconds); ``empty_text`` when no point."""
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    span = max(end - start, 1.0)
    values = [v for s in series for _, v in s.points]
    ticks = y_ticks(max(values, default=0.0))
    top = ticks[-1] or 1.0

    def x(moment: float) -> float:
        return MARGIN_LEFT + (moment - start) / span * plot_w

    def y(value: float) -> float:
        return MARGIN_TOP + plot_h - value / top * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for value in ticks:
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" '
            f'y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{_label(value)}</text>"
        )
    for moment in time_ticks(start, end):
        parts.append(
            f'<text class="tick" x="{x(moment):.1f}" y="{height - 6}" text-anchor="middle">'
            f"{_clock(moment)}</text>"
        )
    if not values:
        parts.append(
            f'<text class="empty" x="{MARGIN_LEFT + plot_w / 2:.1f}" y="{MARGIN_TOP + plot_h / 2:.1f}" '
            f'text-anchor="middle">{escape(empty_text)}</text>'
        )
    for index, one in enumerate(series):
        if not one.points:
            continue
        css = f"series-{index % PALETTE_SIZE}"
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in one.points)
        parts.append(
            f'<polyline class="line {css}" points="{path}"><title>{escape(one.name)}</title></polyline>'
        )
        if len(one.points) == 1:  # a single sample is a dot, or it would not show at all
            t, v = one.points[0]
            parts.append(f'<circle class="dot {css}" cx="{x(t):.1f}" cy="{y(v):.1f}" r="3"/>')
    parts.append("</svg>")
    return "".join(parts)


def legend(series: Sequence[Series]) -> list[tuple[str, str]]:
    """(css class, name) per series, for the HTML legend under a chart."""
    return [(f"series-{i % PALETTE_SIZE}", s.name) for i, s in enumerate(series)]
