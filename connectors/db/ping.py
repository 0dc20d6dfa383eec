"""Does the database answer? One trivial statement, for readiness probes."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import read_only


async def ping(engine: AsyncEngine) -> None:
    """``SELECT 1`` on a pooled connection; raises what the driver raises when it cannot. Read-only,
    so on SQLite it never waits for (or holds) the write lock."""
    async with read_only(engine).connect() as connection:
        await connection.execute(text("SELECT 1"))
