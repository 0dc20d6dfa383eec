"""Waiting and running work in the gateway's background schedules, both cut short by shutdown.

Shared by the schedules whose runs are long and resumable (reconciliation, log pruning): on
shutdown a run in flight is cancelled, not awaited, and the next run finishes or redoes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stop` is set meanwhile; True when it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def run_unless_stopped(job: Coroutine[Any, Any, None], stop: asyncio.Event, *, name: str) -> bool:
    """Run `job` to its end (True), or cancel it when `stop` is set first (False)."""
    running = asyncio.create_task(job, name=name)
    stopping = asyncio.create_task(stop.wait(), name=f"{name}-stop")
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if running.done():
        return True
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    return False
