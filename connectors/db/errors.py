"""Library errors mapped to the ports' errors at the edge of the store.

IntegrityError (unique key, foreign key) ..................... StoreConflict
PostgreSQL serialization failure, deadlock, lock timeout ...... StoreConflict
SQLite "database is locked/busy" after the busy timeout ....... StoreConflict
any other driver/pool/connection error ........................ StoreError

A StoreConflict means a concurrent writer got there first: the caller may re-read and retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from gateway.ports import StoreConflict, StoreError

# SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available.
_PG_CONFLICTS = frozenset({"40001", "40P01", "55P03"})
_SQLITE_CONFLICTS = ("database is locked", "database is busy", "database table is locked")


@contextmanager
def map_db_errors() -> Iterator[None]:
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError) as exc:
        raise store_error_for(exc) from exc


def store_error_for(exc: BaseException) -> StoreError:
    if isinstance(exc, sa_exc.IntegrityError) or _is_concurrency_failure(exc):
        return StoreConflict(f"conflicting write: {_short(exc)}")
    return StoreError(f"store unavailable: {_short(exc)}")


def _is_concurrency_failure(exc: BaseException) -> bool:
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _PG_CONFLICTS:
        return True
    message = str(orig).lower()
    return isinstance(exc, sa_exc.OperationalError) and any(m in message for m in _SQLITE_CONFLICTS)


def _short(exc: BaseException) -> str:
    # SQLAlchemy's messages carry the statement and parameters (personal data): keep the cause only.
    if isinstance(exc, sa_exc.DBAPIError):
        return f"{type(exc.orig).__name__}: {str(exc.orig).splitlines()[0] if str(exc.orig) else ''}"
    return f"{type(exc).__name__}: {exc}"
