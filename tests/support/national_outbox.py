"""Filling a national outbox for the store tests of its claims and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.case import Case
from tests.unit.samples import petition

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def fill(db_uow: SqlUnitOfWorkFactory, petitions: int, at: datetime = NOW) -> None:
    """Cases that arrived: each puts 01 (Seq 1, the head) and 03 (Seq 2, behind it) in the outbox."""
    async with db_uow() as uow:
        for n in range(petitions):
            sample = petition(f"P-{n}")
            await uow.cases.add(Case.arrive(f"P-{n}", "CVL", sample.fingerprint(), at), sample)
        await uow.commit()
