"""PostgreSQL ends the gateway's pooled connections (a restart, an operator's pg_terminate_backend):
the next transactions get new connections and succeed — without a ping to the server before each
one (`connectors/db/engine.py` checks, for free, whether the server has closed the connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from tests.support.databases import PG_URL, fresh_pg_database
from tests.support.gateway import eventually

pytestmark = pytest.mark.integration

POOLED = 3


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_pg_database(PG_URL) as url:
        yield url


async def backend_pids(engine: AsyncEngine, count: int) -> set[int]:
    """`count` connections checked out at once (so the pool keeps that many), their backends' pids."""
    gate = asyncio.Barrier(count)

    async def one() -> int:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await gate.wait()  # every connection is out before any goes back
            return int(pid)

    return set(await asyncio.gather(*(one() for _ in range(count))))


async def terminate(url: str, pids: set[int]) -> None:
    """End those backends as a restart would, and wait until the server has let them go."""
    admin = create_async_engine(url, poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            for pid in pids:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        async def gone() -> bool | None:
            async with admin.connect() as connection:
                rows = await connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": list(pids)}
                )
                return True if rows.scalar_one() == 0 else None

        await eventually(gone, 10, f"backends {pids} still there")
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # an idle event loop reads each socket's end of file, as a gateway's does


async def test_transactions_after_the_server_ended_every_pooled_connection_succeed(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=POOLED)
    try:
        await upgrade(engine)
        before = await backend_pids(engine, POOLED)
        assert len(before) == POOLED
        await terminate(pg_url, before)

        uow = SqlUnitOfWorkFactory(make_sessions(engine))

        async def read() -> None:
            async with uow() as work:
                assert await work.cases.get("PAKN-KHONG-CO") is None

        await asyncio.gather(*(read() for _ in range(POOLED)))  # no StoreError: fresh connections
        after = await backend_pids(engine, POOLED)
        assert after.isdisjoint(before)
    finally:
        await engine.dispose()


async def test_a_transaction_sends_the_server_nothing_but_its_own_statements(pg_url: str) -> None:
    """What a pre-ping cost: BEGIN, an empty query and ROLLBACK before every transaction."""
    engine = make_engine(pg_url, pool_size=1)
    sent: list[str] = []
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            driver.add_query_logger(lambda record: sent.append(record.query.strip()))
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                await connection.commit()
    finally:
        await engine.dispose()
    assert sent == ["BEGIN;", "COMMIT;"] * 3  # (prepared statements, as SELECT 1 here, are not logged)
