"""Cases and their status history; the petition behind each case, attachments included."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import BindParameter, Row, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.attachments import insert_attachments, load_attachments
from connectors.db.errors import map_db_errors
from connectors.db.key_lists import key_chunks
from connectors.db.national_outbox_store import SqlNationalOutbox
from connectors.db.petition_codec import petition_from_json, petition_to_json
from connectors.db.tables import CaseRow, StatusHistoryRow
from connectors.db.transaction_state import transaction_state
from gateway.domain.case import Case, Status, StatusChange
from gateway.domain.deadlines import Deadline, DueSource
from gateway.domain.exchange import CaseSummary
from gateway.domain.national import status_message
from gateway.domain.petition import Petition
from gateway.domain.search import SearchKeys, search_keys
from gateway.ports import StoreConflict, StoreError

# Built once: built per call, a statement costs ~80 µs more CPU (BENCHMARKS.md, issue 7)
_HEAD = select(CaseRow.unit_code, CaseRow.fingerprint).where(CaseRow.petition_id == bindparam("pid"))
_HEAD_LOCKED = _HEAD.with_for_update()  # PostgreSQL row lock; SQLite's BEGIN IMMEDIATE serialises
_LOCK = select(CaseRow.petition_id).where(CaseRow.petition_id == bindparam("pid")).with_for_update()
_PETITION = select(CaseRow.petition_json).where(CaseRow.petition_id == bindparam("pid"))
_CASES = cast(Table, CaseRow.__table__)
_LOCKED = "pakn_locked_histories"  # transaction_state: petition_id → history read under its lock
# The Core tables, not the ORM entities: the ORM's bulk-insert path and `.values(row)` built per
# call were ~7 % of the intake's samples (py-spy, BENCHMARKS.md fifth round)
_ADD_CASE = insert(_CASES)
_ADD_HISTORY = insert(cast(Table, StatusHistoryRow.__table__))
_HISTORY = (
    select(
        StatusHistoryRow.seq, StatusHistoryRow.status, StatusHistoryRow.unit_code,
        StatusHistoryRow.description, StatusHistoryRow.changed_at,
    )
    .where(StatusHistoryRow.petition_id == bindparam("pid"))
    .order_by(StatusHistoryRow.seq)
)
# Several cases at once (a group of unit replies, the relay's confirm); the lists' lengths: key_lists
_HEADS_OF = select(CaseRow.petition_id, CaseRow.unit_code, CaseRow.fingerprint).where(
    CaseRow.petition_id.in_(bindparam("pids", expanding=True))
)
_HEADS = _HEADS_OF.order_by(CaseRow.petition_id)
_HEADS_LOCKED = _HEADS.with_for_update()  # SQLite: BEGIN IMMEDIATE serialises, no row locks
# PostgreSQL locks in its ORDER BY's order, which follows the database's collation (en_US, ICU…
# sort "hn-1" before "HN-2"); a transaction that takes several case locks one by one takes them
# in Python's order (code points). The "C" collation is byte order, which for UTF-8 is code-point
# order: the same order everywhere, so no two lockers can wait for each other in a circle.
_HEADS_LOCKED_PG = _HEADS_OF.order_by(CaseRow.petition_id.collate("C")).with_for_update()
_HISTORIES = (
    select(
        StatusHistoryRow.petition_id, StatusHistoryRow.seq, StatusHistoryRow.status,
        StatusHistoryRow.unit_code, StatusHistoryRow.description, StatusHistoryRow.changed_at,
    )
    .where(StatusHistoryRow.petition_id.in_(bindparam("pids", expanding=True)))
    .order_by(StatusHistoryRow.petition_id, StatusHistoryRow.seq)
)


class SqlCaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _locked_now(self) -> dict[str, list[StatusChange]] | None:
        """Histories read (or written) under the case's row lock in the current transaction: `save`
        needs no second lock and read for them (`transaction_state`: forgotten with the
        transaction and its locks, not trusted in a savepoint). A listener on the session's
        transaction end did this before; registering it cost ~1 % of the gateway, at every unit of
        work, most of which never touch a case."""
        locked: dict[str, list[StatusChange]] | None = transaction_state(self._session, _LOCKED, dict)
        return locked

    async def get(self, petition_id: str, *, for_update: bool = False) -> Case | None:
        head = _HEAD_LOCKED if for_update else _HEAD
        with map_db_errors():
            found = (await self._session.execute(head, {"pid": petition_id})).one_or_none()
            if found is None:
                return None
            history = await self._history(petition_id)
        locked = self._locked_now() if for_update else None
        if locked is not None:
            locked[petition_id] = list(history)
        unit_code, fingerprint = found
        return Case(petition_id, unit_code, fingerprint, history=history, events=[])

    async def add(self, case: Case, petition: Petition, *, deadline: Deadline | None = None) -> None:
        """Store a new case. `deadline` is its due date (gateway.domain.deadlines); without one the
        portal's DueAt is kept if any, and a case lacking both is left for the deadline backfill."""
        if case.petition_id != petition.petition_id:
            raise ValueError(f"case {case.petition_id} does not belong to petition {petition.petition_id}")
        if not case.history:
            raise ValueError(f"case {case.petition_id} has no status yet: create it with Case.arrive")
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
            "created_at": case.history[0].changed_at,
            "updated_at": case.history[-1].changed_at,
            **search_columns(search_keys(petition)),
            **deadline_columns(petition, deadline),
            **report_columns(petition),
            **timeline_columns(case.history),
        }
        with map_db_errors():
            await self._session.execute(_ADD_CASE, row)
            await self._insert_history(case.petition_id, case.history, before=None)
            await insert_attachments(self._session, petition.petition_id, None, petition.attachments)

    async def get_many(self, petition_ids: Sequence[str], *, for_update: bool = False) -> dict[str, Case]:
        """The stored cases among `petition_ids`, in two statements for up to 512 (with `for_update`, the rows
        locked first, in PetitionId order, and the histories read after the locks)."""
        heads_query = _HEADS
        if for_update:
            postgresql = self._session.get_bind().dialect.name == "postgresql"
            heads_query = _HEADS_LOCKED_PG if postgresql else _HEADS_LOCKED
        heads: list[Row[str, str, str]] = []
        with map_db_errors():
            # sorted by code point, as every locker of several cases takes them: chunks and locks
            for chunk in key_chunks(sorted(set(petition_ids))):
                heads.extend((await self._session.execute(heads_query, {"pids": chunk})).all())
            histories: dict[str, list[StatusChange]] = {pid: [] for pid, _, _ in heads}
            for chunk in key_chunks(list(histories)):  # read once every lock is held
                rows = (await self._session.execute(_HISTORIES, {"pids": chunk})).all()
                for pid, seq, status, unit, text, at in rows:
                    histories[pid].append(StatusChange(seq, Status(status), unit, text, at))
        locked = self._locked_now() if for_update else None
        if locked is not None:
            for pid, history in histories.items():
                locked[pid] = list(history)
        return {
            pid: Case(pid, unit_code, fingerprint, history=histories[pid], events=[])
            for pid, unit_code, fingerprint in heads
        }

    async def save(self, case: Case) -> None:
        """Append the changes above the stored history; the stored part must be the case's own.

        A case read before another transaction changed it has a history that diverges from the
        stored one: that is a StoreConflict, never an overwrite nor a silently dropped change.
        """
        await self.save_many([case])

    async def save_many(self, cases: Sequence[Case]) -> None:
        """`save` of each (cases of different petitions), their new rows in one statement per table
        and their cases' UPDATEs in one per set of timeline columns."""
        if len({case.petition_id for case in cases}) != len(cases):
            raise ValueError("save_many takes each case once")
        changed: list[tuple[Case, list[StatusChange], list[StatusChange]]] = []
        for case in sorted(cases, key=lambda c: c.petition_id):  # any lock still to take: in order
            stored = await self._stored_history(case.petition_id)
            common = min(len(stored), len(case.history))
            if stored[:common] != case.history[:common]:
                raise StoreConflict(f"case {case.petition_id} changed since it was read")
            new = case.history[len(stored) :]
            if new:
                changed.append((case, stored, new))
        if not changed:
            return
        updates: dict[frozenset[str], list[dict[str, object]]] = {}
        for case, _, new in changed:
            timeline = timeline_columns(new)
            updates.setdefault(frozenset(timeline), []).append(
                {
                    "pid": case.petition_id,
                    "new_unit_code": case.unit_code,
                    "new_status": case.status.value,
                    "new_updated_at": new[-1].changed_at,
                    **{f"new_{column}": at for column, at in timeline.items()},
                }
            )
        with map_db_errors():
            await self._insert_histories(
                [(case.petition_id, new, stored[-1] if stored else None) for case, stored, new in changed]
            )
            for timeline_set, values in updates.items():
                await self._session.execute(_case_update(timeline_set), values)
        locked = self._locked_now()
        if locked is not None:  # locked now either way; this is what is stored
            for case, _, _ in changed:
                locked[case.petition_id] = list(case.history)

    async def _stored_history(self, pid: str) -> list[StatusChange]:
        """The history read under the case's lock in this transaction; else lock it and read it now."""
        locked = self._locked_now()
        stored = locked.get(pid) if locked is not None else None
        if stored is not None:
            return stored
        with map_db_errors():
            if (await self._session.execute(_LOCK, {"pid": pid})).one_or_none() is None:
                raise StoreError(f"case {pid} is not stored: add it before saving it")
            return await self._history(pid)

    async def petition(self, petition_id: str) -> Petition | None:
        with map_db_errors():
            raw = (await self._session.execute(_PETITION, {"pid": petition_id})).scalar_one_or_none()
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
        return [CaseSummary(*row) for row in rows]

    async def count_by_status(self) -> dict[str, int]:
        query = select(CaseRow.status, func.count()).group_by(CaseRow.status).order_by(CaseRow.status)
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        return dict(row for row in rows)

    async def _history(self, petition_id: str) -> list[StatusChange]:
        rows = (await self._session.execute(_HISTORY, {"pid": petition_id})).all()
        return [StatusChange(seq, Status(status), unit, text, at) for seq, status, unit, text, at in rows]

    async def _insert_history(
        self, petition_id: str, changes: Sequence[StatusChange], *, before: StatusChange | None
    ) -> None:
        await self._insert_histories([(petition_id, changes, before)])

    async def _insert_histories(
        self, histories: Sequence[tuple[str, Sequence[StatusChange], StatusChange | None]]
    ) -> None:
        """Store status changes, and with each one the ReceiveStatus that tells the national portal:
        every status change goes out, so none can be stored without its message (DESIGN §2, §4).
        Each is (petition, its new changes, the stored change they follow: None for a case's first)."""
        histories = [h for h in histories if h[1]]
        if not histories:
            return
        # one statement for all of them, in order: their ids keep the order they go out in
        messages = [status_message(pid, c, c.changed_at) for pid, changes, _ in histories for c in changes]
        await SqlNationalOutbox(self._session).add_all(messages)
        rows = [
            {
                "petition_id": pid,
                "seq": c.seq,
                "status": c.status.value,
                "unit_code": c.unit_code,
                "description": c.description,
                "changed_at": c.changed_at,
                "moved_from": moved_from(previous, c),
            }
            for pid, changes, before in histories
            for previous, c in zip([before, *changes[:-1]], changes, strict=True)
        ]
        await self._session.execute(_ADD_HISTORY, rows)


