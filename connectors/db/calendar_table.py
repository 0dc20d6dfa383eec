"""The working-day calendar as a table, so reports count working days in SQL (a subtraction).

`calendar_days` holds one row per day of the gateway's WorkingCalendar: its Vietnam-time day
number (days since 1970-01-01, what `day_number()` computes from a stored instant), whether it is
a working day, and the running count of working days up to it. `calendar_state` holds the
fingerprint of the calendar copied; `sync_calendar` rewrites both when the fingerprint differs
(config/calendar.yaml edited, a new `holidays` release), in one transaction, so a report never
reads half a calendar. Two gateways starting at once take turns: PostgreSQL through an advisory
lock, SQLite through its one writer (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, SQLColumnExpression, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import cast

from connectors.db.engine import read_only
from connectors.db.errors import map_db_errors
from connectors.db.tables import CalendarDayRow, CalendarStateRow
from gateway.domain.working_days import VIETNAM, WorkingCalendar

EPOCH = date(1970, 1, 1)
OFFSET_SECONDS = int(VIETNAM.utcoffset(None).total_seconds())
# pg_advisory_xact_lock key: "PAKNCAL" in ASCII
CALENDAR_LOCK_KEY = int.from_bytes(b"PAKNCAL", "big")
STATE_ID = 1
BATCH = 2000


@dataclass(frozen=True)
class CalendarDay:
    day: date
    working: bool
    working_index: int  # working days from the calendar's first day through this one

    @property
    def day_number(self) -> int:
        return (self.day - EPOCH).days


def calendar_days(calendar: WorkingCalendar) -> Iterator[CalendarDay]:
    index, day = 0, calendar.first
    while day <= calendar.last:
        working = calendar.is_working_day(day)
        index += working
        yield CalendarDay(day, working, index)
        day += timedelta(days=1)


def fingerprint(calendar: WorkingCalendar) -> str:
    """What the table depends on: the range and which days are worked (not the office hours,
    which the queries take as a parameter)."""
    digest = hashlib.sha256(f"{calendar.first}..{calendar.last}:".encode())
    digest.update(bytes(d.working for d in calendar_days(calendar)))
    return digest.hexdigest()


async def sync_calendar(engine: AsyncEngine, calendar: WorkingCalendar) -> bool:
    """Make the table hold `calendar`; True when it was rewritten, False when it already did."""
    wanted = fingerprint(calendar)
    held = select(CalendarStateRow.fingerprint).where(CalendarStateRow.id == STATE_ID)
    with map_db_errors():
        async with read_only(engine).connect() as connection:  # the usual case: no write lock
            if (await connection.execute(held)).scalar_one_or_none() == wanted:
                return False
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(select(func.pg_advisory_xact_lock(CALENDAR_LOCK_KEY)))
            if (await connection.execute(held)).scalar_one_or_none() == wanted:
                return False  # another gateway starting at the same time wrote it first
            await connection.execute(delete(CalendarDayRow))
            await connection.execute(delete(CalendarStateRow))
            rows = [
                {
                    "day_number": d.day_number,
                    "day": d.day,
                    "working": d.working,
                    "working_index": d.working_index,
                }
                for d in calendar_days(calendar)
            ]
            for start in range(0, len(rows), BATCH):
                await connection.execute(insert(CalendarDayRow), rows[start : start + BATCH])
            await connection.execute(
                insert(CalendarStateRow).values(
                    id=STATE_ID,
                    fingerprint=wanted,
                    first_day=calendar.first,
                    last_day=calendar.last,
                    refreshed_at=datetime.now(UTC),
                )
            )
    return True


def local_seconds(dialect: str, instant: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """Seconds since 1970-01-01 00:00 Vietnam time of a stored instant, whole seconds down."""
    if dialect == "postgresql":
        # floor, not a cast: a cast rounds, and 16:59:59.7 would become 17:00:00 (after hours);
        # date_part, not EXTRACT: EXTRACT's numeric result makes this several times slower
        epoch = func.floor(func.date_part("epoch", instant))
    else:
        epoch = func.strftime("%s", instant)  # SQLite keeps instants as UTC text; %s truncates
    return cast(epoch, BigInteger) + OFFSET_SECONDS


def day_number(dialect: str, instant: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """The Vietnam-time day of a stored instant, as `calendar_days.day_number`."""
    return _floor_div(local_seconds(dialect, instant), 86400)


def second_of_day(dialect: str, instant: SQLColumnExpression[Any]) -> ColumnElement[int]:
    """The Vietnam-time clock of a stored instant, in seconds after midnight."""
    seconds = local_seconds(dialect, instant)
    return seconds - _floor_div(seconds, 86400) * 86400


def _floor_div(value: ColumnElement[int], divisor: int) -> ColumnElement[int]:
    # integer division (`//` renders as SQL's integer `/` for integer operands) truncates on both
    # databases; instants after 1970 are positive, so it floors
    return value // divisor
