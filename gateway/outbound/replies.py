"""The reply service: a unit's claim, note, answer or transfer, checked against the case's state
machine and committed with what it causes — the national portal's messages and, for a transfer,
the new unit's queue message — in one transaction. Idempotent by the reply's message_id.

Replies of different petitions that arrive while one transaction is being written go together in
the next one (group commit, `gateway/group_commit.py`): a reply still returns only once its own
transaction has committed, and one that fails (refused, or it lost a race) makes its group be
written again one reply per transaction, so it fails only itself. Within a group the cases are
locked in PetitionId order — the relay's confirm locks its cases in that order too — so two
transactions that each lock several cases cannot deadlock. A group of claims and notes of
different petitions (most of what units send) is written in a few statements for all of them
(`_write_batched`: about seven, where one by one is seven each); any other group reply by reply."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.domain.answer import Answer
from gateway.domain.case import Case, Status
from gateway.domain.errors import InvalidTransition, WrongUnit
from gateway.domain.exchange import Receipt, SeenMessage
from gateway.domain.national import answer_message, transfer_message
from gateway.domain.petition import Petition
from gateway.domain.reply import AnswerDraft, ReplyKind, UnitReply
from gateway.domain.routing import RoutingTable, Unit
from gateway.group_commit import GroupCommit
from gateway.inbound import case_message
from gateway.inbound.intake import new_id, utc_now
from gateway.outbound.errors import InvalidReply, ReplyError, UnknownCase, UnknownUnit
from gateway.ports import StoreConflict, UnitOfWork, UnitOfWorkFactory


class AnswerDocuments(Protocol):
    """Makes the signed PDF letter of an answer (rendering it when the unit sent none)."""

    async def signed_letter(
        self, *, petition: Petition, unit: Unit, draft: AnswerDraft, answer_id: str, at: datetime
    ) -> bytes: ...


@dataclass(frozen=True)
class ReplyResult:
    message_id: str
    petition_id: str
    status: str
    duplicate: bool = False
    answer_id: str | None = None


@dataclass(frozen=True)
class _Write:
    """One reply's transaction: the reply, and for an answer its petition and signed letter."""

    reply: UnitReply
    petition: Petition | None
    answer_id: str | None
    document: bytes | None


