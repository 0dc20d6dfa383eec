"""Engines and sessions for SQLite (default) and PostgreSQL (production).

SQLite loses updates under concurrency with the driver's defaults, so every transaction starts with
`BEGIN IMMEDIATE` (SQLAlchemy's documented pysqlite/aiosqlite recipe): one writer at a time, the
others wait up to `busy_timeout`. WAL lets readers of committed data proceed meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connections kept open for reuse, and how many more may open in a burst. With
# SQLAlchemy's 5 kept, a loaded gateway (dozens of SOAP calls at once, each a few short
# transactions) closed and reopened connections all the time: a backend forked and every
# statement prepared again, per transaction (BENCHMARKS.md, the inbound profile).
POOL_SIZE = 20
POOL_OVERFLOW = 10
READ_ONLY = "pakn_read_only"  # execution option: see read_only()


def make_engine(
    url: str, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, pool_size: int = POOL_SIZE
) -> AsyncEngine:
    """An engine for `sqlite+aiosqlite:///path` or `postgresql+asyncpg://…`.

    `sqlite_busy_timeout_ms`: how long a SQLite transaction waits for the write lock before the
    store reports a StoreConflict. `pool_size`: PostgreSQL connections kept open (POOL_OVERFLOW
    more may open in a burst).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_busy_timeout_ms)
    engine = create_async_engine(parsed, pool_size=pool_size, max_overflow=POOL_OVERFLOW)
    event.listen(engine.sync_engine, "checkout", _closed_connections_replaced)
    return engine


def _closed_connections_replaced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed is replaced before anyone uses it.

    When PostgreSQL restarts or ends a backend, the client learns it from the socket (an error and
    end of file), and asyncpg marks the connection closed as the event loop reads that: asking
    `is_closed()` is free. This replaces `pool_pre_ping`, which asked the server at every checkout
    — BEGIN, an empty query and ROLLBACK, three round trips before each transaction: 100–300 µs of
    the gateway's CPU per transaction, ~10 % of a petition's (BENCHMARKS.md). What the local check
    cannot see — a connection that dies without the socket saying so, or dies once checked out —
    fails its transaction as a StoreError, which every caller already treats as passing; SQLAlchemy
    then drops that connection (and the pool's older ones) on its own.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")  # the pool connects afresh


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Rows are mapped to plain domain objects, so nothing needs expiring after a commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> AsyncEngine:
    _create_parent_directory(url)
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
    pragmas = (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        f"PRAGMA busy_timeout={int(busy_timeout_ms)}",
        "PRAGMA foreign_keys=ON",
    )

    def on_connect(dbapi_connection: Any, _connection_record: Any) -> None:
        # Take BEGIN away from the driver: SQLAlchemy emits it (below); COMMIT/ROLLBACK stay the driver's.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) for transactions that only read: on SQLite they begin DEFERRED,
    so a long read (a search scanning the cases table) works on its WAL snapshot and never holds
    the write lock the intake needs. PostgreSQL is unaffected."""
    return engine.execution_options(**{READ_ONLY: True})


def _on_sqlite_begin(connection: Connection) -> None:
    read = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def _create_parent_directory(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