@cache
def _case_update(timeline: frozenset[str]) -> Update:
    """The case row's UPDATE after new status changes, built once per set of timeline columns
    they set (of accepted_at and closed_at: four statements at most); each of those keeps the
    first time recorded (COALESCE)."""
    def new(column: str) -> BindParameter[object]:
        return bindparam(f"new_{column}", type_=_CASES.c[column].type)

    values: dict[str, object] = {column: new(column) for column in ("unit_code", "status", "updated_at")}
    for column in sorted(timeline):
        values[column] = func.coalesce(_CASES.c[column], new(column))
    return update(_CASES).where(_CASES.c.petition_id == bindparam("pid")).values(values)


def search_columns(keys: SearchKeys) -> dict[str, object]:
    """The search keys as `cases` columns (the operators' case search reads them); `due_at` is
    the deadline's (deadline_columns), not a search key's."""
    return {"search_text": keys.text, "sender_search": keys.sender, "sender_phone": keys.phone}


def deadline_columns(petition: Petition, deadline: Deadline | None) -> dict[str, object]:
    """`due_at` and `due_source`: the deadline given, else the portal's DueAt, else not computed yet."""
    if deadline is not None:
        return {"due_at": deadline.due_at, "due_source": deadline.source.value}
    if petition.due_at is not None:
        return {"due_at": petition.due_at, "due_source": DueSource.PORTAL.value}
    return {"due_at": None, "due_source": None}


