"""The reports' reads (gateway.reports): counts grouped in SQL, and the per-case rows whose
arithmetic needs the working-day calendar (answered cases, the open backlog), nothing more.

Periods are half-open instants [start, end). A case is *received* in a period by its `received_at`;
*answered* by its first answer's `answered_at`; it is *open* at an instant when it was received
before it and has no closing status (02, 06, 07, 08) recorded before it. Channel and the sender's
province live inside `cases.petition_json`, read with the database's JSON functions
(`json_extract` on SQLite, `jsonb` paths on PostgreSQL).

Every call is a read-only transaction of its own (engine.read_only: never SQLite's write lock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select, cast
from sqlalchemy.sql.elements import Label

from connectors.db.column_types import UtcDateTime
from connectors.db.engine import make_sessions, read_only
from connectors.db.errors import map_db_errors
from connectors.db.tables import AnswerRow, CaseRow, FeedbackRow, StatusHistoryRow
from gateway.domain.case import Status
from gateway.domain.report_data import (
    SATISFIED_FROM,
    AnsweredCase,
    Dimension,
    GroupCount,
    Movements,
    OpenCase,
    RatingGroup,
)

CLOSING = (Status.REJECTED.value, Status.COMPLETED.value, Status.TRANSFERRED.value, Status.WITHDRAWN.value)


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UtcDateTime())


class SqlReportQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = make_sessions(read_only(engine))
        self._dialect = engine.dialect.name

    def _json_text(self, *path: str) -> ColumnElement[str]:
        if self._dialect == "postgresql":
            document = cast(CaseRow.petition_json, JSONB)
            value: ColumnElement[str] = document[path].astext if len(path) > 1 else document[path[0]].astext
            return value
        extracted: ColumnElement[str] = func.json_extract(CaseRow.petition_json, "$." + ".".join(path))
        return extracted

    def _key(self, dimension: Dimension) -> SQLColumnExpression[Any]:
        keys: dict[Dimension, SQLColumnExpression[Any]] = {
            Dimension.KIND: CaseRow.kind,
            Dimension.FIELD: CaseRow.field_code,
            Dimension.UNIT: CaseRow.unit_code,
            Dimension.SENDER_TYPE: CaseRow.sender_type,
            Dimension.CHANNEL: self._json_text("channel"),
            Dimension.PROVINCE: self._json_text("sender", "address", "province_code"),
        }
        return keys[dimension]

    async def received(self, dimension: Dimension, start: datetime, end: datetime) -> list[GroupCount]:
        key: Label[Any] = self._key(dimension).label("key")
        statement = (
            select(key, func.count().label("n"))
            .where(CaseRow.received_at >= _at(start), CaseRow.received_at < _at(end))
            .group_by(key)
        )
        rows = await self._all(statement)
        return [GroupCount(None if r.key is None else str(r.key), int(r.n)) for r in rows]

    async def answered(self, start: datetime, end: datetime) -> list[AnsweredCase]:
        first_answer = (
            select(AnswerRow.petition_id, func.min(AnswerRow.answered_at).label("answered_at"))
            .group_by(AnswerRow.petition_id)
            .subquery()
        )
        accepted = (
            select(StatusHistoryRow.petition_id, func.min(StatusHistoryRow.changed_at).label("accepted_at"))
            .where(StatusHistoryRow.status == Status.ACCEPTED.value)
            .group_by(StatusHistoryRow.petition_id)
            .subquery()
        )
        statement = (
            select(
                CaseRow.petition_id,
                CaseRow.unit_code,
                CaseRow.field_code,
                CaseRow.received_at,
                CaseRow.due_at,
                first_answer.c.answered_at,
                accepted.c.accepted_at,
            )
            .join(first_answer, first_answer.c.petition_id == CaseRow.petition_id)
            .outerjoin(accepted, accepted.c.petition_id == CaseRow.petition_id)
            .where(first_answer.c.answered_at >= _at(start), first_answer.c.answered_at < _at(end))
        )
        # subquery columns lose the UtcDateTime type on SQLite: read them back as instants
        return [
            AnsweredCase(
                petition_id=r.petition_id,
                unit_code=r.unit_code,
                field_code=r.field_code,
                started_at=_instant(r.accepted_at) or r.received_at,
                answered_at=_required(r.answered_at),
                due_at=r.due_at,
            )
            for r in await self._all(statement)
        ]

    async def open_at(self, moment: datetime) -> list[OpenCase]:
        closed = exists().where(
            StatusHistoryRow.petition_id == CaseRow.petition_id,
            StatusHistoryRow.status.in_(CLOSING),
            StatusHistoryRow.changed_at < _at(moment),
        )
        accepted = (
            select(func.min(StatusHistoryRow.changed_at))
            .where(
                StatusHistoryRow.petition_id == CaseRow.petition_id,
                StatusHistoryRow.status == Status.ACCEPTED.value,
                StatusHistoryRow.changed_at < _at(moment),
            )
            .scalar_subquery()
        )
        statement = select(
            CaseRow.petition_id,
            CaseRow.unit_code,
            CaseRow.received_at,
            CaseRow.due_at,
            accepted.label("accepted_at"),
        ).where(CaseRow.received_at < _at(moment), ~closed)
        return [
            OpenCase(r.petition_id, r.unit_code, _instant(r.accepted_at) or r.received_at, r.due_at)
            for r in await self._all(statement)
        ]

    async def movements(self, start: datetime, end: datetime) -> Movements:
        in_period = and_(StatusHistoryRow.changed_at >= _at(start), StatusHistoryRow.changed_at < _at(end))
        earlier = aliased(StatusHistoryRow)
        reassigned = exists().where(  # an earlier 04 of the same case: this one moved it on
            earlier.petition_id == StatusHistoryRow.petition_id,
            earlier.status == Status.ASSIGNED.value,
            earlier.seq < StatusHistoryRow.seq,
        )
        statement = select(
            func.count(case((and_(StatusHistoryRow.status == Status.ASSIGNED.value, reassigned), 1))),
            func.count(case((StatusHistoryRow.status == Status.TRANSFERRED.value, 1))),
            func.count(case((StatusHistoryRow.status == Status.WITHDRAWN.value, 1))),
        ).where(in_period)
        [row] = await self._all(statement)
        return Movements(int(row[0]), int(row[1]), int(row[2]))

    async def ratings(self, by_unit: bool, start: datetime, end: datetime) -> list[RatingGroup]:
        """Feedback given within the period, by the answering unit or by the case's field."""
        key = (AnswerRow.unit_code if by_unit else CaseRow.field_code).label("key")
        statement = (
            select(
                key,
                func.count().label("n"),
                func.coalesce(func.sum(FeedbackRow.rating), 0).label("total"),
                func.count(case((FeedbackRow.rating >= SATISFIED_FROM, 1))).label("satisfied"),
            )
            .select_from(FeedbackRow)
            .join(CaseRow, CaseRow.petition_id == FeedbackRow.petition_id)
            .outerjoin(
                AnswerRow,
                and_(
                    AnswerRow.petition_id == FeedbackRow.petition_id,
                    AnswerRow.answer_id == FeedbackRow.answer_id,
                ),
            )
            .where(FeedbackRow.at >= _at(start), FeedbackRow.at < _at(end))
            .group_by(key)
        )
        return [
            RatingGroup(None if r.key is None else str(r.key), int(r.n), int(r.total), int(r.satisfied))
            for r in await self._all(statement)
        ]

    async def _all(self, statement: Select[*tuple[Any, ...]]) -> list[Any]:
        with map_db_errors():
            async with self._sessions() as session:
                return list((await session.execute(statement)).all())


def _instant(value: Any) -> datetime | None:
    """An aggregate's instant: PostgreSQL gives an aware datetime, SQLite the stored text."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return UtcDateTime().process_result_value(moment, None)  # type: ignore[arg-type]


def _required(value: Any) -> datetime:
    moment = _instant(value)
    if moment is None:  # pragma: no cover - the join guarantees an answer
        raise ValueError("an answered case without its answer's time")
    return moment
