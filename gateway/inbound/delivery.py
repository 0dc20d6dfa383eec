"""What the outbox relay reads and reports back: rows are marked sent only after the broker's
confirm, and a confirmed new case moves to 04 (assigned) in the same transaction.

A row the broker would not take for a reason of its own (unroutable: no queue bound for its unit;
refused with a nack) waits on the retry ladder (`PAKN_RETRY_DELAYS_SECONDS`, then the last delay
again and again) instead of coming back at every batch: a full batch of such rows would otherwise
stop every other unit's cases. It is not dead-lettered: its case reaches 04 only through the
outbox's confirm, and it goes out by itself once its unit's queue exists again (visible meanwhile
in the outbox's `last_error` and `/health/ready`'s outbox figures). A broken link delays no row:
the relay's own backoff paces the whole outbox then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from gateway.domain.case import Status
from gateway.domain.exchange import OutboxMessage
from gateway.inbound import case_message
from gateway.ports import UnitOfWorkFactory

DEFAULT_RETRY_DELAYS = (10.0, 60.0, 600.0, 3600.0)
# Error codes (connectors.amqp.errors) that belong to the row, not to the link or the topology.
ROW_FAILURES = ("Amqp.Unroutable", "Amqp.PublishFailed")


class StoreOutboxSource:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Callable[[], datetime],
        observer: Callable[[str, str], None] | None = None,  # (message type, "confirmed" | "failed")
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        if not retry_delays or any(d <= 0 for d in retry_delays):
            raise ValueError("retry delays must be a non-empty list of positive seconds")
        self._uow = uow
        self._clock = clock
        self._observer = observer
        self._delays = tuple(retry_delays)

    async def pending(self, limit: int) -> list[OutboxMessage]:
        async with self._uow() as uow:
            return await uow.outbox.pending(limit, self._clock())

    async def confirmed(self, messages: list[OutboxMessage]) -> None:
        if not messages:
            return
        now = self._clock()
        async with self._uow() as uow:
            await uow.outbox.mark_sent([m.id for m in messages if m.id is not None], now)
            # The cases in a few statements whatever their number, locked in PetitionId order as
            # a group of unit replies locks its own: two transactions that each lock several
            # cases take the locks in one order, so they cannot deadlock.
            pids = [m.correlation_id for m in messages if m.type in case_message.ASSIGNING]
            cases = await uow.cases.get_many(pids, for_update=True)
            # Withdrawn before the confirm came back: the unit still got it, the case stays closed.
            assigned = [case for case in cases.values() if case.status is Status.ACCEPTED]
            for case in assigned:
                case.assign(now)
            await uow.cases.save_many(assigned)
            await uow.commit()
        self._observe(messages, "confirmed")

    async def failed(self, messages: list[OutboxMessage], error: str) -> None:
        if not messages:
            return
        ids = [m.id for m in messages if m.id is not None]
        async with self._uow() as uow:
            if error.startswith(ROW_FAILURES):
                now = self._clock()
                # one update per attempt count: rows of one batch usually share it
                for attempts in sorted({m.attempts for m in messages}):
                    delay = self._delays[min(attempts, len(self._delays) - 1)]
                    same = [m.id for m in messages if m.id is not None and m.attempts == attempts]
                    await uow.outbox.mark_failed(same, error[:1000], now + timedelta(seconds=delay))
            else:
                await uow.outbox.mark_failed(ids, error[:1000])
            await uow.commit()
        self._observe(messages, "failed")

    def _observe(self, messages: list[OutboxMessage], result: str) -> None:
        if self._observer is not None:
            for message in messages:
                self._observer(message.type, result)
