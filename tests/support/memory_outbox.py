"""An in-memory ``OutboxSource`` that records what the relay told it, for relay tests."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.domain.exchange import OutboxMessage


def outbox_row(
    row_id: int,
    exchange: str,
    routing_key: str,
    *,
    type_: str = "case.new",
    body: dict[str, object] | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        message_id=str(uuid.uuid4()),
        exchange=exchange,
        routing_key=routing_key,
        type=type_,
        correlation_id=f"petition-{row_id}",
        body=json.dumps(body if body is not None else {"seq": row_id, "title": "Phản ánh"}).encode(),
        created_at=datetime.now(UTC),
        id=row_id,
    )


class MemoryOutbox:
    """Rows stay pending until confirmed; every call is recorded so tests can check exactly-once."""

    def __init__(self, rows: list[OutboxMessage] | None = None) -> None:
        self.rows: dict[str, OutboxMessage] = {}
        self.waiting: list[str] = []  # message ids, in commit order
        self.confirm_counts: Counter[str] = Counter()
        self.failures: list[tuple[list[str], str]] = []
        self.confirm_calls = 0
        self.on_confirmed: list[Callable[[], None]] = []  # run after each confirmed() call
        for row in rows or []:
            self.add(row)

    def add(self, row: OutboxMessage) -> None:
        self.rows[row.message_id] = row
        self.waiting.append(row.message_id)

    @property
    def confirmed_ids(self) -> set[str]:
        return set(self.confirm_counts)

    async def pending(self, limit: int) -> list[OutboxMessage]:
        return [self.rows[message_id] for message_id in self.waiting[:limit]]

    async def confirmed(self, messages: list[OutboxMessage]) -> None:
        self.confirm_calls += 1
        done = {message.message_id for message in messages}
        self.confirm_counts.update(done)
        self.waiting = [message_id for message_id in self.waiting if message_id not in done]
        for hook in list(self.on_confirmed):
            hook()

    async def failed(self, messages: list[OutboxMessage], error: str) -> None:
        self.failures.append(([message.message_id for message in messages], error))
