"""Summary statistics of handling times, written out so a reader can check them by hand.

They work on a histogram (value → how many cases took it), which is what the store returns:
handling times are small integers of working days, so a GROUP BY count holds every case exactly
and a million cases cost a few dozen rows.

p90 is the nearest-rank percentile: the smallest value with at least 90 % of the values at or
below it (⌈0.9·n⌉-th of the sorted values), so it is always a value that occurred — a number of
working days a case really took, not an interpolation between two cases. The median of an even
count is the mean of the two middle values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def histogram_mean(counts: Mapping[int, int]) -> float | None:
    n = sum(counts.values())
    return sum(value * k for value, k in counts.items()) / n if n else None


def histogram_median(counts: Mapping[int, int]) -> float | None:
    n = sum(counts.values())
    if not n:
        return None
    if n % 2:
        return float(_nth(counts, n // 2 + 1))
    return (_nth(counts, n // 2) + _nth(counts, n // 2 + 1)) / 2


def histogram_nearest_rank(counts: Mapping[int, int], percent: float) -> float | None:
    n = sum(counts.values())
    if not n:
        return None
    return float(_nth(counts, max(1, math.ceil(percent / 100 * n))))


def _nth(counts: Mapping[int, int], rank: int) -> int:
    """The rank-th smallest value (1-based) of the histogram."""
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise ValueError(f"rank {rank} beyond the histogram's {seen} values")
