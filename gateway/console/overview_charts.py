"""The Overview's two charts from the sampler's ring: traffic with the portal, messages waiting.

Pure (samples in, SVG and legend out), so the choices — per-minute rates between samples, the
total plus the busiest queues — are unit-tested without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from gateway.console.charts import PALETTE_SIZE, Series, legend, line_chart
from gateway.console.i18n import Translator
from gateway.console.samples import Sample

WINDOWS = ((15, "15 min"), (60, "1 h"), (360, "6 h"))
DEFAULT_WINDOW = 60


@dataclass(frozen=True)
class OverviewCharts:
    throughput: str
    throughput_legend: list[tuple[str, str]]
    depth: str
    depth_legend: list[tuple[str, str]]


def window_minutes(asked: int | None) -> int:
    allowed = [m for m, _ in WINDOWS]
    return asked if asked in allowed else DEFAULT_WINDOW


def per_minute(samples: Sequence[Sample], count: str) -> list[tuple[float, float]]:
    """(time, count per minute since the previous sample) for each sample after the first."""
    points = []
    for before, after in pairwise(samples):
        minutes = (after.at - before.at).total_seconds() / 60
        if minutes > 0:
            points.append((after.at.timestamp(), getattr(after, count) / minutes))
    return points


def depth_series(samples: Sequence[Sample], total_name: str) -> list[Series]:
    """All unit queues together, then the busiest ones (those that held anything), at most the palette."""
    seen = [s for s in samples if s.broker_ok]
    totals = [(s.at.timestamp(), float(sum(q.messages for q in s.queues.values() if q))) for s in seen]
    peaks: dict[str, int] = {}
    for sample in seen:
        for code, figure in sample.queues.items():
            if figure is not None:
                peaks[code] = max(peaks.get(code, 0), figure.messages)
    busiest = sorted((c for c, peak in peaks.items() if peak > 0), key=lambda c: (-peaks[c], c))
    series = [Series(total_name, totals)]
    for code in busiest[: PALETTE_SIZE - 1]:
        points = [
            (s.at.timestamp(), float(figure.messages))
            for s in seen
            if (figure := s.queues.get(code)) is not None
        ]
        series.append(Series(code, points))
    return series


def overview_charts(
    samples: Sequence[Sample], now: datetime, minutes: int, t: Translator, interval: float
) -> OverviewCharts:
    start = (now - timedelta(minutes=minutes)).timestamp()
    end = now.timestamp()
    empty = t("overview.chart_empty", seconds=int(interval))
    traffic = [
        Series(t("overview.throughput_in"), per_minute(samples, "from_portal")),
        Series(t("overview.throughput_out"), per_minute(samples, "to_portal")),
    ]
    depth = depth_series(samples, t("common.all"))
    return OverviewCharts(
        throughput=line_chart(
            traffic, start=start, end=end, title=t("overview.throughput"), empty_text=empty
        ),
        throughput_legend=legend(traffic),
        depth=line_chart(depth, start=start, end=end, title=t("overview.depth_chart"), empty_text=empty),
        depth_legend=legend(depth),
    )
