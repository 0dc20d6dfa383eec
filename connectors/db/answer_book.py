"""The ministry's answers, with their signed PDF letters."""

from __future__ import annotations

from sqlalchemy import case, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.column_types import UtcDateTime
from connectors.db.errors import map_db_errors
from connectors.db.tables import AnswerRow, CaseRow
from gateway.domain.answer import Answer


class SqlAnswerBook:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, answer: Answer) -> None:
        row = {
            "petition_id": answer.petition_id,
            "answer_id": answer.answer_id,
            "unit_code": answer.unit_code,
            "content": answer.content,
            "answered_at": answer.answered_at,
            "signer_name": answer.signer_name,
            "signer_position": answer.signer_position,
            "publish": answer.publish,
            "document_name": answer.document_name,
            "document": answer.document,
            "document_sha256": answer.document_sha256,
        }
        at = literal(answer.answered_at, UtcDateTime())
        first = case(
            (or_(CaseRow.first_answered_at.is_(None), CaseRow.first_answered_at > at), at),
            else_=CaseRow.first_answered_at,
        )
        with map_db_errors():
            await self._session.execute(insert(AnswerRow).values(row))
            # the case's first answer, which the reports count answers by (report_queries)
            await self._session.execute(
                update(CaseRow)
                .where(CaseRow.petition_id == answer.petition_id)
                .values(first_answered_at=first),
                execution_options={"synchronize_session": False},
            )

    async def get(self, petition_id: str, answer_id: str) -> Answer | None:
        query = select(AnswerRow).where(
            AnswerRow.petition_id == petition_id, AnswerRow.answer_id == answer_id
        )
        with map_db_errors():
            row = (await self._session.execute(query)).scalar_one_or_none()
        return None if row is None else _answer(row)

    async def for_petition(self, petition_id: str) -> list[Answer]:
        query = select(AnswerRow).where(AnswerRow.petition_id == petition_id).order_by(AnswerRow.id)
        with map_db_errors():
            rows = (await self._session.execute(query)).scalars().all()
        return [_answer(r) for r in rows]


def _answer(row: AnswerRow) -> Answer:
    return Answer(
        answer_id=row.answer_id,
        petition_id=row.petition_id,
        unit_code=row.unit_code,
        content=row.content,
        answered_at=row.answered_at,
        signer_name=row.signer_name,
        signer_position=row.signer_position,
        publish=row.publish,
        document_name=row.document_name,
        document=bytes(row.document),
        document_sha256=row.document_sha256,
    )
