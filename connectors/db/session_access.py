"""Store-specific reads take either an AsyncSession or anything holding one (SqlUnitOfWork)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class HasSession(Protocol):
    @property
    def session(self) -> AsyncSession: ...


SessionSource = AsyncSession | HasSession


def session_of(source: SessionSource) -> AsyncSession:
    return source if isinstance(source, AsyncSession) else source.session
