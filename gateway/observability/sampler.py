"""The gauges that need I/O, refreshed every few seconds in the background (never at scrape time: a
slow broker or a locked SQLite file must not make `/metrics` slow or fail).

Two parts, each bounded in time and failing alone: the store (outbox lag, national outbox, cases,
overdue) and the broker (every queue of the topology, by passive declares on a plain connection of
the sampler's own, so it never disturbs the relay's link). A failed part keeps its last values,
counts ``pakn_metrics_sample_errors_total{part}``, and is logged once per outage, not every round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from connectors.amqp.queue_stats import QueueStat
from connectors.amqp.retry_ladder import retry_queue_name
from connectors.amqp.topology import (
    DEAD_QUEUE,
    REPLIES_QUEUE,
    REPLIES_STAGE,
    unit_error_queue_name,
    unit_queue_name,
)
from connectors.db.metrics_figures import StoreFigures
from gateway.observability.metrics import GatewayMetrics

log = logging.getLogger(__name__)

PART_TIMEOUT = 10.0


class QueueReader(Protocol):
    """`connectors.amqp.queue_stats.QueueStats`: counts by passive declares, None for a missing queue."""

    async def read(self, names: Sequence[str]) -> dict[str, QueueStat | None]: ...
    async def close(self) -> None: ...


def topology_queues(unit_codes: Sequence[str], retry_delays: Sequence[float]) -> list[str]:
    """Every queue the gateway declares: units' and their error queues, replies, retries, dead."""
    names = [REPLIES_QUEUE, DEAD_QUEUE]
    names += [retry_queue_name(REPLIES_STAGE, delay) for delay in retry_delays]
    for code in unit_codes:
        names += [unit_queue_name(code), unit_error_queue_name(code)]
    return names


class MetricsSampler:
    def __init__(
        self,
        metrics: GatewayMetrics,
        *,
        read_store: Callable[[datetime], Awaitable[StoreFigures]],
        queues: QueueReader,
        queue_names: Sequence[str],
        interval: float,
        clock: Callable[[], datetime],
        part_timeout: float = PART_TIMEOUT,
    ) -> None:
        self._metrics = metrics
        self._read_store = read_store
        self._queues = queues
        self._names = list(queue_names)
        self._interval = interval
        self._clock = clock
        self._timeout = part_timeout
        self._failing: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.sample_once()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._interval)
        finally:
            await self._queues.close()

    async def sample_once(self) -> None:
        await self._part("store", self._sample_store)
        await self._part("queues", self._sample_queues)

    async def _sample_store(self) -> None:
        now = self._clock()
        f = await self._read_store(now)
        self._metrics.record_store(
            now=now,
            outbox_pending=f.outbox_pending,
            outbox_oldest=f.outbox_oldest,
            national=f.national,
            national_oldest=f.national_oldest,
            cases=f.cases,
            overdue=f.overdue,
            with_due=f.with_due,
        )

    async def _sample_queues(self) -> None:
        found = await self._queues.read(self._names)
        depths = {
            name: (stat.messages, stat.consumers) if stat is not None else None
            for name, stat in found.items()
        }
        self._metrics.record_queues(self._clock(), depths, DEAD_QUEUE)

    async def _part(self, part: str, sample: Callable[[], Awaitable[None]]) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await sample()
        except Exception as exc:  # one failed part must not stop the other, nor the loop
            self._metrics.sample_failed(part)
            if part not in self._failing:
                log.warning("metrics: cannot sample the %s (%s); keeping the last values", part, exc)
            self._failing.add(part)
            return
        if part in self._failing:
            log.info("metrics: sampling the %s again", part)
            self._failing.discard(part)
