"""The receipt book: the inbound idempotency key, by MessageId."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.exchange import Receipt
from gateway.ports import StoreConflict

pytestmark = pytest.mark.integration

AT = datetime(2025, 5, 2, 8, 0, tzinfo=UTC)
MESSAGE_ID = "6f1c1b6e-8a43-4c55-9d4e-0d6f2b8f7a11"


async def test_remember_then_find(db_uow: SqlUnitOfWorkFactory) -> None:
    accepted = Receipt(MESSAGE_ID, "r-1", True)
    refused = Receipt("m-2", "r-2", False, error_code="Client.Schema", error_text="Thiếu trường Tiêu đề")
    async with db_uow() as uow:
        assert await uow.receipts.find(MESSAGE_ID) is None
        await uow.receipts.remember(accepted, operation="SubmitPetition", petition_id="PAKN-1", at=AT)
        await uow.receipts.remember(refused, operation="SubmitPetition", petition_id=None, at=AT)
        await uow.commit()
    async with db_uow() as uow:
        assert await uow.receipts.find(MESSAGE_ID) == accepted
        assert await uow.receipts.find("m-2") == refused
        assert await uow.receipts.find("m-3") is None


async def test_remembering_a_message_id_twice_is_a_conflict(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.receipts.remember(
            Receipt(MESSAGE_ID, "r-1", True), operation="SubmitPetition", petition_id="PAKN-1", at=AT
        )
        await uow.commit()
    with pytest.raises(StoreConflict):
        async with db_uow() as uow:
            await uow.receipts.remember(
                Receipt(MESSAGE_ID, "r-2", True), operation="SubmitPetition", petition_id="PAKN-1", at=AT
            )
            await uow.commit()
    async with db_uow() as uow:
        found = await uow.receipts.find(MESSAGE_ID)
    assert found is not None and found.receipt_id == "r-1"


async def test_concurrent_copies_of_a_message_one_wins(db_uow: SqlUnitOfWorkFactory) -> None:
    async def remember(n: int) -> str:
        try:
            async with db_uow() as uow:
                if await uow.receipts.find(MESSAGE_ID) is not None:
                    return "seen"
                await asyncio.sleep(0.01)
                await uow.receipts.remember(
                    Receipt(MESSAGE_ID, f"r-{n}", True),
                    operation="SubmitPetition",
                    petition_id="PAKN-1",
                    at=AT,
                )
                await uow.commit()
                return "stored"
        except StoreConflict:
            return "conflict"

    outcomes = await asyncio.gather(*(remember(n) for n in range(6)))
    assert outcomes.count("stored") == 1
    assert set(outcomes) <= {"stored", "seen", "conflict"}