@dataclass
class Replies:
    uow: UnitOfWorkFactory
    routing: RoutingTable
    documents: AnswerDocuments
    on_commit: Callable[[], None] = lambda: None
    """After every commit: each applied reply adds a status to the national outbox (the sender's wake)."""
    on_unit_message: Callable[[], None] = lambda: None
    """After a commit that also queued a message for a unit (a transfer): the outbox relay's wake.
    The other replies leave the relay nothing, and waking it for each cost a query per reply."""
    on_reply: Callable[[str, str], None] = lambda kind, result: None
    """(reply kind, result) of every reply either door took: applied, duplicate, a refusal code, retry."""
    clock: Callable[[], datetime] = utc_now
    ids: Callable[[], str] = new_id
    group_size: int = 32
    """Replies per transaction at most (group commit); 1: each its own."""
    _answering: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    """Answers one at a time, claims and notes beside them: a letter is CPU under the interpreter
    lock, so answers side by side were slower (5.6–6.6/s against 6.6–7.2/s one at a time) and each
    waiting one held its petition in memory (bench/outbound.py, BENCHMARKS.md third round)."""
    _group: GroupCommit[_Write, ReplyResult] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._group = GroupCommit(
            lambda: self.uow(),  # read at each transaction: `uow` is a public field, and may be replaced
            self._write_group,
            max_batch=self.group_size,
            name="unit replies",
            expected=(ReplyError, InvalidTransition, WrongUnit, StoreConflict),
        )

    async def handle(self, reply: UnitReply) -> ReplyResult:
        """Apply one reply. Raises UnknownCase, UnknownUnit, InvalidReply, or the domain's
        InvalidTransition / WrongUnit; StoreConflict when another change to the case won a race."""
        if reply.kind is ReplyKind.ANSWER:
            async with self._answering:
                return await self._answer(reply)
        # Claims, notes and transfers need nothing made outside the store: one transaction.
        return await self._commit(reply, None, None, None)

    async def _answer(self, reply: UnitReply) -> ReplyResult:
        """The letter is rendered and signed between two transactions: no transaction (nor the
        case's row lock) is held for the seconds that can take."""
        if reply.answer is None:
            raise InvalidReply("an answer reply needs its content, signer and publish flag")
        async with self.uow() as uow:
            seen = await uow.receipts.find(reply.message_id)
            case = await uow.cases.get(reply.petition_id)
            petition = await uow.cases.petition(reply.petition_id) if case and seen is None else None
        if seen is not None:
            return ReplyResult(reply.message_id, reply.petition_id, _status(case), duplicate=True)
        if case is None or petition is None:
            raise UnknownCase(f"PetitionId {reply.petition_id} is unknown")
        unit = self._unit(reply.unit_code)
        _check_can_answer(case, reply.unit_code)  # fail fast: a doomed answer renders no letter
        answer_id = f"TL-{uuid.uuid4().hex[:12].upper()}"
        document = await self.documents.signed_letter(
            petition=petition, unit=unit, draft=reply.answer, answer_id=answer_id, at=reply.at
        )
        return await self._commit(reply, petition, answer_id, document)

    async def _commit(
        self, reply: UnitReply, petition: Petition | None, answer_id: str | None, document: bytes | None
    ) -> ReplyResult:
        """The reply and what it causes, in a group transaction; returns once that has committed."""
        result = await self._group.submit(_Write(reply, petition, answer_id, document))
        if not result.duplicate:
            self.on_commit()
            if reply.kind is ReplyKind.TRANSFER:
                self.on_unit_message()
        return result

    async def _write_group(self, uow: UnitOfWork, writes: Sequence[_Write]) -> list[ReplyResult]:
        """A group's replies in its transaction, their cases locked in PetitionId order (a stable
        sort: two replies of one petition keep the order they came in)."""
        if _batchable(writes):
            return await self._write_batched(uow, writes)
        results: dict[int, ReplyResult] = {}
        for index in sorted(range(len(writes)), key=lambda i: writes[i].reply.petition_id):
            results[index] = await self._write(uow, writes[index])
        return [results[index] for index in range(len(writes))]

    async def _write_batched(self, uow: UnitOfWork, writes: Sequence[_Write]) -> list[ReplyResult]:
        """Claims and notes of different petitions: what `_write` does for each, in a few
        statements for all — their receipts looked up at once, their cases locked at once (in
        PetitionId order), their new rows written at once. The same rows as one by one."""
        replies = [write.reply for write in writes]
        seen = await uow.receipts.find_many([r.message_id for r in replies])
        fresh = [r for r in replies if r.message_id not in seen]
        cases = await uow.cases.get_many([r.petition_id for r in fresh], for_update=True)
        results: dict[str, ReplyResult] = {}
        applied: list[Case] = []
        remembered: list[SeenMessage] = []
        for reply in fresh:
            case = cases.get(reply.petition_id)
            if case is None:
                raise UnknownCase(f"PetitionId {reply.petition_id} is unknown")
            self._unit(reply.unit_code)
            await self._apply(uow, case, None, reply, None, None)
            applied.append(case)
            receipt = Receipt(reply.message_id, self.ids(), accepted=True)
            operation = f"reply:{reply.kind.value}"
            remembered.append(SeenMessage(receipt, operation, reply.petition_id, self.clock()))
            results[reply.message_id] = ReplyResult(reply.message_id, reply.petition_id, case.status.value)
        await uow.cases.save_many(applied)
        await uow.receipts.remember_many(remembered)
        for reply in replies:
            if reply.message_id in seen:  # applied before (a copy): its case as it stands now
                status = _status(await uow.cases.get(reply.petition_id))
                results[reply.message_id] = ReplyResult(reply.message_id, reply.petition_id, status, True)
        return [results[reply.message_id] for reply in replies]

    async def _write(self, uow: UnitOfWork, write: _Write) -> ReplyResult:
        """One reply under its case's row lock, once per message_id."""
        reply, petition = write.reply, write.petition
        pid = reply.petition_id
        if await uow.receipts.find(reply.message_id) is not None:  # applied before (or a copy won)
            return ReplyResult(reply.message_id, pid, _status(await uow.cases.get(pid)), duplicate=True)
        fresh = await uow.cases.get(pid, for_update=True)
        if fresh is None:
            raise UnknownCase(f"PetitionId {pid} is unknown")
        self._unit(reply.unit_code)
        if petition is None and reply.kind is ReplyKind.TRANSFER:  # the new unit's case message
            petition = await uow.cases.petition(pid)
        await self._apply(uow, fresh, petition, reply, write.answer_id, write.document)
        await uow.cases.save(fresh)
        await uow.receipts.remember(
            Receipt(reply.message_id, self.ids(), accepted=True),
            operation=f"reply:{reply.kind.value}",
            petition_id=pid,
            at=self.clock(),
        )
        return ReplyResult(reply.message_id, pid, fresh.status.value, False, write.answer_id)

    async def _apply(
        self,
        uow: UnitOfWork,
        case: Case,
        petition: Petition | None,
        reply: UnitReply,
        answer_id: str | None,
        document: bytes | None,
    ) -> None:
        now, unit = reply.at, reply.unit_code
        case.reached(unit, now)  # the relay's confirm may still be on its way: 04 first, in order
        match reply.kind:
            case ReplyKind.CLAIM:
                case.claim(unit, now)
            case ReplyKind.NOTE:
                case.note(unit, now, _required(reply.note, "a note needs its text"))
            case ReplyKind.TRANSFER:
                target = self._unit(_required(reply.to_unit, "a transfer needs to_unit"))
                if target.code == unit:
                    raise InvalidReply("a transfer must name another unit")
                if petition is None:
                    raise UnknownCase(f"PetitionId {case.petition_id} has no stored petition")
                case.reassign(unit, target.code, now, reply.note or f"chuyển {target.name}")
                await uow.outbox.add(
                    case_message.build(
                        type_=case_message.NEW,
                        message_id=self.ids(),
                        case=case,
                        unit=target,
                        at=self.clock(),
                        petition=petition,
                    )
                )
            case ReplyKind.TRANSFER_OUT:
                reason = _required(reply.note, "a transfer out of the ministry needs its reason")
                case.transfer_out(unit, now, reason)
                # Inserted before save() adds the 07 status: the request goes out first.
                await uow.national.add(
                    transfer_message(case.petition_id, reason, reply.suggested_organ_id, now)
                )
            case ReplyKind.ANSWER:
                draft = reply.answer
                if draft is None or document is None or answer_id is None:
                    raise InvalidReply("an answer reply needs its content")
                if case.status is Status.ASSIGNED:
                    case.claim(unit, now)  # answering a case is working on it
                    await uow.cases.save(case)  # the portal hears 05 before the answer
                answer = Answer(
                    answer_id=answer_id,
                    petition_id=case.petition_id,
                    unit_code=unit,
                    content=draft.content,
                    answered_at=now,
                    signer_name=draft.signer_name,
                    signer_position=draft.signer_position,
                    publish=draft.publish,
                    document_name=f"{case.petition_id}-{answer_id}.pdf",
                    document=document,
                    document_sha256=hashlib.sha256(document).hexdigest(),
                )
                case.complete(unit, now)
                await uow.answers.add(answer)
                # Inserted before save() adds the 06: the answer reaches the portal before the 06.
                await uow.national.add(answer_message(answer, now))

    def _unit(self, code: str) -> Unit:
        unit = self.routing.unit(code)
        if unit is None:
            raise UnknownUnit(f"unit {code} is not in config/")
        return unit


