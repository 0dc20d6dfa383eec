"""The soak's figures: percentiles, slopes, and the closing table. Pure functions over the samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MIB = 1024 * 1024


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0–100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y); None with fewer than 3 points."""
    if len(points) < 3:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def rss_summary(samples: Sequence[dict[str, Any]], key: str, push_seconds: float) -> dict[str, Any]:
    """RSS start / max / end (MiB) and its slope in MiB per minute, over the push phase and over the
    push phase after its first minute (start-up allocations, caches and pools filling, left out)."""
    series = [(s["t"], s[key] / MIB) for s in samples if s.get(key) is not None]
    if not series:
        return {}
    pushing = [(t, v) for t, v in series if t <= push_seconds + 1e-6]
    settled = [(t, v) for t, v in pushing if t >= 60.0]
    per_second = slope(pushing)
    after = slope(settled)
    return {
        "start_mib": round(series[0][1], 1),
        "max_mib": round(max(v for _, v in series), 1),
        "end_mib": round(series[-1][1], 1),
        "slope_mib_per_min": None if per_second is None else round(per_second * 60, 2),
        "slope_after_first_minute_mib_per_min": None if after is None else round(after * 60, 2),
    }


def backlog_slope(samples: Sequence[dict[str, Any]], push_seconds: float) -> float | None:
    """Petitions per minute by which accepted-but-not-answered-at-the-portal grows while pushing
    (after the first 30 s: the pipeline needs a moment to fill). Near zero: the rate is sustained."""
    points = [(s["t"], float(s["backlog"])) for s in samples if 30.0 <= s["t"] <= push_seconds + 1e-6]
    per_second = slope(points)
    return None if per_second is None else round(per_second * 60, 1)


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_table(summary: dict[str, Any]) -> None:
    s = summary
    lat = s["latency_seconds"]
    gw, me = s["gateway_rss"], s["soak_process_rss"]
    rows = [
        ("database", s["db"]),
        ("push phase (s) / drain (s)", f"{s['push_seconds']:.0f} / {fmt(s['drain_seconds'], 1)}"),
        ("target rate / pushed per s", f"{s['target_rate']:.1f} / {s['pushed_per_second']:.2f}"),
        ("sent / accepted / duplicates", f"{s['sent']} / {s['accepted']} / {s['duplicates']}"),
        ("in: accepted per s (push phase)", f"{s['in_per_second']:.2f}"),
        ("out: answers at portal per s (push phase)", f"{s['out_per_second_push_phase']:.2f}"),
        ("out: answers at portal per s (until last)", f"{fmt(s['out_per_second_overall'])}"),
        ("answered at portal / accepted", f"{s['answers_at_portal']} / {s['accepted']}"),
        (
            "unanswered: reply refused / other",
            f"{s['unanswered_refused']} / {s['unanswered_not_refused']}",
        ),
        ("backlog growth while pushing (per min)", fmt(s["backlog_slope_per_min"], 1)),
        ("backlog at end of push / max", f"{s['backlog_end_of_push']} / {s['backlog_max']}"),
        ("push → receipt p50/p95/p99 (s)", _ppp(lat["push_to_receipt"])),
        ("push → 04 at portal p50/p95/p99 (s)", _ppp(lat["push_to_04_at_portal"])),
        ("push → answer at portal p50/p95/p99 (s)", _ppp(lat["push_to_answer_at_portal"])),
        ("push faults / transport errors", f"{s['push_faults']} / {s['push_errors']}"),
        ("portal refusals / order violations", f"{s['portal_refusals']} / {s['order_violations']}"),
        ("national dead letters / unit error msgs", f"{s['national_dead']} / {s['unit_error_messages']}"),
        ("gateway log WARNING / ERROR lines", f"{s['log_levels']['WARNING']} / {s['log_levels']['ERROR']}"),
        ("gateway CPU (% of one core, push phase)", fmt(s["gateway_cpu_percent"], 0)),
        ("soak process CPU (% of one core)", fmt(s["soak_cpu_percent"], 0)),
        ("gateway RSS start/max/end (MiB)", _rss(gw)),
        ("gateway RSS slope (MiB/min): all / after 1st min", _slopes(gw)),
        ("soak process RSS start/max/end (MiB)", _rss(me)),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"{'figure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def _ppp(lat: dict[str, Any]) -> str:
    return f"{fmt(lat['p50'])} / {fmt(lat['p95'])} / {fmt(lat['p99'])}  (n={lat['count']})"


def _rss(rss: dict[str, Any]) -> str:
    if not rss:
        return "—"
    return f"{rss['start_mib']} / {rss['max_mib']} / {rss['end_mib']}"


def _slopes(rss: dict[str, Any]) -> str:
    if not rss:
        return "—"
    return f"{fmt(rss['slope_mib_per_min'])} / {fmt(rss['slope_after_first_minute_mib_per_min'])}"
