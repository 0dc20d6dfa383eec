"""The nightly prune: off unless retention and an export directory are set; the cut-off is the
retention period before now; a refusal or a failure does not end the schedule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.db.log_export import SegmentError
from gateway.bootstrap import prune_schedule
from gateway.log_prune_schedule import PruneSchedule
from gateway.settings import Settings

NOW = datetime(2026, 12, 10, 19, 0, tzinfo=UTC)  # 02:00 the next day in Vietnam


def test_the_nightly_prune_is_off_by_default_and_needs_both_settings(tmp_path: Path) -> None:
    assert Settings().audit_prune_time is None
    assert Settings(audit_retention_days=365).audit_prune_time is None
    assert Settings(audit_export_dir=tmp_path).audit_prune_time is None
    on = Settings(audit_retention_days=365, audit_export_dir=tmp_path)
    assert on.audit_prune_time == time(3, 0)
    off = Settings(audit_retention_days=9, audit_export_dir=tmp_path, audit_prune_at="off")
    assert off.audit_prune_time is None
    late = Settings(audit_retention_days=9, audit_export_dir=tmp_path, audit_prune_at="23:15")
    assert late.audit_prune_time == time(23, 15)
    assert prune_schedule(on, None) is None  # no pruner built: nothing scheduled
    with pytest.raises(ValidationError, match="audit_prune_at"):
        Settings(audit_prune_at="3 o'clock")
    with pytest.raises(ValidationError, match="audit_retention_days"):
        Settings(audit_retention_days=0)


async def test_each_run_prunes_what_is_older_than_the_retention_and_survives_failures() -> None:
    cutoffs: list[datetime] = []
    stop = asyncio.Event()

    async def prune(before: datetime) -> None:
        cutoffs.append(before)
        if len(cutoffs) == 1:
            raise SegmentError("Log.ExportUnverified", "the export does not verify")
        if len(cutoffs) == 2:
            raise OSError("export directory full")
        if len(cutoffs) == 3:
            stop.set()

    schedule = PruneSchedule(prune, timedelta(days=30), lambda now: 0.01, lambda: NOW)
    await asyncio.wait_for(schedule.run(stop), timeout=5)
    assert cutoffs == [NOW - timedelta(days=30)] * 3
    assert (schedule.runs, schedule.failures) == (3, 2)


async def test_stop_cancels_the_wait_and_a_prune_in_flight() -> None:
    started = asyncio.Event()

    async def slow(before: datetime) -> None:
        started.set()
        await asyncio.sleep(3600)

    stop = asyncio.Event()
    task = asyncio.create_task(PruneSchedule(slow, timedelta(days=1), lambda now: 0, lambda: NOW).run(stop))
    await asyncio.wait_for(started.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)

    idle = PruneSchedule(slow, timedelta(days=1), lambda now: 3600, lambda: NOW)
    stop = asyncio.Event()
    waiting = asyncio.create_task(idle.run(stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(waiting, timeout=1)
    assert idle.runs == 0
