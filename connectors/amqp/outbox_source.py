"""The relay's ``OutboxSource`` over the gateway's store (``gateway.ports.UnitOfWork``).

Each call is its own short transaction: reading a batch must not hold the store's write lock
while the batch is in flight to the broker (on SQLite there is one writer for the whole gateway).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from gateway.domain.exchange import OutboxMessage
from gateway.ports import UnitOfWorkFactory


def _now() -> datetime:
    return datetime.now(UTC)


class StoreOutboxSource:
    def __init__(self, unit_of_work: UnitOfWorkFactory, *, clock: Callable[[], datetime] = _now) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def pending(self, limit: int) -> list[OutboxMessage]:
        async with self._unit_of_work() as uow:
            return await uow.outbox.pending(limit)

    async def confirmed(self, messages: list[OutboxMessage]) -> None:
        async with self._unit_of_work() as uow:
            await uow.outbox.mark_sent(_ids(messages), self._clock())
            await uow.commit()

    async def failed(self, messages: list[OutboxMessage], error: str) -> None:
        async with self._unit_of_work() as uow:
            await uow.outbox.mark_failed(_ids(messages), error)
            await uow.commit()


def _ids(messages: list[OutboxMessage]) -> list[int]:
    ids = [message.id for message in messages if message.id is not None]
    if len(ids) != len(messages):
        raise ValueError("outbox rows from the store always have an id; these did not")
    return ids
