"""The sampler's I/O: unit queue counts from the broker, traffic and published cases from the store.

The broker may be down while the store is up (petitions are still accepted): a sample then says
``broker_ok=False`` with no queue figures, and the rest is still taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from connectors.amqp.errors import AmqpError
from connectors.amqp.queue_stats import QueueStats
from connectors.amqp.topology import UNIT_KEY_PREFIX
from connectors.db.console_figures import log_traffic_since, published_between
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.console.samples import QueueFigure, Sample
from gateway.domain.routing import RoutingTable

MINISTRY_OPERATIONS = frozenset(
    {"SubmitPetition", "SubmitPetitionUpdate", "SubmitFeedback", "GetPetitionStatus", "unknown"}
)
"""What the portal calls on the gateway; the gateway's own answers to them are logged as "out" too."""


def classify_traffic(counts: Mapping[tuple[str, str], int]) -> tuple[int, int]:
    """(messages from the portal, calls to the portal) among message-log rows per (direction, operation).

    From the portal: its requests (not the receipts it returns to the gateway's calls, "…Response").
    To the portal: the gateway's calls (not its receipts for the portal's pushes)."""
    inbound = sum(n for (d, op), n in counts.items() if d == "in" and not op.endswith("Response"))
    outbound = sum(n for (d, op), n in counts.items() if d == "out" and op not in MINISTRY_OPERATIONS)
    return inbound, outbound


def unit_of_key(routing_key: str) -> str | None:
    """``unit.<CODE>.<event>`` → CODE (None for any other key)."""
    if not routing_key.startswith(UNIT_KEY_PREFIX):
        return None
    code, sep, _ = routing_key[len(UNIT_KEY_PREFIX) :].partition(".")
    return code if sep and code else None


class StoreAndBrokerProbe:
    def __init__(
        self,
        uow: SqlUnitOfWorkFactory,
        stats: QueueStats,
        routing: RoutingTable,
        clock: Callable[[], datetime],
        *,
        fresh_for: float = 5.0,
    ) -> None:
        self._fresh_for = fresh_for
        self._uow = uow
        self._stats = stats
        self._routing = routing
        self._clock = clock
        self._last_log_id: int | None = None
        self._last_at: datetime | None = None

    async def sample(self) -> Sample:
        now = self._clock()
        queues: dict[str, QueueFigure | None] = {}
        broker_ok = True
        units = list(self._routing.units.values())
        names = [u.queue for u in units]
        try:
            # the metrics sampler may share the reader: its read of a moment ago is as good as a new one
            found = self._stats.recent(names, self._fresh_for) or await self._stats.read(names)
        except AmqpError:
            broker_ok = False
        else:
            for unit in units:
                stat = found.get(unit.queue)
                queues[unit.code] = QueueFigure(stat.messages, stat.consumers) if stat else None
        async with self._uow() as uow:
            traffic = await log_traffic_since(uow, self._last_log_id)
            published_keys = (
                await published_between(uow, self._last_at, now) if self._last_at is not None else {}
            )
            pending, _ = await uow.outbox.lag()
        from_portal, to_portal = classify_traffic(traffic.counts)
        published: dict[str, int] = {}
        for key, count in published_keys.items():
            code = unit_of_key(key)
            if code is not None:
                published[code] = published.get(code, 0) + count
        self._last_log_id, self._last_at = traffic.last_id, now
        return Sample(
            at=now,
            queues=queues,
            broker_ok=broker_ok,
            from_portal=from_portal,
            to_portal=to_portal,
            published=published,
            outbox_pending=pending,
        )

    async def close(self) -> None:
        await self._stats.close()
