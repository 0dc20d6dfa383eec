"""Summary statistics of handling times, written out so a reader can check them by hand.

p90 is the nearest-rank percentile: the smallest value with at least 90 % of the values at or
below it (⌈0.9·n⌉-th of the sorted values), so it is always a value that occurred — a number of
working days a case really took, not an interpolation between two cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: Sequence[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def nearest_rank(values: Sequence[int], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return float(ordered[rank - 1])
