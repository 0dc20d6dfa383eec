"""Ports: what the services need from the outside world, as Protocols. Connectors implement them.

Errors a port may raise (connectors map their library's exceptions to these):
StoreError
└── StoreConflict   a concurrent writer got there first (unique key, lost race); safe to re-read
NationalError
├── NationalRefused      the portal refused the message for good (a Client.* fault: schema,
│                        unknown petition…): dead-letter it with the reason, never retry blindly
└── NationalUnavailable  it may work later (network, timeout, HTTP 5xx, Server.* fault, a receipt
                         that does not verify): retry with backoff
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from gateway.domain.answer import Answer
from gateway.domain.case import Case
from gateway.domain.case_views import CaseDetail, CaseHit, Document, UnitToken
from gateway.domain.deadlines import Deadline, DueCase, SentReminder, UndatedCase
from gateway.domain.exchange import (
    CaseSummary,
    LogEntry,
    NationalMessage,
    OutboxMessage,
    PetitionPage,
    Receipt,
    SeenMessage,
)
from gateway.domain.operators import OperatorAccount, OperatorAction, OperatorSession
from gateway.domain.petition import Feedback, Petition, PetitionUpdate
from gateway.domain.search import CaseQuery


class StoreError(Exception):
    code = "Server.StoreUnavailable"


class StoreConflict(StoreError):
    code = "Server.Conflict"


class NationalError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NationalRefused(NationalError):
    pass


class NationalUnavailable(NationalError):
    pass


class NationalPort(Protocol):
    """The national portal's NationalExchange, as the gateway calls it."""

    async def send(self, message: NationalMessage) -> Receipt:
        """Deliver one message (signed by the gateway); the portal's Receipt, or a NationalError."""


class NationalListing(Protocol):
    """The national portal's `ListPetitions`: pull mode and nightly reconciliation."""

    async def list_petitions(
        self, *, organ_id: str, since: datetime | None, cursor: str | None, limit: int
    ) -> PetitionPage:
        """One page of the petitions addressed to `organ_id`, verified; or a NationalError."""


class CaseRepository(Protocol):
    async def get(self, petition_id: str, *, for_update: bool = False) -> Case | None: ...
    async def add(self, case: Case, petition: Petition, *, deadline: Deadline | None = None) -> None:
        """Store a new case with its due date (the portal's DueAt alone when no deadline is given)."""
    async def save(self, case: Case) -> None:
        """Persist the case's unit and every status change not stored yet."""
    async def get_many(self, petition_ids: Sequence[str], *, for_update: bool = False) -> dict[str, Case]:
        """The stored ones of these cases, by PetitionId, in a few statements whatever their number;
        `for_update` locks their rows in PetitionId order."""
    async def save_many(self, cases: Sequence[Case]) -> None:
        """`save` for each of these cases (of different petitions), their writes in a few statements;
        each case's statuses go to the national outbox in order."""

    async def petition(self, petition_id: str) -> Petition | None: ...
    async def list_for_unit(
        self, unit_code: str, *, statuses: Sequence[str] | None = None, limit: int = 100, offset: int = 0
    ) -> list[CaseSummary]: ...
    async def count_by_status(self) -> dict[str, int]: ...


class ReceiptBook(Protocol):
    """MessageIds already seen and the receipt each got: the inbound idempotency key."""

    async def find(self, message_id: str) -> Receipt | None: ...
    async def remember(
        self, receipt: Receipt, *, operation: str, petition_id: str | None, at: datetime
    ) -> None: ...
    async def find_many(self, message_ids: Sequence[str]) -> dict[str, Receipt]:
        """Those of these MessageIds already seen, with their receipts, in one statement."""
    async def remember_many(self, seen: Sequence[SeenMessage]) -> None:
        """`remember` for each, in one statement; StoreConflict when one is already known."""


class UpdateBook(Protocol):
    async def add_update(self, update: PetitionUpdate, *, message_id: str) -> None: ...
    async def add_feedback(self, feedback: Feedback, *, message_id: str) -> None: ...


class Outbox(Protocol):
    async def add(self, message: OutboxMessage) -> None: ...
    async def pending(self, limit: int, now: datetime | None = None) -> list[OutboxMessage]:
        """Unsent rows, oldest first; with `now`, only those due (a failed row waits its retry)."""

    async def mark_sent(self, ids: Sequence[int], at: datetime) -> None: ...
    async def mark_failed(self, ids: Sequence[int], error: str, retry_at: datetime | None = None) -> None:
        """One more failed attempt; not handed out again before `retry_at` (None: at once)."""
    async def lag(self) -> tuple[int, datetime | None]:
        """How many rows wait, and when the oldest was committed."""


