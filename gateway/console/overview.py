"""What the Overview shows, gathered in one place (the HTML page and ``GET /api/ops/overview`` alike).

Queue figures and rates come from the sampler's ring (no broker call per page view); the outbox,
the national outbox, case counts and overdue cases are read from the store now; the portal link
from the national sender in this process; dead letters by stage from a short cache, since counting
``pakn.dead`` means reading it (``DeadLetterCounts``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.amqp.errors import AmqpError
from connectors.db.console_figures import overdue_count
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.console.samples import SampleRing, queue_rates
from gateway.domain.routing import RoutingTable
from gateway.ops.dead_letters import NATIONAL_STAGE, DeadLetters
from gateway.outbound.national_sender import NationalSender

RATE_WINDOW = timedelta(minutes=5)
DEAD_LETTER_TTL = 15.0
DEAD_LETTER_SCAN = 10_000


@dataclass(frozen=True)
class QueueRow:
    unit_code: str
    unit_name: str
    queue: str
    messages: int | None  # None: not declared, or the broker is unreachable
    consumers: int | None
    rate_in: float | None  # messages per minute over RATE_WINDOW
    rate_out: float | None

    @property
    def level(self) -> str:
        """A colour for the row: bad (no one consumes a non-empty queue), warn (a backlog), ok."""
        if self.messages is None:
            return "unknown"
        if self.messages > 0 and not self.consumers:
            return "bad"
        return "warn" if self.messages >= 100 else "ok"


@dataclass(frozen=True)
class PortalLink:
    breaker: str  # closed | open | half_open
    consecutive_failures: int
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    outbox: dict[str, int]  # state → rows (pending, delivered, dead)


@dataclass(frozen=True)
class DeadLetterFigures:
    by_stage: dict[str, int]
    total: int
    error: str | None = None  # pakn.dead could not be read (the national ones are still counted)


@dataclass(frozen=True)
class Overview:
    at: datetime
    broker_connected: bool
    queues: list[QueueRow]
    outbox_pending: int
    outbox_oldest: datetime | None
    portal: PortalLink
    dead_letters: DeadLetterFigures
    cases_by_status: dict[str, int]
    overdue: int | None
    sampled_at: datetime | None
    extras: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("extras")
        jsonable: dict[str, Any] = _jsonable(doc)
        return jsonable


class DeadLetterCounts:
    """Dead letters by stage, read at most every ``ttl`` seconds (``invalidate()`` after an action)."""

    def __init__(self, dead_letters: DeadLetters, *, ttl: float = DEAD_LETTER_TTL) -> None:
        self._dead_letters = dead_letters
        self._ttl = ttl
        self._cached: tuple[float, DeadLetterFigures] | None = None

    def invalidate(self) -> None:
        self._cached = None

    async def figures(self, national_dead: int) -> DeadLetterFigures:
        """``national_dead``: the national outbox's dead rows, counted when pakn.dead cannot be read."""
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self._ttl:
            return self._cached[1]
        by_stage: dict[str, int] = {}
        try:
            letters, total = await self._dead_letters.find(None, DEAD_LETTER_SCAN)
        except AmqpError as exc:
            if national_dead:
                by_stage[NATIONAL_STAGE] = national_dead
            figures = DeadLetterFigures(by_stage, national_dead, f"{exc.code}: {exc.message}")
            self._cached = (now, figures)
            return figures
        for letter in letters:
            by_stage[letter.stage] = by_stage.get(letter.stage, 0) + 1
        figures = DeadLetterFigures(dict(sorted(by_stage.items())), total)
        self._cached = (now, figures)
        return figures


class OverviewService:
    def __init__(
        self,
        *,
        uow: SqlUnitOfWorkFactory,
        routing: RoutingTable,
        ring: SampleRing,
        sender: NationalSender,
        dead_letters: DeadLetterCounts,
        broker_connected: Callable[[], bool],
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._routing = routing
        self.ring = ring
        self._sender = sender
        self.dead_letters = dead_letters
        self._broker_connected = broker_connected
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def overview(self) -> Overview:
        now = self._clock()
        async with self._uow() as uow:
            pending, oldest = await uow.outbox.lag()
            national = await uow.national.counts()
            by_status = await uow.cases.count_by_status()
            overdue = await overdue_count(uow, now)
        return Overview(
            at=now,
            broker_connected=self._broker_connected(),
            queues=self.queue_rows(now),
            outbox_pending=pending,
            outbox_oldest=oldest,
            portal=self.portal_link(national),
            dead_letters=await self.dead_letters.figures(national.get("dead", 0)),
            cases_by_status=dict(sorted(by_status.items())),
            overdue=overdue,
            sampled_at=latest.at if (latest := self.ring.latest()) else None,
        )

    def queue_rows(self, now: datetime) -> list[QueueRow]:
        latest = self.ring.latest()
        window = self.ring.since(now - RATE_WINDOW)
        rows = []
        for unit in sorted(self._routing.units.values(), key=lambda u: u.code):
            figure = latest.queues.get(unit.code) if latest is not None and latest.broker_ok else None
            rate = queue_rates(window, unit.code)
            rows.append(
                QueueRow(
                    unit_code=unit.code,
                    unit_name=unit.name,
                    queue=unit.queue,
                    messages=figure.messages if figure else None,
                    consumers=figure.consumers if figure else None,
                    rate_in=rate.into,
                    rate_out=rate.out,
                )
            )
        return rows

    def portal_link(self, national: dict[str, int]) -> PortalLink:
        breaker = self._sender.breaker
        return PortalLink(
            breaker=breaker.state.value,
            consecutive_failures=breaker.consecutive_failures,
            last_success_at=self._sender.last_success_at,
            last_error=self._sender.last_error,
            last_error_at=self._sender.last_error_at,
            outbox={state: national.get(state, 0) for state in ("pending", "delivered", "dead")},
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
