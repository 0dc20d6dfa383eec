"""The durable store: SQLAlchemy 2 (aiosqlite by default, asyncpg for PostgreSQL) behind the ports.

Wiring: `engine.make_engine(url)` → `migrate.upgrade(engine)` → `engine.make_sessions(engine)` →
`unit_of_work.SqlUnitOfWorkFactory(sessions)`. Library errors leave this package only as
`gateway.ports.StoreError` / `StoreConflict` (see `errors.py`).
"""
