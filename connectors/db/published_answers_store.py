"""The public read side: answers both the citizen and the unit agreed to publish (gateway.public).

Consent is the `cases.publish_consent` column (migration 0008, copied from the petition). What
comes back is still the stored text, personal data included; gateway.public redacts it and checks the rule
again (gateway.domain.published.may_publish) before anything is shown.

Every call is a read-only transaction of its own (engine.read_only: never SQLite's write lock).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Select

from connectors.db.case_search_store import LIKE_ESCAPE, contains
from connectors.db.column_types import UtcDateTime
from connectors.db.engine import make_sessions, read_only
from connectors.db.errors import map_db_errors
from connectors.db.petition_codec import petition_from_json
from connectors.db.tables import AnswerRow, CaseRow
from gateway.domain.case import Status
from gateway.domain.published import PublicCursor, PublishedCandidate


class SqlPublishedAnswers:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = make_sessions(read_only(engine))

    async def page(
        self, *, prefilter: tuple[str, ...], after: PublicCursor | None, limit: int
    ) -> list[PublishedCandidate]:
        """Up to `limit` candidates after `after`, newest first. `prefilter`: folded words the
        case's search text must each contain (the petition's words; gateway.public filters again on
        what it will show, which excludes matches on the sender's name or address)."""
        statement = self._published()
        for word in prefilter:
            statement = statement.where(CaseRow.search_text.like(contains(word), escape=LIKE_ESCAPE))
        if after is not None:
            position = tuple_(AnswerRow.answered_at, AnswerRow.id)
            cursor = tuple_(literal(after.answered_at, UtcDateTime()), literal(after.row_id))
            statement = statement.where(position < cursor)
        statement = statement.order_by(AnswerRow.answered_at.desc(), AnswerRow.id.desc()).limit(limit)
        return await self._read(statement)

    async def of_petition(self, petition_id: str) -> list[PublishedCandidate]:
        statement = self._published().where(AnswerRow.petition_id == petition_id).order_by(AnswerRow.id)
        return await self._read(statement)

    async def document_of(self, petition_id: str, answer_id: str) -> PublishedCandidate | None:
        statement = self._published().where(
            AnswerRow.petition_id == petition_id, AnswerRow.answer_id == answer_id
        )
        found = await self._read(statement)
        return found[0] if found else None

    def _published(self) -> Select[*tuple[Any, ...]]:
        return (
            select(
                AnswerRow.id, AnswerRow.answer_id, AnswerRow.unit_code, AnswerRow.content,
                AnswerRow.answered_at, AnswerRow.publish, AnswerRow.signer_name, AnswerRow.signer_position,
                CaseRow.status, CaseRow.petition_json,
            )
            .join(CaseRow, CaseRow.petition_id == AnswerRow.petition_id)
            .where(
                AnswerRow.publish.is_(True),
                CaseRow.status == Status.COMPLETED.value,
                CaseRow.publish_consent.is_(True),
            )
        )

    async def _read(self, statement: Select[*tuple[Any, ...]]) -> list[PublishedCandidate]:
        with map_db_errors():
            async with self._sessions() as session:
                rows = (await session.execute(statement)).all()
        return [_candidate(row) for row in rows]


def _candidate(row: Row[Any]) -> PublishedCandidate:
    return PublishedCandidate(
        row_id=int(row.id),
        petition=petition_from_json(row.petition_json, ()),
        answer_id=row.answer_id,
        unit_code=row.unit_code,
        content=row.content,
        answered_at=row.answered_at,
        status=row.status,
        publish=bool(row.publish),
        signer_name=row.signer_name,
        signer_position=row.signer_position,
    )
