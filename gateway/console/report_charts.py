"""The Reports page's charts as inline SVG: answers on time / late / without a deadline per unit
(stacked bars), and the open backlog by age (columns, the overdue part in red).

Pure (the report's rows in, markup out), like ``gateway.console.charts``: colours come from the
stylesheet (``.seg-*``), text is escaped, nothing is fetched, and the page reads without JS.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gateway.console.charts import nice_step
from gateway.console.i18n import Translator
from gateway.reports.model import BacklogRow, TimelinessRow

ROW_HEIGHT, BAR_HEIGHT = 26, 16
VALUE_WIDTH = 56
CHAR_WIDTH = 8.5  # of a 12 px bold capital in DejaVu Sans: wide enough for the longest code
SEGMENTS = (("on_time", "seg-ok"), ("late", "seg-late"), ("no_deadline", "seg-none"))


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg class="chart report-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def _empty(parts: list[str], width: int, height: int, text: str) -> str:
    x, y = width / 2, height / 2
    parts.append(f'<text class="empty" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeliness_chart(rows: Sequence[TimelinessRow], t: Translator, *, width: int = 640) -> str:
    """One bar per unit that answered anything in the period, its three parts side by side."""
    shown = [r for r in rows if r.answered]
    height = max(ROW_HEIGHT * len(shown) + 24, 80)
    parts = _open(width, height, t("reports.chart_timeliness"))
    if not shown:
        return _empty(parts, width, height, t("reports.none_answered"))
    most = max(r.answered for r in shown)
    label_width = min(200, int(max(len(r.code or "") for r in shown) * CHAR_WIDTH) + 12)
    plot = width - label_width - VALUE_WIDTH
    for i, row in enumerate(shown):
        y = 6 + i * ROW_HEIGHT
        parts.append(
            f'<text class="tick bar-name" x="{label_width - 8}" y="{y + BAR_HEIGHT - 3}" text-anchor="end">'
            f"{escape(row.code or '')}<title>{escape(row.name)}</title></text>"
        )
        x = float(label_width)
        for attribute, css in SEGMENTS:
            count = getattr(row, attribute)
            if not count:
                continue
            w = count / most * plot
            label = f"{row.code} · {t('reports.' + attribute)}: {count}"
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" rx="2">'
                f"<title>{escape(label)}</title></rect>"
            )
            x += w
        parts.append(
            f'<text class="tick bar-total" x="{x + 6:.1f}" y="{y + BAR_HEIGHT - 3}">{row.answered}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def backlog_chart(rows: Sequence[BacklogRow], t: Translator, *, width: int = 640, height: int = 220) -> str:
    """A column per age bracket (working days since receipt), the overdue cases at its foot."""
    parts = _open(width, height, t("reports.chart_backlog"))
    if not any(r.count for r in rows):
        return _empty(parts, width, height, t("reports.no_backlog"))
    left, bottom, top_margin = 44, 34, 12
    plot_w, plot_h = width - left - 12, height - bottom - top_margin
    step = nice_step(max(r.count for r in rows))
    top = step * max(1, -(-max(r.count for r in rows) // step))
    for k in range(int(top // step) + 1):
        y = top_margin + plot_h - k * step / top * plot_h
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{k * step:,.0f}</text>'
        )
    slot = plot_w / len(rows)
    for i, row in enumerate(rows):
        x = left + i * slot + slot * 0.18
        w = slot * 0.64
        base = float(top_margin + plot_h)
        for count, css, what in (
            (row.overdue, "seg-late", t("reports.overdue")),
            (row.count - row.overdue, "seg-open", t("reports.not_overdue")),
        ):
            if not count:
                continue
            h = count / top * plot_h
            base -= h
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{base:.1f}" width="{w:.1f}" height="{h:.1f}" rx="2">'
                f"<title>{escape(f'{row.label}: {what} {count}')}</title></rect>"
            )
        middle = x + w / 2
        parts.append(
            f'<text class="tick" x="{middle:.1f}" y="{base - 4:.1f}" text-anchor="middle">{row.count}</text>'
            f'<text class="tick" x="{middle:.1f}" y="{height - 14}" text-anchor="middle">'
            f"{escape(age_label(row, t))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def age_label(row: BacklogRow, t: Translator) -> str:
    if row.high is None:
        return t("reports.age_over", days=row.low - 1)
    return t("reports.age_range", low=row.low, high=row.high)