def report_columns(petition: Petition) -> dict[str, object]:
    """What reports group by, as plain columns (connectors.db.report_queries)."""
    address = petition.sender.address
    return {
        "channel": petition.channel.value,
        "province_code": address.province_code if address is not None else None,
        "publish_consent": petition.publish_consent,
    }


TIMELINE = {
    Status.ACCEPTED: "accepted_at",
    Status.REJECTED: "closed_at",
    Status.COMPLETED: "closed_at",
    Status.TRANSFERRED: "closed_at",
    Status.WITHDRAWN: "closed_at",
}


def timeline_columns(changes: Sequence[StatusChange]) -> dict[str, datetime]:
    """The case's first 03 and first closing status among `changes`, as `cases` columns (the
    reports' acceptance and closing times)."""
    found: dict[str, datetime] = {}
    for change in changes:
        column = TIMELINE.get(change.status)
        if column is not None:
            found.setdefault(column, change.changed_at)
    return found


def moved_from(previous: StatusChange | None, change: StatusChange) -> str | None:
    """The unit a 04 took the case from, when it is a transfer between units (a note at 04 repeats
    the holder's 04 and moves nothing); the reports count transfers by it."""
    if change.status is Status.ASSIGNED and previous is not None and previous.unit_code != change.unit_code:
        return previous.unit_code
    return None
