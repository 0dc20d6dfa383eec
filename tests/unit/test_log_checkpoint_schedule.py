"""The checkpoint schedule keeps going after a failed checkpoint and stops when told."""

from __future__ import annotations

import asyncio

import pytest

from gateway.bootstrap import checkpoint_schedule
from gateway.log_checkpoint_schedule import CheckpointSchedule
from gateway.settings import Settings


async def test_a_failure_does_not_end_the_schedule() -> None:
    calls: list[int] = []
    stop = asyncio.Event()

    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise OSError("store down")
        if len(calls) == 3:
            stop.set()

    schedule = CheckpointSchedule(flaky, every_seconds=0.01)
    await asyncio.wait_for(schedule.run(stop), timeout=5)
    assert len(calls) == 3 and schedule.failures == 1 and schedule.runs == 3


async def test_stop_ends_the_wait_at_once() -> None:
    async def never() -> None:
        raise AssertionError("no checkpoint was due")

    stop = asyncio.Event()
    task = asyncio.create_task(CheckpointSchedule(never, every_seconds=3600).run(stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=1)


def test_zero_seconds_means_off() -> None:
    assert checkpoint_schedule(Settings(audit_checkpoint_seconds=0), None) is None
    with pytest.raises(ValueError, match="positive"):
        CheckpointSchedule(lambda: asyncio.sleep(0), every_seconds=0)
