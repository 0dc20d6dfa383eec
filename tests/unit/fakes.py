"""In-memory adapters for unit tests of the services (no I/O). Integration tests use the real store."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

from gateway.domain.answer import Answer
from gateway.domain.case import Case, StatusChange
from gateway.domain.deadlines import Deadline
from gateway.domain.exchange import (
    CaseSummary,
    LogEntry,
    NationalMessage,
    OutboxMessage,
    Receipt,
    SeenMessage,
)
from gateway.domain.national import status_message
from gateway.domain.petition import Feedback, Petition, PetitionUpdate
from gateway.ports import StoreConflict


@dataclass
class World:
    """Committed state shared by every unit of work of one test."""

    cases: dict[str, Case] = field(default_factory=dict)
    petitions: dict[str, Petition] = field(default_factory=dict)
    receipts: dict[str, Receipt] = field(default_factory=dict)
    updates: list[PetitionUpdate] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    national: list[NationalMessage] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    commits: int = 0


class FakeUnitOfWork:
    def __init__(self, world: World) -> None:
        self.world = world
        self._staged = copy.deepcopy(world)
        self._seen_at_start = set(world.receipts)
        self.cases = _Cases(self._staged)
        self.receipts = _Receipts(self._staged)
        self.updates = _Updates(self._staged)
        self.outbox = _Outbox(self._staged)
        self.message_log = _Log(self._staged)
        self.national = FakeNationalOutbox(self._staged)
        self.answers = _Answers(self._staged)
        self.tokens = _Tokens(self._staged)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        # Like a unique key on seen_messages: a MessageId committed meanwhile makes this one lose.
        for message_id in self._staged.receipts.keys() - self._seen_at_start:
            if message_id in self.world.receipts:
                raise StoreConflict(message_id)
        names = (
            "cases",
            "petitions",
            "receipts",
            "updates",
            "feedback",
            "outbox",
            "log",
            "tokens",
            "national",
            "answers",
            "deadlines",
        )
        for name in names:
            setattr(self.world, name, getattr(self._staged, name))
        self.world.commits += 1


class FakeUnitOfWorkFactory:
    def __init__(self, world: World | None = None) -> None:
        self.world = world or World()

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.world)


class _Cases:
    def __init__(self, w: World) -> None:
        self.w = w

    async def get(self, petition_id: str, *, for_update: bool = False) -> Case | None:
        case = self.w.cases.get(petition_id)
        return None if case is None else replace(case, history=list(case.history), events=[])

    async def add(self, case: Case, petition: Petition, *, deadline: Deadline | None = None) -> None:
        if case.petition_id in self.w.cases:
            raise StoreConflict(case.petition_id)
        if deadline is not None:
            self.w.deadlines[case.petition_id] = deadline
        self.w.cases[case.petition_id] = replace(case, events=[])
        self.w.petitions[case.petition_id] = petition
        self._feed(case.petition_id, case.history)

    async def save(self, case: Case) -> None:
        stored = self.w.cases[case.petition_id].history
        if stored != case.history[: len(stored)]:
            raise StoreConflict(case.petition_id)
        self._feed(case.petition_id, case.history[len(stored) :])
        self.w.cases[case.petition_id] = replace(case, history=list(case.history), events=[])

    async def get_many(self, petition_ids: Sequence[str], *, for_update: bool = False) -> dict[str, Case]:
        found = {pid: await self.get(pid, for_update=for_update) for pid in sorted(set(petition_ids))}
        return {pid: case for pid, case in found.items() if case is not None}

    async def save_many(self, cases: Sequence[Case]) -> None:
        for case in sorted(cases, key=lambda c: c.petition_id):
            await self.save(case)

    def _feed(self, petition_id: str, changes: list[StatusChange]) -> None:
        """As the SQL store does: every stored status change queues its ReceiveStatus."""
        for change in changes:
            message = status_message(petition_id, change, change.changed_at)
            self.w.national.append(replace(message, id=len(self.w.national) + 1))

    async def petition(self, petition_id: str) -> Petition | None:
        return self.w.petitions.get(petition_id)

    async def list_for_unit(
        self, unit_code: str, *, statuses: Sequence[str] | None = None, limit: int = 100, offset: int = 0
    ) -> list[CaseSummary]:
        raise NotImplementedError("not needed by the services under unit test")

    async def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for case in self.w.cases.values():
            counts[case.status.value] = counts.get(case.status.value, 0) + 1
        return counts


class _Receipts:
    def __init__(self, w: World) -> None:
        self.w = w

    async def find(self, message_id: str) -> Receipt | None:
        return self.w.receipts.get(message_id)

    async def remember(
        self, receipt: Receipt, *, operation: str, petition_id: str | None, at: datetime
    ) -> None:
        if receipt.message_id in self.w.receipts:
            raise StoreConflict(receipt.message_id)
        self.w.receipts[receipt.message_id] = receipt

    async def find_many(self, message_ids: Sequence[str]) -> dict[str, Receipt]:
        return {m: self.w.receipts[m] for m in message_ids if m in self.w.receipts}

    async def remember_many(self, seen: Sequence[SeenMessage]) -> None:
        for s in seen:
            await self.remember(s.receipt, operation=s.operation, petition_id=s.petition_id, at=s.at)


class _Updates:
    def __init__(self, w: World) -> None:
        self.w = w

    async def add_update(self, update: PetitionUpdate, *, message_id: str) -> None:
        self.w.updates.append(update)

    async def add_feedback(self, feedback: Feedback, *, message_id: str) -> None:
        self.w.feedback.append(feedback)


class _Outbox:
    def __init__(self, w: World) -> None:
        self.w = w

    async def add(self, message: OutboxMessage) -> None:
        self.w.outbox.append(replace(message, id=len(self.w.outbox) + 1))

    async def pending(self, limit: int, now: datetime | None = None) -> list[OutboxMessage]:
        return self.w.outbox[:limit]

    async def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        self.w.outbox = [m for m in self.w.outbox if m.id not in set(ids)]

    async def mark_failed(self, ids: Sequence[int], error: str, retry_at: datetime | None = None) -> None:
        return None

    async def lag(self) -> tuple[int, datetime | None]:
        return len(self.w.outbox), (self.w.outbox[0].created_at if self.w.outbox else None)


class FakeNationalOutbox:
    def __init__(self, w: World) -> None:
        self.w = w

    async def add(self, message: NationalMessage) -> None:
        self.w.national.append(replace(message, id=len(self.w.national) + 1))

    async def due(self, now: datetime, limit: int) -> list[NationalMessage]:
        heads: dict[str, NationalMessage] = {}
        for m in self.w.national:
            if m.state != "delivered" and m.petition_id not in heads:
                heads[m.petition_id] = m
        ready = [m for m in heads.values() if m.state == "pending" and (m.next_attempt_at or now) <= now]
        return sorted(ready, key=lambda m: m.id or 0)[:limit]

    async def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[NationalMessage]:
        taken = await self.due(now, limit)
        for m in taken:
            self._set(m.id or 0, next_attempt_at=lease_until)
        return taken

    async def release(self, message_id: int, at: datetime) -> None:
        self._set(message_id, next_attempt_at=at)

    def _set(self, message_id: int, **changes: object) -> None:
        self.w.national = [replace(m, **changes) if m.id == message_id else m for m in self.w.national]  # type: ignore[arg-type]

    async def mark_delivered(self, message_ids: Sequence[int], at: datetime) -> None:
        for message_id in message_ids:
            self._set(message_id, state="delivered")

    async def reschedule(
        self, message_id: int, next_attempt_at: datetime, error: str, *, unexpected: bool = False
    ) -> None:
        row = next(m for m in self.w.national if m.id == message_id)
        self._set(
            message_id, next_attempt_at=next_attempt_at, last_error=error, attempts=row.attempts + 1,
            unexpected_failures=row.unexpected_failures + int(unexpected),
        )

    async def mark_dead(self, message_id: int, reason: str, at: datetime) -> None:
        self._set(message_id, state="dead", last_error=reason)

    async def replay(self, message_id: int, at: datetime) -> bool:
        if not any(m.id == message_id and m.state == "dead" for m in self.w.national):
            return False
        self._set(message_id, state="pending", next_attempt_at=at, unexpected_failures=0)
        return True

    async def list(self, state: str, limit: int = 100) -> list[NationalMessage]:
        return [m for m in self.w.national if m.state == state][:limit]

    async def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.w.national:
            counts[m.state] = counts.get(m.state, 0) + 1
        return counts


class _Answers:
    def __init__(self, w: World) -> None:
        self.w = w

    async def add(self, answer: Answer) -> None:
        self.w.answers.append(answer)

    async def get(self, petition_id: str, answer_id: str) -> Answer | None:
        return next(
            (a for a in self.w.answers if (a.petition_id, a.answer_id) == (petition_id, answer_id)), None
        )

    async def for_petition(self, petition_id: str) -> list[Answer]:
        return [a for a in self.w.answers if a.petition_id == petition_id]


class _Log:
    def __init__(self, w: World) -> None:
        self.w = w

    async def append(self, entry: LogEntry) -> int:
        self.w.log.append(entry)
        return len(self.w.log)


class _Tokens:
    def __init__(self, w: World) -> None:
        self.w = w

    async def add(self, unit_code: str, token_hash: str, label: str, at: datetime) -> None:
        self.w.tokens[token_hash] = unit_code

    async def unit_for(self, token_hash: str) -> str | None:
        return self.w.tokens.get(token_hash)
