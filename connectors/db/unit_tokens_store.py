"""Per-unit bearer tokens, stored as hashes only (see gateway.units.tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.tables import UnitTokenRow


class SqlUnitTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, unit_code: str, token_hash: str, label: str, at: datetime) -> None:
        row = {"unit_code": unit_code, "token_hash": token_hash, "label": label, "created_at": at}
        with map_db_errors():
            await self._session.execute(insert(UnitTokenRow).values(row))

    async def unit_for(self, token_hash: str) -> str | None:
        query = select(UnitTokenRow.unit_code).where(
            UnitTokenRow.token_hash == token_hash, UnitTokenRow.revoked_at.is_(None)
        )
        with map_db_errors():
            return (await self._session.execute(query)).scalar_one_or_none()

    async def revoke(self, token_hash: str, at: datetime) -> bool:
        """Not in the UnitTokens port (yet): True when a live token was revoked."""
        statement = (
            update(UnitTokenRow)
            .where(UnitTokenRow.token_hash == token_hash, UnitTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(UnitTokenRow.id)
        )
        with map_db_errors():
            result = await self._session.execute(statement, execution_options={"synchronize_session": False})
        return result.first() is not None
