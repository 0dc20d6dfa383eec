"""The figures behind the console's charts and rates: one sample every few seconds, kept in memory.

A ring of samples (by default one per 10 s for the last 6 hours) is enough to draw throughput and
queue depth over time and to compute rates; it is lost on restart, which is fine for a picture of
"now" (Prometheus, issue 5's /metrics, keeps history). The sampler takes a sample through a
``Probe`` (I/O: ``gateway.console.probe``); one failed probe is logged and skipped, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 10.0
DEFAULT_KEEP = timedelta(hours=6)


@dataclass(frozen=True)
class QueueFigure:
    messages: int
    consumers: int


@dataclass(frozen=True)
class Sample:
    """What was seen at ``at``; counts (``from_portal``, ``published``…) since the previous sample."""

    at: datetime
    queues: Mapping[str, QueueFigure | None] = field(
        default_factory=dict
    )  # unit code → figure (None: absent)
    broker_ok: bool = True
    from_portal: int = 0  # national messages received (pushes, updates, feedback, queries)
    to_portal: int = 0  # calls made to the national portal (statuses, answers, transfers, lists)
    published: Mapping[str, int] = field(default_factory=dict)  # unit code → cases put in its queue
    outbox_pending: int = 0


class Probe(Protocol):
    async def sample(self) -> Sample: ...


class SampleRing:
    """The last ``keep`` of samples at one per ``interval``: older ones fall off the end."""

    def __init__(self, *, interval: float = DEFAULT_INTERVAL, keep: timedelta = DEFAULT_KEEP) -> None:
        self.interval = interval
        self._samples: deque[Sample] = deque(maxlen=max(2, int(keep.total_seconds() // interval) + 1))

    def add(self, sample: Sample) -> None:
        self._samples.append(sample)

    def latest(self) -> Sample | None:
        return self._samples[-1] if self._samples else None

    def since(self, moment: datetime) -> list[Sample]:
        return [s for s in self._samples if s.at >= moment]

    def __len__(self) -> int:
        return len(self._samples)


@dataclass(frozen=True)
class QueueRate:
    """Messages per minute into and out of one unit queue over a window (None: not enough samples)."""

    into: float | None
    out: float | None


def queue_rates(samples: list[Sample], unit: str) -> QueueRate:
    """In = cases the gateway published for the unit; out = in − the queue's growth (what units took,
    or what the broker dead-lettered). RabbitMQ without its management plugin tells no rates itself."""
    if len(samples) < 2:
        return QueueRate(None, None)
    first, last = samples[0], samples[-1]
    minutes = (last.at - first.at).total_seconds() / 60
    if minutes <= 0:
        return QueueRate(None, None)
    into = sum(s.published.get(unit, 0) for s in samples[1:])
    # the queue's growth between the first and the last sample that saw it (the broker may have
    # been out of reach, or the topology not declared yet, at the start of the window)
    seen = [(s, figure) for s in samples if (figure := s.queues.get(unit)) is not None]
    if len(seen) < 2:
        return QueueRate(into / minutes, None)
    (start, before), (end, after) = seen[0], seen[-1]
    span = (end.at - start.at).total_seconds() / 60
    if span <= 0:
        return QueueRate(into / minutes, None)
    published = sum(s.published.get(unit, 0) for s in samples if start.at < s.at <= end.at)
    out = max(0, published - (after.messages - before.messages))
    return QueueRate(into / minutes, out / span)


class Sampler:
    """``run(stop)``: a sample every ``ring.interval`` seconds until ``stop`` is set."""

    def __init__(self, ring: SampleRing, probe: Probe) -> None:
        self.ring = ring
        self._probe = probe

    async def take(self) -> Sample | None:
        try:
            async with asyncio.timeout(max(self.ring.interval, 5.0) * 3):
                sample = await self._probe.sample()
        except Exception as exc:  # a figure missing for one tick must not stop the console's sampling
            log.warning("console sampler: sample skipped (%s)", exc)
            return None
        self.ring.add(sample)
        return sample

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.take()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.ring.interval)
