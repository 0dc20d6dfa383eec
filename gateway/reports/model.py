"""The report and its arithmetic over the store's counts (pure: no I/O).

- *Received*: cases by `received_at` in the period, counted by each dimension; every known code
  has its row (zeros included: a unit that received nothing is a finding), then "Không xác định"
  for what the petition did not say or the configuration does not know.
- *Answered*: cases whose first answer falls in the period; *on time* when answered at or before
  the due date, *late* after it, *no deadline* when the case has none.
- *Handling time*: working days from the receipt day (WorkingCalendar.receipt_day of the
  acceptance, 03) to the day of the answer, not counting the receipt day (the calendar's rule);
  an answer the same day, or before the receipt day of a case accepted after hours, is 0. The
  store counts them (connectors.db.report_queries, on the calendar table) and hands over a
  histogram; mean, median and p90 (nearest rank) are computed from it exactly.
- *Backlog*: cases open at the report's instant (the period's end, or now if that is later),
  by age in working days since their receipt day; overdue when past their due date then.
- *Satisfaction*: feedback given in the period, by the answering unit and by the case's field;
  satisfied = a rating of 4 or 5.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.report_data import (
    BacklogGroup,
    Dimension,
    GroupCount,
    HandlingGroup,
    Movements,
    RatingGroup,
    Timeliness,
)
from gateway.reports.errors import ReportUnavailable
from gateway.reports.period import Period
from gateway.reports.stats import histogram_mean, histogram_median, histogram_nearest_rank

UNKNOWN = "Không xác định"
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 5), (6, 10), (11, 15), (16, 30), (31, None))


@dataclass(frozen=True)
class CountRow:
    code: str | None  # None: unknown
    name: str
    count: int


@dataclass(frozen=True)
class TimelinessRow:
    code: str | None  # None: every unit together
    name: str
    answered: int
    on_time: int
    late: int
    no_deadline: int
    mean_days: float | None
    median_days: float | None
    p90_days: float | None

    @property
    def on_time_share(self) -> float | None:
        """Of the answers that had a due date, the share on time."""
        dated = self.on_time + self.late
        return self.on_time / dated if dated else None


@dataclass(frozen=True)
class BacklogRow:
    low: int
    high: int | None  # None: and more
    count: int
    overdue: int

    @property
    def label(self) -> str:
        if self.high is None:
            return f"Trên {self.low - 1} ngày làm việc"
        return f"{self.low}–{self.high} ngày làm việc"


@dataclass(frozen=True)
class SatisfactionRow:
    code: str | None
    name: str
    feedback: int
    mean_rating: float | None
    satisfied_share: float | None


@dataclass(frozen=True)
class Report:
    period: Period
    as_of: datetime  # the backlog's instant
    generated_at: datetime
    received_total: int
    received: Mapping[Dimension, tuple[CountRow, ...]]
    answered: tuple[TimelinessRow, ...]  # by unit
    answered_total: TimelinessRow
    backlog: tuple[BacklogRow, ...]
    movements: Movements
    satisfaction_by_unit: tuple[SatisfactionRow, ...]
    satisfaction_by_field: tuple[SatisfactionRow, ...]
    satisfaction_total: SatisfactionRow  # every rating of the period together

    @property
    def backlog_total(self) -> int:
        return sum(row.count for row in self.backlog)

    @property
    def backlog_overdue(self) -> int:
        return sum(row.overdue for row in self.backlog)


def count_rows(
    groups: Iterable[GroupCount],
    names: Mapping[str, str],
    to_code: Callable[[str | None], str | None] = lambda c: c,
) -> tuple[CountRow, ...]:
    """One row per known code (in `names`' order, zeros kept), then the unknown ones together."""
    counts: dict[str | None, int] = defaultdict(int)
    for group in groups:
        code = to_code(group.key)
        counts[code if code in names else None] += group.count
    rows = [CountRow(code, name, counts.get(code, 0)) for code, name in names.items()]
    if counts.get(None):
        rows.append(CountRow(None, UNKNOWN, counts[None]))
    return tuple(rows)


def timeliness(
    groups: Sequence[HandlingGroup], unit_names: Mapping[str, str]
) -> tuple[tuple[TimelinessRow, ...], TimelinessRow]:
    by_unit: dict[str, list[HandlingGroup]] = defaultdict(list)
    for group in groups:
        by_unit[group.unit_code].append(group)
    codes = [*unit_names, *sorted(set(by_unit) - set(unit_names))]  # a unit since removed: kept
    rows = tuple(_timeliness_row(c, unit_names.get(c, c), by_unit.get(c, [])) for c in codes)
    return rows, _timeliness_row(None, "Toàn Bộ", groups)


def _timeliness_row(code: str | None, name: str, groups: Sequence[HandlingGroup]) -> TimelinessRow:
    days: dict[int, int] = defaultdict(int)
    by_timeliness: dict[Timeliness, int] = defaultdict(int)
    for group in groups:
        days[_known(group.days)] += group.count
        by_timeliness[group.timeliness] += group.count
    return TimelinessRow(
        code=code,
        name=name,
        answered=sum(by_timeliness.values()),
        on_time=by_timeliness[Timeliness.ON_TIME],
        late=by_timeliness[Timeliness.LATE],
        no_deadline=by_timeliness[Timeliness.NO_DEADLINE],
        mean_days=histogram_mean(days),
        median_days=histogram_median(days),
        p90_days=histogram_nearest_rank(days, 90),
    )


def backlog(groups: Iterable[BacklogGroup]) -> tuple[BacklogRow, ...]:
    counts = [[0, 0] for _ in AGE_BUCKETS]
    for group in groups:
        age = _known(group.age_days)
        index = next(i for i, (_, high) in enumerate(AGE_BUCKETS) if high is None or age <= high)
        counts[index][0] += group.count
        counts[index][1] += group.count if group.overdue else 0
    return tuple(
        BacklogRow(low, high, n, late) for (low, high), (n, late) in zip(AGE_BUCKETS, counts, strict=True)
    )


def satisfaction(groups: Iterable[RatingGroup], names: Mapping[str, str]) -> tuple[SatisfactionRow, ...]:
    """One row per known code, then the unknown ones together (no field; an answer not found)."""
    merged: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    for group in groups:
        key = group.key if group.key in names else None
        for i, value in enumerate((group.feedback, group.rating_sum, group.satisfied)):
            merged[key][i] += value
    rows = [_satisfaction_row(code, name, merged.get(code, [0, 0, 0])) for code, name in names.items()]
    if None in merged:
        rows.append(_satisfaction_row(None, UNKNOWN, merged[None]))
    return tuple(rows)


def satisfaction_total(groups: Iterable[RatingGroup]) -> SatisfactionRow:
    sums = [0, 0, 0]
    for group in groups:
        for i, value in enumerate((group.feedback, group.rating_sum, group.satisfied)):
            sums[i] += value
    return _satisfaction_row(None, "Toàn Bộ", sums)


def _satisfaction_row(code: str | None, name: str, sums: Sequence[int]) -> SatisfactionRow:
    feedback, total, satisfied = sums
    if not feedback:
        return SatisfactionRow(code, name, 0, None, None)
    return SatisfactionRow(code, name, feedback, total / feedback, satisfied / feedback)


def _known(days: int | None) -> int:
    """A count of working days, or the report is unavailable: a case dated outside the calendar's
    years has no count, and leaving it out would make every figure quietly wrong."""
    if days is None:
        raise ReportUnavailable(
            "Không tính được ngày làm việc: có hồ sơ ngoài các năm của lịch làm việc "
            "(xem config/calendar.yaml, mục years).",
            "Working days cannot be counted: a case falls outside the working-day calendar's years "
            "(see config/calendar.yaml, years).",
        )
    return days
