"""Database fixtures: every test that asks for `db_url` runs on SQLite and on PostgreSQL.

SQLite gets a file under the test's tmp_path; PostgreSQL a fresh database (`pakn_test_<random>`)
created through a maintenance connection and dropped afterwards, so tests never see each other's rows
and a run leaves nothing behind. Set PAKN_TEST_PG_URL to use another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory

PG_URL = os.environ.get("PAKN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def fresh_pg_database(base_url: str) -> AsyncIterator[str]:
    name = f"pakn_test_{uuid.uuid4().hex[:16]}"
    base = make_url(base_url)
    admin = create_async_engine(
        base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def sqlite_url(directory: Path) -> str:
    # A nested directory that does not exist yet: make_engine must create it.
    return f"sqlite+aiosqlite:///{directory / 'store' / 'gateway.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    async with fresh_pg_database(PG_URL) as url:
        yield url


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database (no schema yet)."""
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def db_migrated(db_engine: AsyncEngine) -> AsyncEngine:
    """The same engine after `connectors.db.migrate.upgrade`."""
    await upgrade(db_engine)
    return db_engine


@pytest.fixture
def db_uow(db_migrated: AsyncEngine) -> SqlUnitOfWorkFactory:
    """A unit-of-work factory on a migrated database."""
    return SqlUnitOfWorkFactory(make_sessions(db_migrated))
