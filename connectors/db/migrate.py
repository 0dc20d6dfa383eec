"""Schema migrations, run programmatically (no alembic.ini): at start-up, from the CLI and in tests.

`upgrade` shares the caller's engine connection with Alembic through `run_sync`, so it works inside
a running event loop (FastAPI lifespan). Concurrent starts are serialised — an advisory lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite — and the second finds the schema at head and does nothing.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.errors import map_db_errors

SCRIPT_LOCATION = "connectors.db:migrations"
# pg_advisory_xact_lock key: "PAKNMIG" in ASCII.
MIGRATION_LOCK_KEY = int.from_bytes(b"PAKNMIG", "big")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    with map_db_errors():
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            await connection.run_sync(_upgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    with map_db_errors():
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
