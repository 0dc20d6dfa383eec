"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

PG_URL = os.environ.get("PAKN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def fresh_pg_database(base_url: str, options: str = "") -> AsyncIterator[str]:
    """A database of its own, dropped afterwards; `options` go after CREATE DATABASE's name."""
    name = f"pakn_test_{uuid.uuid4().hex[:16]}"
    base = make_url(base_url)
    admin = create_async_engine(
        base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}" {options}'.rstrip())
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
