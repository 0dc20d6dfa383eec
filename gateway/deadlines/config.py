"""Loads the working-day calendar (the `holidays` package + config/calendar.yaml) and the time limits
per kind (config/deadlines.yaml) into the domain's `DeadlinePolicy`, refusing bad files at start.

A config directory without these files (one written before deadlines existed) gets the packaged
defaults, said in the log: its routing still comes from the operator's own files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

import holidays
import yaml

from gateway.domain.deadlines import DeadlinePolicy, TimeLimit
from gateway.domain.errors import CalendarError
from gateway.domain.petition import Kind
from gateway.domain.text import nfc
from gateway.domain.working_days import WEEKEND, WorkingCalendar
from gateway.routing_config import default_config_dir
from gateway.startup_errors import StartupError

log = logging.getLogger(__name__)

CALENDAR_FILE = "calendar.yaml"
DEADLINES_FILE = "deadlines.yaml"
MAX_LIMIT = 366  # working days; more is a typo, not a deadline


@dataclass(frozen=True)
class Swap:
    day_off: date
    worked_instead: date
    source: str


def load_policy(directory: Path | None = None, *, due_soon_days: int = 2) -> DeadlinePolicy:
    calendar = load_calendar(_file(directory, CALENDAR_FILE))
    limits = load_limits(_file(directory, DEADLINES_FILE))
    unset = [kind.value for kind, limit in limits.items() if limit.working_days is None]
    if unset:
        log.warning(
            "no time limit configured for %s (config/%s): such cases get a due date only from the "
            "portal's DueAt",
            ", ".join(unset),
            DEADLINES_FILE,
        )
    return DeadlinePolicy(calendar, limits, due_soon_days)


def load_calendar(path: Path) -> WorkingCalendar:
    doc = _read(path)
    try:
        first_year, last_year = (int(y) for y in doc.get("years", [2015, 2060]))
        office_close = time.fromisoformat(str(doc.get("office_close", "17:00")))
        swaps = [_swap(s) for s in doc.get("swaps") or []]
        extra_off = {
            _date(d, "days_off"): nfc(str(d.get("name") or "Ngày nghỉ")) for d in doc.get("days_off") or []
        }
        extra_worked = {_date(d, "working_days") for d in doc.get("working_days") or []}
        for entry in [*(doc.get("days_off") or []), *(doc.get("working_days") or [])]:
            _source(entry)
    except (TypeError, ValueError, KeyError) as exc:
        raise StartupError(f"{path}: {exc}") from exc
    if not 1995 <= first_year <= last_year <= 2099:
        raise StartupError(
            f"{path}: years must lie within 1995..2099, first ≤ last; got {first_year}..{last_year}"
        )
    public = holidays.country_holidays("VN", years=range(first_year, last_year + 1), language="vi")
    days_off: dict[date, str] = {day: nfc(str(name)) for day, name in public.items()}
    worked = set(extra_worked)
    for swap in swaps:
        if swap.day_off.weekday() in WEEKEND:
            raise StartupError(f"{path}: swap day_off {swap.day_off} is a weekend day, not a working day")
        if swap.worked_instead.weekday() not in WEEKEND:
            raise StartupError(
                f"{path}: swap worked_instead {swap.worked_instead} is not a Saturday or Sunday"
            )
        days_off[swap.day_off] = f"Nghỉ hoán đổi, làm bù ngày {swap.worked_instead:%d/%m/%Y}"
        worked.add(swap.worked_instead)
    days_off.update(extra_off)
    for day in extra_worked:
        days_off.pop(day, None)  # a listed working day wins over the package's holiday
    try:
        return WorkingCalendar(
            days_off=days_off,
            worked=frozenset(worked),
            first=date(first_year, 1, 1),
            last=date(last_year, 12, 31),
            office_close=office_close,
        )
    except CalendarError as exc:
        raise StartupError(f"{path}: {exc.message}") from exc


def load_limits(path: Path) -> dict[Kind, TimeLimit]:
    doc = _read(path)
    entries = doc.get("limits")
    if not isinstance(entries, dict):
        raise StartupError(f"{path}: expected `limits:` mapping each kind to its limit")
    unknown = sorted(set(map(str, entries)) - {k.value for k in Kind})
    if unknown:
        raise StartupError(f"{path}: unknown kind(s) {', '.join(unknown)} (one of: {', '.join(Kind)})")
    limits: dict[Kind, TimeLimit] = {}
    for kind in Kind:
        entry = entries.get(kind.value)
        if not isinstance(entry, dict):
            raise StartupError(
                f"{path}: kind {kind.value} has no entry (give working_days: null to leave it unset)"
            )
        days = entry.get("working_days")
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_LIMIT
        ):
            raise StartupError(
                f"{path}: {kind.value}.working_days must be 1..{MAX_LIMIT} or null, not {days!r}"
            )
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise StartupError(
                f"{path}: {kind.value} needs a `source`: its legal basis, or why it must be configured"
            )
        limits[kind] = TimeLimit(kind, days, nfc(source.strip()), bool(entry.get("verified", False)))
    return limits


def _swap(entry: Any) -> Swap:
    return Swap(_date(entry, "swaps", "day_off"), _date(entry, "swaps", "worked_instead"), _source(entry))


def _date(entry: Any, section: str, key: str = "date") -> date:
    value = entry[key]
    if not isinstance(value, date):
        raise ValueError(f"{section}: {key} {value!r} is not a date (write YYYY-MM-DD)")
    return value


def _source(entry: Any) -> str:
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"entry {entry!r} needs a `source` saying where it comes from")
    return nfc(source.strip())


def _file(directory: Path | None, name: str) -> Path:
    if directory is not None:
        own = directory / name
        if own.exists():
            return own
        log.info("%s has no %s: using the packaged default", directory, name)
    return default_config_dir() / name


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StartupError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise StartupError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise StartupError(f"{path}: expected a mapping at the top")
    return doc
