"""The inbound service: each national push is one transaction — the state change, the receipt
and the outbox row commit together, or nothing does. Idempotent by MessageId."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.domain.case import Case
from gateway.domain.deadlines import DeadlinePolicy
from gateway.domain.exchange import Receipt
from gateway.domain.petition import Feedback, Header, Petition, PetitionUpdate, UpdateAction
from gateway.domain.routing import RoutingTable, Unit
from gateway.inbound import case_message
from gateway.inbound.errors import PetitionExists, UnknownAnswer, UnknownPetition
from gateway.ports import StoreConflict, UnitOfWork, UnitOfWorkFactory

Work = Callable[[UnitOfWork, Receipt], Awaitable[Receipt]]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Intake:
    uow: UnitOfWorkFactory
    routing: RoutingTable
    on_commit: Callable[[], None] = lambda: None  # wakes the outbox relay
    clock: Callable[[], datetime] = utc_now
    ids: Callable[[], str] = new_id
    conflict_retries: int = 3
    # due dates at acceptance (working days on the calendar, or the portal's DueAt); None: the
    # portal's DueAt only, the rest left to the deadline backfill
    deadlines: DeadlinePolicy | None = None

    async def submit_petition(self, header: Header, petition: Petition) -> Receipt:
        async def work(uow: UnitOfWork, receipt: Receipt) -> Receipt:
            existing = await uow.cases.get(petition.petition_id)
            if existing is not None:
                if existing.fingerprint == petition.fingerprint():
                    # Same petition under a new MessageId: a resend. Nothing new is created.
                    return receipt.as_duplicate()
                raise PetitionExists(f"PetitionId {petition.petition_id} exists with different content")
            unit = self.routing.route(petition.field_code, petition.kind, petition.sender.type)
            now = self.clock()
            case = Case.arrive(petition.petition_id, unit.code, petition.fingerprint(), now)
            deadline = self.deadlines.due_for(petition, now) if self.deadlines else None
            await uow.cases.add(case, petition, deadline=deadline)
            await uow.outbox.add(
                case_message.build(
                    type_=case_message.NEW,
                    message_id=self.ids(),
                    case=case,
                    unit=unit,
                    at=now,
                    petition=petition,
                )
            )
            return receipt

        return await self._once(header, "SubmitPetition", petition.petition_id, work)

    async def submit_update(self, header: Header, update: PetitionUpdate) -> Receipt:
        async def work(uow: UnitOfWork, receipt: Receipt) -> Receipt:
            case = await self._case(uow, update.petition_id)
            now = self.clock()
            if update.action is UpdateAction.WITHDRAW:
                case.withdraw(now)
                type_ = case_message.WITHDRAWN
            else:
                case.accept_supplement()
                type_ = case_message.SUPPLEMENT
            await uow.updates.add_update(update, message_id=header.message_id)
            await uow.cases.save(case)
            await uow.outbox.add(
                case_message.build(
                    type_=type_,
                    message_id=self.ids(),
                    case=case,
                    unit=self._unit(case),
                    at=now,
                    update=update,
                )
            )
            return receipt

        return await self._once(header, "SubmitPetitionUpdate", update.petition_id, work)

    async def submit_feedback(self, header: Header, feedback: Feedback) -> Receipt:
        async def work(uow: UnitOfWork, receipt: Receipt) -> Receipt:
            case = await self._case(uow, feedback.petition_id)
            if await uow.answers.get(feedback.petition_id, feedback.answer_id) is None:
                raise UnknownAnswer(f"petition {feedback.petition_id} has no answer {feedback.answer_id}")
            now = self.clock()
            await uow.updates.add_feedback(feedback, message_id=header.message_id)
            await uow.outbox.add(
                case_message.build(
                    type_=case_message.FEEDBACK,
                    message_id=self.ids(),
                    case=case,
                    unit=self._unit(case),
                    at=now,
                    feedback=feedback,
                )
            )
            return receipt

        return await self._once(header, "SubmitFeedback", feedback.petition_id, work)

    async def status(self, petition_id: str) -> Case:
        async with self.uow() as uow:
            case = await uow.cases.get(petition_id)
        if case is None:
            raise UnknownPetition(f"PetitionId {petition_id} is unknown")
        return case

    async def _case(self, uow: UnitOfWork, petition_id: str) -> Case:
        case = await uow.cases.get(petition_id, for_update=True)
        if case is None:
            raise UnknownPetition(f"PetitionId {petition_id} is unknown")
        return case

    def _unit(self, case: Case) -> Unit:
        unit = self.routing.unit(case.unit_code)
        # A unit removed from config/ still holds its old cases: send them to triage, never drop them.
        return unit or self.routing.units[self.routing.triage]

    async def _once(self, header: Header, operation: str, petition_id: str, work: Work) -> Receipt:
        """Run `work` once per MessageId; a repeat gets the first receipt back with Duplicate=true."""
        attempt = 1
        while True:
            try:
                async with self.uow() as uow:
                    seen = await uow.receipts.find(header.message_id)
                    if seen is not None:
                        return seen.as_duplicate()
                    receipt = await work(uow, Receipt(header.message_id, self.ids(), accepted=True))
                    await uow.receipts.remember(
                        receipt, operation=operation, petition_id=petition_id, at=self.clock()
                    )
                    await uow.commit()
            except StoreConflict:
                # A concurrent copy of this message (or of this petition) committed first: look again.
                if attempt >= self.conflict_retries:
                    raise
                attempt += 1
                continue
            self.on_commit()
            return receipt
