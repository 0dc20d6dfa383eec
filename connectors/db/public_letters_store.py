"""Public copies of answer letters, kept once signed (gateway.public.letter_copy)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.db.engine import make_sessions
from connectors.db.errors import map_db_errors
from connectors.db.tables import PublicLetterRow
from gateway.ports import StoreConflict


class SqlPublicLetters:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = make_sessions(engine)

    async def get(self, petition_id: str, answer_id: str) -> bytes | None:
        query = select(PublicLetterRow.pdf).where(
            PublicLetterRow.petition_id == petition_id, PublicLetterRow.answer_id == answer_id
        )
        async with self._sessions() as session:
            with map_db_errors():
                return (await session.execute(query)).scalar_one_or_none()

    async def keep(self, petition_id: str, answer_id: str, pdf: bytes, at: datetime) -> bytes:
        """Keeps `pdf`; if another instance kept one first, that one is returned (one copy for all)."""
        row = {
            "petition_id": petition_id,
            "answer_id": answer_id,
            "pdf": pdf,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "created_at": at,
        }
        try:
            async with self._sessions() as session:
                with map_db_errors():
                    await session.execute(insert(PublicLetterRow).values(row))
                    await session.commit()
        except StoreConflict:
            kept = await self.get(petition_id, answer_id)
            if kept is not None:
                return kept
            raise
        return pdf
