"""What a repository learnt under the locks its transaction holds — a case's history read under its
row lock, the message log's head under the chain's lock — kept for that transaction only.

Such knowledge is true while the locks are held, that is until the top-level transaction ends; a
later transaction on the same session must read again. Inside a savepoint nothing is trusted (it
may roll back what was read or written), and what was kept is dropped: once released, a
savepoint's writes belong to the transaction but are not in what was kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def transaction_state(session: AsyncSession, key: str, new: Callable[[], T]) -> T | None:
    """The state kept under `key` (in `session.info`) for the session's current top-level
    transaction, made by `new()` when that transaction has none yet; None when no transaction is
    active or a savepoint is open."""
    sync = session.sync_session
    if sync.get_nested_transaction() is not None:
        sync.info.pop(key, None)
        return None
    transaction = sync.get_transaction()
    if transaction is None or not transaction.is_active:
        return None
    kept = sync.info.get(key)
    if kept is None or kept[0] is not transaction:
        kept = (transaction, new())
        sync.info[key] = kept
    return cast(T, kept[1])
