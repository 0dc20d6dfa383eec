"""The operators' read side (gateway.ports.CaseReads): case search and what a case page shows.

Search is one indexed statement per page: equality filters, LIKE '%…%' over the folded columns
(pg_trgm GIN indexes on PostgreSQL, a scan on SQLite), then keyset paging on
(received_at DESC, petition_id DESC) as a row-value comparison, which both databases answer from
the (received_at, petition_id) indexes — page 1000 costs what page 1 costs; there is no OFFSET.
Every call is a read-only transaction of its own (engine.read_only: never SQLite's write lock).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.db.column_types import UtcDateTime
from connectors.db.engine import make_sessions, read_only
from connectors.db.errors import map_db_errors
from connectors.db.petition_codec import petition_from_json
from connectors.db.tables import (
    AnswerRow,
    AttachmentRow,
    CaseRow,
    FeedbackRow,
    MessageLogRow,
    PetitionUpdateRow,
    StatusHistoryRow,
)
from gateway.domain.case import Status, StatusChange
from gateway.domain.case_views import (
    AnswerView,
    AttachmentView,
    CaseDetail,
    CaseHit,
    Document,
    FeedbackView,
    LoggedMessage,
    UpdateView,
)
from gateway.domain.search import OPEN_STATUSES, CaseQuery

LIKE_ESCAPE = "\\"


def contains(folded: str) -> str:
    """A LIKE pattern finding `folded` anywhere, its own % and _ taken literally."""
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_statement(query: CaseQuery) -> Select[*tuple[Any, ...]]:
    statement = select(
        CaseRow.petition_id, CaseRow.kind, CaseRow.status, CaseRow.unit_code, CaseRow.field_code,
        CaseRow.title, CaseRow.sender_type, CaseRow.petition_json, CaseRow.received_at, CaseRow.due_at,
        CaseRow.updated_at,
    )
    if query.petition_id is not None:
        statement = statement.where(CaseRow.petition_id == query.petition_id)
    if query.text:
        statement = statement.where(CaseRow.search_text.like(contains(query.text), escape=LIKE_ESCAPE))
    if query.sender:
        statement = statement.where(CaseRow.sender_search.like(contains(query.sender), escape=LIKE_ESCAPE))
    if query.phone is not None:
        statement = statement.where(CaseRow.sender_phone == query.phone)
    if query.statuses:
        statement = statement.where(CaseRow.status.in_(query.statuses))
    if query.units:
        statement = statement.where(CaseRow.unit_code.in_(query.units))
    if query.fields:
        statement = statement.where(CaseRow.field_code.in_(query.fields))
    if query.kinds:
        statement = statement.where(CaseRow.kind.in_(query.kinds))
    if query.overdue:
        # IN, not NOT IN: each open status is then one due_at range of ix_cases_status_due_at, which
        # reads the overdue cases only (SQLite otherwise sorted every open case: BENCHMARKS.md)
        statement = statement.where(
            CaseRow.status.in_(OPEN_STATUSES), CaseRow.due_at < literal(query.now, UtcDateTime())
        )
    if query.due_before is not None:
        statement = statement.where(
            CaseRow.status.in_(OPEN_STATUSES),
            CaseRow.due_at >= literal(query.now, UtcDateTime()),
            CaseRow.due_at < literal(query.due_before, UtcDateTime()),
        )
    if query.after is not None:
        position = tuple_(CaseRow.received_at, CaseRow.petition_id)
        cursor = tuple_(literal(query.after.received_at, UtcDateTime()), literal(query.after.petition_id))
        statement = statement.where(position < cursor)
    return statement.order_by(CaseRow.received_at.desc(), CaseRow.petition_id.desc()).limit(query.limit + 1)


class SqlCaseReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = make_sessions(read_only(engine))

    async def search(self, query: CaseQuery) -> list[CaseHit]:
        with map_db_errors():
            async with self._sessions() as session:
                rows = (await session.execute(search_statement(query))).all()
        return [_hit(row) for row in rows]

    async def detail(self, petition_id: str) -> CaseDetail | None:
        with map_db_errors():
            async with self._sessions() as session:
                return await _detail(session, petition_id)

    async def raw_message(self, petition_id: str, entry_id: int) -> Document | None:
        query = select(
            MessageLogRow.direction, MessageLogRow.operation, MessageLogRow.raw, MessageLogRow.raw_sha256
        ).where(MessageLogRow.id == entry_id, MessageLogRow.petition_id == petition_id)
        with map_db_errors():
            async with self._sessions() as session:
                row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        direction, operation, raw, digest = row
        name = f"{petition_id}-{entry_id}-{direction}-{operation}.xml"
        return Document(name, "application/xml", digest, bytes(raw))

    async def answer_document(self, petition_id: str, answer_id: str) -> Document | None:
        query = select(AnswerRow.document_name, AnswerRow.document_sha256, AnswerRow.document).where(
            AnswerRow.petition_id == petition_id, AnswerRow.answer_id == answer_id
        )
        with map_db_errors():
            async with self._sessions() as session:
                row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        name, digest, data = row
        return Document(name, "application/pdf", digest, bytes(data))

    async def attachment(self, petition_id: str, attachment_id: int) -> Document | None:
        query = select(
            AttachmentRow.file_name, AttachmentRow.content_type, AttachmentRow.sha256, AttachmentRow.data
        ).where(AttachmentRow.id == attachment_id, AttachmentRow.petition_id == petition_id)
        with map_db_errors():
            async with self._sessions() as session:
                row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        name, content_type, digest, data = row
        return Document(name, content_type, digest, bytes(data))


def _hit(row: Any) -> CaseHit:
    # the sender as the petition JSON keeps it; only a page of rows is ever decoded
    sender: dict[str, Any] = json.loads(row.petition_json)["sender"]
    return CaseHit(
        petition_id=row.petition_id,
        kind=row.kind,
        status=row.status,
        unit_code=row.unit_code,
        field_code=row.field_code,
        title=row.title,
        sender_type=row.sender_type,
        sender_name=sender["full_name"],
        organization_name=sender.get("organization_name"),
        phone=sender.get("phone"),
        email=sender.get("email"),
        id_number=sender.get("id_number"),
        received_at=row.received_at,
        due_at=row.due_at,
        updated_at=row.updated_at,
    )


async def _detail(session: AsyncSession, petition_id: str) -> CaseDetail | None:
    head = select(
        CaseRow.status, CaseRow.unit_code, CaseRow.created_at, CaseRow.updated_at, CaseRow.petition_json,
        CaseRow.due_at, CaseRow.due_source,
    ).where(CaseRow.petition_id == petition_id)
    found = (await session.execute(head)).one_or_none()
    if found is None:
        return None
    status, unit_code, created_at, updated_at, petition_json, due_at, due_source = found
    history = (
        await session.execute(
            select(
                StatusHistoryRow.seq, StatusHistoryRow.status, StatusHistoryRow.unit_code,
                StatusHistoryRow.description, StatusHistoryRow.changed_at,
            )
            .where(StatusHistoryRow.petition_id == petition_id)
            .order_by(StatusHistoryRow.seq)
        )
    ).all()
    attachments = (
        await session.execute(
            select(
                AttachmentRow.id, AttachmentRow.update_id, AttachmentRow.file_name,
                AttachmentRow.content_type, AttachmentRow.size, AttachmentRow.sha256,
            )
            .where(AttachmentRow.petition_id == petition_id)
            .order_by(AttachmentRow.id)
        )
    ).all()
    updates = (
        await session.execute(
            select(
                PetitionUpdateRow.id, PetitionUpdateRow.message_id, PetitionUpdateRow.action,
                PetitionUpdateRow.content, PetitionUpdateRow.at,
            )
            .where(PetitionUpdateRow.petition_id == petition_id)
            .order_by(PetitionUpdateRow.id)
        )
    ).all()
    feedback = (
        await session.execute(
            select(
                FeedbackRow.message_id, FeedbackRow.answer_id, FeedbackRow.rating, FeedbackRow.comment,
                FeedbackRow.at,
            )
            .where(FeedbackRow.petition_id == petition_id)
            .order_by(FeedbackRow.id)
        )
    ).all()
    answers = (
        await session.execute(
            select(
                AnswerRow.answer_id, AnswerRow.unit_code, AnswerRow.content, AnswerRow.answered_at,
                AnswerRow.signer_name, AnswerRow.signer_position, AnswerRow.publish,
                AnswerRow.document_name, AnswerRow.document_sha256, func.length(AnswerRow.document),
            )
            .where(AnswerRow.petition_id == petition_id)
            .order_by(AnswerRow.id)
        )
    ).all()
    messages = (
        await session.execute(
            select(
                MessageLogRow.id, MessageLogRow.direction, MessageLogRow.peer, MessageLogRow.operation,
                MessageLogRow.message_id, MessageLogRow.signature_verdict, MessageLogRow.signer,
                MessageLogRow.outcome, MessageLogRow.created_at, func.length(MessageLogRow.raw),
                MessageLogRow.raw_sha256,
            )
            .where(MessageLogRow.petition_id == petition_id)
            .order_by(MessageLogRow.id)
        )
    ).all()
    return CaseDetail(
        petition=petition_from_json(petition_json, ()),
        status=status,
        unit_code=unit_code,
        created_at=created_at,
        updated_at=updated_at,
        history=tuple(StatusChange(seq, Status(s), unit, text, at) for seq, s, unit, text, at in history),
        attachments=tuple(AttachmentView(*row) for row in attachments),
        updates=tuple(UpdateView(*row) for row in updates),
        feedback=tuple(FeedbackView(*row) for row in feedback),
        answers=tuple(AnswerView(*row) for row in answers),
        messages=tuple(
            LoggedMessage(i, d, peer, op, mid, verdict, signer, outcome, at, int(size or 0), digest)
            for i, d, peer, op, mid, verdict, signer, outcome, at, size, digest in messages
        ),
        due_at=due_at,
        due_source=due_source,
    )
