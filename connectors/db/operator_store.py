"""Operator accounts, sessions and actions (gateway.ports.Operators)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.tables import OperatorActionRow, OperatorRow, OperatorSessionRow
from gateway.domain.operators import OperatorAccount, OperatorAction, OperatorSession, Role


def _account(row: OperatorRow) -> OperatorAccount:
    return OperatorAccount(
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
        disabled=row.disabled,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        password_changed_at=row.password_changed_at,
    )


def _account_values(account: OperatorAccount) -> dict[str, object]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role.value,
        "password_hash": account.password_hash,
        "disabled": account.disabled,
        "failed_logins": account.failed_logins,
        "locked_until": account.locked_until,
        "created_at": account.created_at,
        "password_changed_at": account.password_changed_at,
    }


class SqlOperators:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: OperatorAccount) -> None:
        with map_db_errors():
            await self._session.execute(insert(OperatorRow).values(_account_values(account)))

    async def get(self, username: str) -> OperatorAccount | None:
        with map_db_errors():
            row = await self._session.get(OperatorRow, username, populate_existing=True)
        return None if row is None else _account(row)

    async def all(self) -> list[OperatorAccount]:
        with map_db_errors():
            rows = (await self._session.execute(select(OperatorRow).order_by(OperatorRow.username))).scalars()
            return [_account(r) for r in rows]

    async def save(self, account: OperatorAccount) -> None:
        values = _account_values(account)
        del values["username"], values["created_at"]
        statement = update(OperatorRow).where(OperatorRow.username == account.username).values(values)
        with map_db_errors():
            await self._session.execute(statement, execution_options={"synchronize_session": False})

    async def open_session(self, session: OperatorSession) -> None:
        values = {
            "token_hash": session.token_hash,
            "username": session.username,
            "csrf_token": session.csrf_token,
            "created_at": session.created_at,
            "last_seen_at": session.last_seen_at,
        }
        with map_db_errors():
            await self._session.execute(insert(OperatorSessionRow).values(values))

    async def find_session(self, token_hash: str) -> OperatorSession | None:
        with map_db_errors():
            row = await self._session.get(OperatorSessionRow, token_hash, populate_existing=True)
        if row is None:
            return None
        return OperatorSession(row.token_hash, row.username, row.csrf_token, row.created_at, row.last_seen_at)

    async def touch_session(self, token_hash: str, at: datetime) -> None:
        statement = (
            update(OperatorSessionRow)
            .where(OperatorSessionRow.token_hash == token_hash)
            .values(last_seen_at=at)
        )
        with map_db_errors():
            await self._session.execute(statement, execution_options={"synchronize_session": False})

    async def close_session(self, token_hash: str) -> None:
        statement = delete(OperatorSessionRow).where(OperatorSessionRow.token_hash == token_hash)
        with map_db_errors():
            await self._session.execute(statement, execution_options={"synchronize_session": False})

    async def close_sessions_of(self, username: str) -> int:
        statement = delete(OperatorSessionRow).where(OperatorSessionRow.username == username)
        with map_db_errors():
            result = await self._session.execute(statement, execution_options={"synchronize_session": False})
        return int(getattr(result, "rowcount", 0) or 0)

    async def record_action(self, action: OperatorAction) -> None:
        values = {
            "username": action.username,
            "action": action.action,
            "target": action.target,
            "detail": action.detail,
            "at": action.at,
        }
        with map_db_errors():
            await self._session.execute(insert(OperatorActionRow).values(values))

    async def actions(
        self, *, limit: int = 100, before_id: int | None = None, username: str | None = None
    ) -> list[OperatorAction]:
        query = select(OperatorActionRow).order_by(OperatorActionRow.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(OperatorActionRow.id < before_id)
        if username is not None:
            query = query.where(OperatorActionRow.username == username)
        with map_db_errors():
            rows = (await self._session.execute(query)).scalars()
            return [OperatorAction(r.username, r.action, r.target, r.detail, r.at, r.id) for r in rows]
