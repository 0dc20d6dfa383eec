"""Supplements, withdrawals and satisfaction feedback, each kept under the MessageId that brought it."""

from __future__ import annotations

from sqlalchemy import insert, literal, select
from sqlalchemy import update as update_statement
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.attachments import insert_attachments
from connectors.db.errors import map_db_errors
from connectors.db.tables import AnswerRow, CaseRow, FeedbackRow, PetitionUpdateRow
from gateway.domain.petition import Feedback, PetitionUpdate
from gateway.domain.search import supplement_text


class SqlUpdateBook:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_update(self, update: PetitionUpdate, *, message_id: str) -> None:
        row = {
            "message_id": message_id,
            "petition_id": update.petition_id,
            "action": update.action.value,
            "content": update.content,
            "at": update.at,
        }
        with map_db_errors():
            result = await self._session.execute(
                insert(PetitionUpdateRow).values(row).returning(PetitionUpdateRow.id)
            )
            update_id = result.scalar_one()
            await insert_attachments(self._session, update.petition_id, update_id, update.attachments)
            extra = supplement_text(update)
            if extra is not None:  # what the citizen added is found with the case
                await self._session.execute(
                    update_statement(CaseRow)
                    .where(CaseRow.petition_id == update.petition_id)
                    .values(search_text=CaseRow.search_text + literal(" " + extra)),
                    execution_options={"synchronize_session": False},
                )

    async def add_feedback(self, feedback: Feedback, *, message_id: str) -> None:
        row = {
            "message_id": message_id,
            "petition_id": feedback.petition_id,
            "answer_id": feedback.answer_id,
            "rating": feedback.rating,
            "comment": feedback.comment,
            "at": feedback.at,
            # what the reports' satisfaction tables group by, copied now so they read this table
            # alone: the answering unit (None when the answer is unknown) and the case's field
            "unit_code": select(AnswerRow.unit_code)
            .where(AnswerRow.petition_id == feedback.petition_id, AnswerRow.answer_id == feedback.answer_id)
            .scalar_subquery(),
            "field_code": select(CaseRow.field_code)
            .where(CaseRow.petition_id == feedback.petition_id)
            .scalar_subquery(),
        }
        with map_db_errors():
            await self._session.execute(insert(FeedbackRow).values(row))
