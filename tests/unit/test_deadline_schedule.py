"""The deadline schedule runs a round at start, keeps going after a failed one, stops when told;
the settings choose its thresholds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.bootstrap import build_deadline_watch, deadline_schedule
from gateway.deadlines.config import load_policy
from gateway.deadlines.reminders import WatchReport
from gateway.deadlines.schedule import DeadlineSchedule
from gateway.routing_config import load_config
from gateway.settings import Settings
from tests.unit.fakes import FakeUnitOfWorkFactory

pytestmark = pytest.mark.unit


class FlakyWatch:
    def __init__(self, stop: asyncio.Event) -> None:
        self.calls = 0
        self._stop = stop

    async def run_once(self) -> WatchReport:
        self.calls += 1
        if self.calls == 1:
            raise OSError("store down")
        if self.calls == 3:
            self._stop.set()
        return WatchReport(reminded=1)


async def test_a_failed_round_does_not_end_the_schedule() -> None:
    stop = asyncio.Event()
    watch = FlakyWatch(stop)
    schedule = DeadlineSchedule(watch, every_seconds=0.01)  # type: ignore[arg-type]
    await asyncio.wait_for(schedule.run(stop), timeout=5)
    assert (watch.calls, schedule.runs, schedule.failures) == (3, 3, 1)


async def test_the_first_round_is_at_start_and_stop_ends_the_wait() -> None:
    stop = asyncio.Event()
    watch = FlakyWatch(asyncio.Event())
    task = asyncio.create_task(DeadlineSchedule(watch, every_seconds=3600).run(stop))  # type: ignore[arg-type]
    for _ in range(100):
        if watch.calls:
            break
        await asyncio.sleep(0.01)
    assert watch.calls == 1  # at once, not an hour later
    stop.set()
    await asyncio.wait_for(task, timeout=1)


def test_settings_choose_the_thresholds_and_zero_is_off() -> None:
    config: Any = load_config()
    uow: Any = FakeUnitOfWorkFactory()
    settings = Settings(reminder_working_days=[5, 2], reminder_overdue=True)
    watch = build_deadline_watch(settings, uow, load_policy(), config)
    assert [t.code for t in watch.thresholds] == ["before:5", "before:2", "overdue"]
    quiet = build_deadline_watch(
        Settings(reminder_working_days=[], reminder_overdue=False), uow, load_policy(), config
    )
    assert quiet.thresholds == ()
    assert deadline_schedule(Settings(deadline_check_seconds=0), watch) is None
    assert deadline_schedule(Settings(), watch) is not None
    with pytest.raises(ValueError, match="positive"):
        DeadlineSchedule(watch, every_seconds=0)
