"""Per-unit bearer tokens, stored as hashes only (see gateway.units.tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.tables import UnitTokenRow
from gateway.domain.case_views import UnitToken

_LISTED = (
    UnitTokenRow.id, UnitTokenRow.unit_code, UnitTokenRow.label, UnitTokenRow.created_at,
    UnitTokenRow.revoked_at,
)


class SqlUnitTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, unit_code: str, token_hash: str, label: str, at: datetime) -> int:
        row = {"unit_code": unit_code, "token_hash": token_hash, "label": label, "created_at": at}
        with map_db_errors():
            result = await self._session.execute(insert(UnitTokenRow).values(row).returning(UnitTokenRow.id))
            return int(result.scalar_one())

    async def unit_for(self, token_hash: str) -> str | None:
        query = select(UnitTokenRow.unit_code).where(
            UnitTokenRow.token_hash == token_hash, UnitTokenRow.revoked_at.is_(None)
        )
        with map_db_errors():
            return (await self._session.execute(query)).scalar_one_or_none()

    async def get_token(self, token_id: int) -> UnitToken | None:
        query = select(*_LISTED).where(UnitTokenRow.id == token_id)
        with map_db_errors():
            row = (await self._session.execute(query)).one_or_none()
        return None if row is None else UnitToken(*row)

    async def listing(self, unit_code: str | None = None) -> list[UnitToken]:
        query = select(*_LISTED).order_by(UnitTokenRow.id.desc())
        if unit_code is not None:
            query = query.where(UnitTokenRow.unit_code == unit_code)
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        return [UnitToken(*row) for row in rows]

    async def revoke_id(self, token_id: int, at: datetime) -> bool:
        statement = (
            update(UnitTokenRow)
            .where(UnitTokenRow.id == token_id, UnitTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(UnitTokenRow.id)
        )
        with map_db_errors():
            result = await self._session.execute(statement, execution_options={"synchronize_session": False})
        return result.first() is not None

    async def revoke(self, token_hash: str, at: datetime) -> bool:
        """By the token's hash (whoever holds the secret): True when a live token was revoked."""
        statement = (
            update(UnitTokenRow)
            .where(UnitTokenRow.token_hash == token_hash, UnitTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(UnitTokenRow.id)
        )
        with map_db_errors():
            result = await self._session.execute(statement, execution_options={"synchronize_session": False})
        return result.first() is not None
