"""Cases and their status history; the petition behind each case, attachments included."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.attachments import insert_attachments, load_attachments
from connectors.db.errors import map_db_errors
from connectors.db.petition_codec import petition_from_json, petition_to_json
from connectors.db.tables import CaseRow, StatusHistoryRow
from gateway.domain.case import Case, Status, StatusChange
from gateway.domain.exchange import CaseSummary
from gateway.domain.petition import Petition
from gateway.ports import StoreConflict, StoreError


class SqlCaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # The last seq known stored when this transaction read or wrote each case: `save` appends
        # after it, and a history that grew meanwhile is a conflict, never an overwrite.
        self._known_seq: dict[str, int] = {}

    async def get(self, petition_id: str, *, for_update: bool = False) -> Case | None:
        head = select(CaseRow.unit_code, CaseRow.fingerprint).where(CaseRow.petition_id == petition_id)
        if for_update:
            head = head.with_for_update()  # PostgreSQL row lock; SQLite's BEGIN IMMEDIATE serialises
        with map_db_errors():
            found = (await self._session.execute(head)).one_or_none()
            if found is None:
                return None
            history = await self._history(petition_id)
        unit_code, fingerprint = found.tuple()
        self._known_seq[petition_id] = history[-1].seq if history else 0
        return Case(petition_id, unit_code, fingerprint, history=history, events=[])

    async def add(self, case: Case, petition: Petition) -> None:
        if case.petition_id != petition.petition_id:
            raise ValueError(f"case {case.petition_id} does not belong to petition {petition.petition_id}")
        first = case.history[0].changed_at if case.history else datetime.now(UTC)
        last = case.history[-1].changed_at if case.history else first
        row = {
            "petition_id": petition.petition_id,
            "kind": petition.kind.value,
            "sender_type": petition.sender.type.value,
            "field_code": petition.field_code,
            "unit_code": case.unit_code,
            "status": case.status.value,
            "fingerprint": case.fingerprint,
            "title": petition.title,
            "petition_json": petition_to_json(petition),
            "received_at": petition.received_at,
            "created_at": first,
            "updated_at": last,
        }
        with map_db_errors():
            await self._session.execute(insert(CaseRow).values(row))
            await self._insert_history(case.petition_id, case.history)
            await insert_attachments(self._session, petition.petition_id, None, petition.attachments)
        self._known_seq[case.petition_id] = case.history[-1].seq if case.history else 0

    async def save(self, case: Case) -> None:
        pid = case.petition_id
        lock = select(CaseRow.petition_id).where(CaseRow.petition_id == pid).with_for_update()
        with map_db_errors():
            if (await self._session.execute(lock)).one_or_none() is None:
                raise StoreError(f"case {pid} is not stored: add it before saving it")
            stored = await self._stored_seq(pid)
        known = self._known_seq.get(pid, stored)
        if stored != known:
            raise StoreConflict(f"case {pid} changed since it was read (seq {known}, now {stored})")
        new = [change for change in case.history if change.seq > stored]
        if not new:
            return
        values = {"unit_code": case.unit_code, "status": case.status.value, "updated_at": new[-1].changed_at}
        with map_db_errors():
            await self._insert_history(pid, new)
            await self._session.execute(
                update(CaseRow).where(CaseRow.petition_id == pid).values(values),
                execution_options={"synchronize_session": False},
            )
        self._known_seq[pid] = new[-1].seq

    async def petition(self, petition_id: str) -> Petition | None:
        query = select(CaseRow.petition_json).where(CaseRow.petition_id == petition_id)
        with map_db_errors():
            raw = (await self._session.execute(query)).scalar_one_or_none()
            if raw is None:
                return None
            attachments = await load_attachments(self._session, petition_id, None)
        return petition_from_json(raw, attachments)

    async def list_for_unit(
        self, unit_code: str, *, statuses: Sequence[str] | None = None, limit: int = 100, offset: int = 0
    ) -> list[CaseSummary]:
        query = (
            select(
                CaseRow.petition_id, CaseRow.kind, CaseRow.title, CaseRow.unit_code, CaseRow.status,
                CaseRow.received_at, CaseRow.updated_at,
            )
            .where(CaseRow.unit_code == unit_code)
            .order_by(CaseRow.received_at, CaseRow.petition_id)
            .limit(limit)
            .offset(offset)
        )
        if statuses is not None:
            query = query.where(CaseRow.status.in_(list(statuses)))
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        return [CaseSummary(*row.tuple()) for row in rows]

    async def count_by_status(self) -> dict[str, int]:
        query = select(CaseRow.status, func.count()).group_by(CaseRow.status).order_by(CaseRow.status)
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        return dict(row.tuple() for row in rows)

    async def _history(self, petition_id: str) -> list[StatusChange]:
        query = (
            select(
                StatusHistoryRow.seq, StatusHistoryRow.status, StatusHistoryRow.unit_code,
                StatusHistoryRow.description, StatusHistoryRow.changed_at,
            )
            .where(StatusHistoryRow.petition_id == petition_id)
            .order_by(StatusHistoryRow.seq)
        )
        rows = (await self._session.execute(query)).all()
        return [StatusChange(seq, Status(status), unit, text, at) for seq, status, unit, text, at in rows]

    async def _stored_seq(self, petition_id: str) -> int:
        query = select(func.coalesce(func.max(StatusHistoryRow.seq), 0)).where(
            StatusHistoryRow.petition_id == petition_id
        )
        return int((await self._session.execute(query)).scalar_one())

    async def _insert_history(self, petition_id: str, changes: Sequence[StatusChange]) -> None:
        if not changes:
            return
        rows = [
            {
                "petition_id": petition_id,
                "seq": c.seq,
                "status": c.status.value,
                "unit_code": c.unit_code,
                "description": c.description,
                "changed_at": c.changed_at,
            }
            for c in changes
        ]
        await self._session.execute(insert(StatusHistoryRow), rows)

