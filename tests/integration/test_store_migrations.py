"""Migrations: idempotent, in step with tables.py, usable from a running loop and from Alembic's CLI path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_engine
from connectors.db.migrate import alembic_config, current_revision, upgrade
from connectors.db.tables import metadata
from tests.integration.conftest import sqlite_url

pytestmark = pytest.mark.integration

HEAD = "0009_public_letters"


async def test_upgrade_twice_is_idempotent(db_engine: AsyncEngine) -> None:
    assert await current_revision(db_engine) is None
    await upgrade(db_engine)
    assert await current_revision(db_engine) == HEAD
    await upgrade(db_engine)
    assert await current_revision(db_engine) == HEAD
    async with db_engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(metadata.tables) <= tables


async def test_concurrent_upgrades_do_not_collide(db_engine: AsyncEngine) -> None:
    await asyncio.gather(*(upgrade(db_engine) for _ in range(3)))
    assert await current_revision(db_engine) == HEAD


async def test_migration_creates_exactly_what_tables_py_declares(db_migrated: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        dialect = connection.dialect.name

        def include(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
            # an index tables.py declares for one dialect only (pg_trgm GIN) is not expected elsewhere
            only = getattr(obj, "info", {}).get("only_dialect") if kind == "index" else None
            return only is None or only == dialect

        opts = {"compare_type": True, "include_object": include}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, metadata))

    async with db_migrated.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_alembic_without_a_shared_connection_uses_sqlalchemy_url(db_url: str) -> None:
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    # env.py then runs its own event loop, so it must run outside this one (as the alembic CLI does).
    await asyncio.to_thread(command.upgrade, config, "head")
    engine = make_engine(db_url)
    try:
        assert await current_revision(engine) == HEAD
    finally:
        await engine.dispose()


async def test_sqlite_engine_is_configured_for_durability_and_one_writer(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 30000, "foreign_keys": 1}
    assert (tmp_path / "store" / "gateway.db").is_file()
