"""What the outbox relay reads and reports back: rows are marked sent only after the broker's
confirm, and a confirmed new case moves to 04 (assigned) in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.domain.case import Status
from gateway.domain.exchange import OutboxMessage
from gateway.inbound import case_message
from gateway.ports import UnitOfWorkFactory


class StoreOutboxSource:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Callable[[], datetime],
        observer: Callable[[str, str], None] | None = None,  # (message type, "confirmed" | "failed")
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._observer = observer

    async def pending(self, limit: int) -> list[OutboxMessage]:
        async with self._uow() as uow:
            return await uow.outbox.pending(limit)

    async def confirmed(self, messages: list[OutboxMessage]) -> None:
        if not messages:
            return
        now = self._clock()
        async with self._uow() as uow:
            await uow.outbox.mark_sent([m.id for m in messages if m.id is not None], now)
            for message in messages:
                if message.type not in case_message.ASSIGNING:
                    continue
                case = await uow.cases.get(message.correlation_id, for_update=True)
                # Withdrawn before the confirm came back: the unit still got it, the case stays closed.
                if case is not None and case.status is Status.ACCEPTED:
                    case.assign(now)
                    await uow.cases.save(case)
            await uow.commit()
        self._observe(messages, "confirmed")

    async def failed(self, messages: list[OutboxMessage], error: str) -> None:
        if not messages:
            return
        async with self._uow() as uow:
            await uow.outbox.mark_failed([m.id for m in messages if m.id is not None], error[:1000])
            await uow.commit()
        self._observe(messages, "failed")

    def _observe(self, messages: list[OutboxMessage], result: str) -> None:
        if self._observer is not None:
            for message in messages:
                self._observer(message.type, result)
