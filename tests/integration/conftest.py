"""Database fixtures: every test that asks for `db_url` runs on SQLite and on PostgreSQL.

SQLite gets a file under the test's tmp_path; PostgreSQL a fresh database (`pakn_test_<random>`)
created through a maintenance connection and dropped afterwards, so tests never see each other's rows
and a run leaves nothing behind. Set PAKN_TEST_PG_URL to use another server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from tests.support.databases import PG_URL, fresh_pg_database, sqlite_url


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