_BATCHED = frozenset({ReplyKind.CLAIM, ReplyKind.NOTE})
"""What a group writes in a few statements: replies that change only their own case (no letter,
no message for another unit, no transfer request) — most of what units send."""


def _batchable(writes: Sequence[_Write]) -> bool:
    """More than one, all claims or notes, no two of one petition or with one MessageId (those go
    one after another, each seeing what the one before wrote)."""
    replies = [write.reply for write in writes]
    return (
        len(replies) > 1
        and all(reply.kind in _BATCHED for reply in replies)
        and len({reply.petition_id for reply in replies}) == len(replies)
        and len({reply.message_id for reply in replies}) == len(replies)
    )


def _check_can_answer(case: Case, unit_code: str) -> None:
    """The transaction's own rules, tried on a copy before the letter is rendered and signed."""
    probe = Case(case.petition_id, case.unit_code, case.fingerprint, history=list(case.history))
    at = case.history[-1].changed_at
    probe.reached(unit_code, at)
    if probe.status is Status.ASSIGNED:
        probe.claim(unit_code, at)
    probe.complete(unit_code, at)


def _required(value: str | None, message: str) -> str:
    if not value or not value.strip():
        raise InvalidReply(message)
    return value


def _status(case: Case | None) -> str:
    return case.status.value if case else ""
