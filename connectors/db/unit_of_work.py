"""One transaction over the store (gateway.ports.UnitOfWork). Leaving without `commit()` rolls back."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.db.answer_book import SqlAnswerBook
from connectors.db.case_repository import SqlCaseRepository
from connectors.db.deadline_store import SqlDeadlineBook
from connectors.db.errors import map_db_errors
from connectors.db.message_log_store import SqlMessageLog
from connectors.db.national_outbox_store import SqlNationalOutbox
from connectors.db.operator_store import SqlOperators
from connectors.db.outbox_store import SqlOutbox
from connectors.db.receipt_book import SqlReceiptBook
from connectors.db.unit_tokens_store import SqlUnitTokens
from connectors.db.update_book import SqlUpdateBook
from gateway.ports import (
    AnswerBook,
    CaseRepository,
    DeadlineBook,
    MessageLog,
    NationalOutbox,
    Operators,
    Outbox,
    ReceiptBook,
    UnitTokens,
    UpdateBook,
)


class SqlUnitOfWork:
    cases: CaseRepository
    receipts: ReceiptBook
    updates: UpdateBook
    outbox: Outbox
    national: NationalOutbox
    answers: AnswerBook
    message_log: MessageLog
    tokens: UnitTokens
    operators: Operators
    deadlines: DeadlineBook

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        # The session connects (and, on SQLite, takes the write lock) on its first statement.
        self._session = sessions()
        self.cases = SqlCaseRepository(self._session)
        self.receipts = SqlReceiptBook(self._session)
        self.updates = SqlUpdateBook(self._session)
        self.outbox = SqlOutbox(self._session)
        self.national = SqlNationalOutbox(self._session)
        self.answers = SqlAnswerBook(self._session)
        self.message_log = SqlMessageLog(self._session)
        self.tokens = SqlUnitTokens(self._session)
        self.operators = SqlOperators(self._session)
        self.deadlines = SqlDeadlineBook(self._session)

    @property
    def session(self) -> AsyncSession:
        """For store-specific reads (connectors.db.queries, verify_chain) inside this transaction."""
        return self._session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            with map_db_errors():
                await self._session.close()  # rolls back whatever was not committed
        except Exception:
            if exc is None:
                raise
            # The block's own error says more than a failed rollback after it.

    async def commit(self) -> None:
        with map_db_errors():
            await self._session.commit()

    async def rollback(self) -> None:
        with map_db_errors():
            await self._session.rollback()


class SqlUnitOfWorkFactory:
    """`gateway.ports.UnitOfWorkFactory`: a new, independent transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