class NationalOutbox(Protocol):
    """Messages for the national portal. Status changes are added by `CaseRepository.add/save`
    themselves (every status change goes out); answers and transfers are added by the services."""

    async def add(self, message: NationalMessage) -> None: ...
    async def due(self, now: datetime, limit: int) -> list[NationalMessage]:
        """Pending messages due now that are first in line for their petition (older ones delivered)."""

    async def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[NationalMessage]:
        """`due()`, and each one taken out of line until `lease_until`, in this transaction: another
        gateway instance skips them (rows locked meanwhile are skipped, not waited for). If the
        claimer dies, they are due again when the lease ends; their MessageId is unchanged."""

    async def release(self, message_id: int, at: datetime) -> None:
        """A claimed message that was not tried after all: due again at `at`."""

    async def mark_delivered(self, message_ids: Sequence[int], at: datetime) -> None:
        """Each of them delivered at `at` (all the deliveries of one group commit at once)."""

    async def reschedule(
        self, message_id: int, next_attempt_at: datetime, error: str, *, unexpected: bool = False
    ) -> None:
        """One more failed attempt, due again at `next_attempt_at`; `unexpected` counts it among the
        failures that were neither an answer nor an outage (`NationalMessage.unexpected_failures`)."""

    async def mark_dead(self, message_id: int, reason: str, at: datetime) -> None: ...
    async def replay(self, message_id: int, at: datetime) -> bool:
        """A dead message back to pending, due now; False if it was not dead."""

    async def list(self, state: str, limit: int = 100) -> list[NationalMessage]: ...
    async def counts(self) -> dict[str, int]: ...


class AnswerBook(Protocol):
    async def add(self, answer: Answer) -> None: ...
    async def get(self, petition_id: str, answer_id: str) -> Answer | None: ...
    async def for_petition(self, petition_id: str) -> list[Answer]: ...


class MessageLog(Protocol):
    async def append(self, entry: LogEntry) -> int: ...


class UnitTokens(Protocol):
    async def add(self, unit_code: str, token_hash: str, label: str, at: datetime) -> int:
        """The new token's id."""

    async def unit_for(self, token_hash: str) -> str | None: ...
    async def get_token(self, token_id: int) -> UnitToken | None: ...
    async def listing(self, unit_code: str | None = None) -> list[UnitToken]:
        """Tokens (live and revoked), newest first; never their secret, which is not stored."""

    async def revoke_id(self, token_id: int, at: datetime) -> bool:
        """True when a live token was revoked now."""


class CaseReads(Protocol):
    """The operators' read side (search, case pages, downloads): each call one read transaction.

    Read models come back unmasked; the services in gateway.ops mask them for viewers.
    """

    async def search(self, query: CaseQuery) -> list[CaseHit]:
        """Up to `query.limit + 1` hits after `query.after`, by (received_at, petition_id) descending:
        the extra one only says that there is a next page."""

    async def detail(self, petition_id: str) -> CaseDetail | None: ...
    async def raw_message(self, petition_id: str, entry_id: int) -> Document | None:
        """The raw bytes of a logged message of this case (None if the entry is another case's)."""

    async def answer_document(self, petition_id: str, answer_id: str) -> Document | None: ...
    async def attachment(self, petition_id: str, attachment_id: int) -> Document | None: ...


class Operators(Protocol):
    """Operator accounts, their sessions (by the hash of the cookie's secret) and their actions."""

    async def add(self, account: OperatorAccount) -> None: ...
    async def get(self, username: str) -> OperatorAccount | None: ...
    async def all(self) -> list[OperatorAccount]: ...
    async def save(self, account: OperatorAccount) -> None:
        """Everything but the username and creation time."""

    async def open_session(self, session: OperatorSession) -> None: ...
    async def find_session(self, token_hash: str) -> OperatorSession | None: ...
    async def touch_session(self, token_hash: str, at: datetime) -> None: ...
    async def close_session(self, token_hash: str) -> None: ...
    async def close_sessions_of(self, username: str) -> int: ...
    async def record_action(self, action: OperatorAction) -> None: ...
    async def actions(
        self, *, limit: int = 100, before_id: int | None = None, username: str | None = None
    ) -> list[OperatorAction]: ...


class DeadlineBook(Protocol):
    """Due dates still to compute, the cases a reminder threshold has reached, the reminders sent."""

    async def undated(self, limit: int) -> list[UndatedCase]:
        """Cases whose due date was never computed (stored before deadlines existed), oldest first."""

    async def set_deadline(self, petition_id: str, deadline: Deadline) -> None: ...
    async def reached(
        self, threshold: str, due_from: datetime | None, due_until: datetime, limit: int
    ) -> list[DueCase]:
        """Open cases due in [due_from, due_until) not yet reminded at `threshold`, soonest first."""

    async def remember(self, reminder: SentReminder) -> None:
        """Record a reminder; StoreConflict if this (case, threshold) was already reminded."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

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

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
