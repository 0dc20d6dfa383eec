"""The store's tables. Rows are not domain objects: the repositories map between the two.

Every instant is a `UtcDateTime`; text is stored exactly as the domain hands it over (NFC).
The initial Alembic revision creates the same schema; `test_store_migrations` checks they agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from connectors.db.column_types import UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")

PETITION_ID = 40
CODE = 64
NAME = 255


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def postgresql_only(index: Index) -> Index:
    """An index only PostgreSQL gets (pg_trgm GIN); `info` tells the schema comparison to expect it
    there alone (tests/integration/test_store_migrations.py), `ddl_if` tells `create_all`."""
    index.info["only_dialect"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


class CaseRow(Base):
    """`search_text`, `sender_search`, `sender_phone` and `due_at` are search keys derived from the
    petition (gateway.domain.search.search_keys) when the case is added or supplemented."""

    __tablename__ = "cases"
    __table_args__ = (
        # keyset paging of the operators' search: (received_at DESC, petition_id DESC), optionally
        # within one unit or one status
        Index("ix_cases_received_at_petition_id", "received_at", "petition_id"),
        Index("ix_cases_unit_code_received_at_petition_id", "unit_code", "received_at", "petition_id"),
        Index("ix_cases_status_received_at_petition_id", "status", "received_at", "petition_id"),
        # the operators' `overdue` filter: open statuses, each a due_at range (the overdue cases)
        Index("ix_cases_status_due_at", "status", "due_at"),
        # reports (connectors.db.report_queries, migration 0008), each read from its index alone
        # (covering): received counts; answered cases by their first answer; the open backlog by
        # closing time (NULL: open now, or closed after the report's instant)
        Index(
            "ix_cases_report_received",
            "received_at", "kind", "sender_type", "channel", "province_code", "field_code", "unit_code",
        ),
        Index(
            "ix_cases_report_answered",
            "first_answered_at", "accepted_at", "received_at", "due_at", "unit_code",
        ),
        Index("ix_cases_report_open", "closed_at", "received_at", "accepted_at", "due_at"),
        # substring search over folded text (LIKE '%…%'); SQLite scans the column instead
        postgresql_only(
            Index(
                "ix_cases_search_text_trgm", "search_text",
                postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"},
            )
        ),
        postgresql_only(
            Index(
                "ix_cases_sender_search_trgm", "sender_search",
                postgresql_using="gin", postgresql_ops={"sender_search": "gin_trgm_ops"},
            )
        ),
    )

    petition_id: Mapped[str] = mapped_column(String(PETITION_ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    sender_type: Mapped[str] = mapped_column(String(16))
    field_code: Mapped[str | None] = mapped_column(String(CODE))
    unit_code: Mapped[str] = mapped_column(String(CODE), index=True)
    status: Mapped[str] = mapped_column(String(2), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    petition_json: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    sender_search: Mapped[str] = mapped_column(Text, server_default="")
    sender_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # where due_at comes from (gateway.domain.deadlines.DueSource); NULL: not computed yet (rows older
    # than deadlines, filled in by the gateway's deadline schedule)
    due_source: Mapped[str | None] = mapped_column(String(16))
    # What reports group and count by, as plain columns (migration 0008): from the petition when
    # the case is added, and its timeline — the first 03, first answer and first closing status
    # (02, 06, 07, 08) — as the case repository and the answer book record them.
    channel: Mapped[str | None] = mapped_column(String(16))
    province_code: Mapped[str | None] = mapped_column(String(CODE))  # the sender's, as sent
    publish_consent: Mapped[bool | None] = mapped_column(Boolean)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StatusHistoryRow(Base):
    __tablename__ = "case_status_history"
    __table_args__ = (
        UniqueConstraint("petition_id", "seq"),
        # the reports' transfers and withdrawals of a period, read from this index alone
        Index("ix_case_status_history_report", "status", "changed_at", "moved_from"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(2))
    unit_code: Mapped[str] = mapped_column(String(CODE))
    description: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # a 04 that moved the case between units: the unit it came from (migration 0008); else NULL
    moved_from: Mapped[str | None] = mapped_column(String(CODE))


class PetitionUpdateRow(Base):
    __tablename__ = "petition_updates"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(CODE), unique=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class AttachmentRow(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"), index=True)
    update_id: Mapped[int | None] = mapped_column(ForeignKey("petition_updates.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(NAME))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FeedbackRow(Base):
    __tablename__ = "feedback"
    # the reports' satisfaction of a period, read from this index alone (migration 0008)
    __table_args__ = (Index("ix_feedback_report", "at", "unit_code", "field_code", "rating"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(CODE), unique=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"), index=True)
    answer_id: Mapped[str] = mapped_column(String(CODE))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # copied when the feedback is stored: the answering unit (None: the answer is unknown) and the
    # case's field, which the reports group satisfaction by
    unit_code: Mapped[str | None] = mapped_column(String(CODE))
    field_code: Mapped[str | None] = mapped_column(String(CODE))


class SeenMessageRow(Base):
    """Inbound idempotency: one row per national MessageId, with the receipt it got."""

    __tablename__ = "seen_messages"

    message_id: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    operation: Mapped[str] = mapped_column(String(CODE))
    petition_id: Mapped[str | None] = mapped_column(String(PETITION_ID), index=True)
    receipt_id: Mapped[str] = mapped_column(String(CODE))
    accepted: Mapped[bool] = mapped_column(Boolean)
    error_code: Mapped[str | None] = mapped_column(String(NAME))
    error_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MessageLogRow(Base):
    """Raw messages in and out, chained: each `entry_hash` covers the previous one."""

    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(8))
    peer: Mapped[str] = mapped_column(String(NAME))
    operation: Mapped[str] = mapped_column(String(CODE))
    message_id: Mapped[str | None] = mapped_column(String(CODE), index=True)
    signature_verdict: Mapped[str] = mapped_column(String(NAME))
    signer: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(NAME))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Which case the message is about, where the gateway knew it: for the case page's timeline.
    # Not covered by entry_hash (log_chain.ChainFields), so filling it later breaks no link.
    petition_id: Mapped[str | None] = mapped_column(String(PETITION_ID), index=True)


class LogCheckpointRow(Base):
    """A signed statement of the message log's head: catches rows cut off the end and anchors exports.

    `last_entry_id` is no foreign key on purpose: an exported segment's rows may leave the store
    while the checkpoint that vouches for them stays.
    """

    __tablename__ = "message_log_checkpoints"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    last_entry_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    entry_count: Mapped[int] = mapped_column(BigInteger)
    ministry_id: Mapped[str] = mapped_column(String(CODE))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer_certificate: Mapped[str] = mapped_column(Text)
    timestamp_token: Mapped[bytes | None] = mapped_column(LargeBinary)


class LogSegmentRow(Base):
    """A segment pruned from the message log: rows (after_entry_id, last_entry_id] now live only in
    the export file at `path` (its sha256 recorded), which checkpoint `checkpoint_id` vouches for.

    The newest segment anchors what stays: the first remaining row's prev_hash is its head_hash.
    """

    __tablename__ = "message_log_segments"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    after_entry_id: Mapped[int] = mapped_column(BigInteger, unique=True)  # 0: from the genesis
    last_entry_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_entry_id: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    chain_length: Mapped[int] = mapped_column(BigInteger)  # entries from the genesis through last_entry_id
    head_hash: Mapped[str] = mapped_column(String(64))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("message_log_checkpoints.id"))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    cutoff: Mapped[datetime] = mapped_column(UtcDateTime)
    exported_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseReminderRow(Base):
    """A reminder sent to the unit holding a case, once per (case, threshold): the unique key is the
    guard against a second send (a restart, another instance); committed with its outbox row."""

    __tablename__ = "case_reminders"
    # per unit: a case transferred after a reminder reminds its new unit too
    __table_args__ = (UniqueConstraint("petition_id", "threshold", "unit_code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"))
    threshold: Mapped[str] = mapped_column(String(16))  # "before:2", "overdue"
    unit_code: Mapped[str] = mapped_column(String(CODE))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message_id: Mapped[str] = mapped_column(String(CODE), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(CODE), unique=True)
    exchange: Mapped[str] = mapped_column(String(NAME))
    routing_key: Mapped[str] = mapped_column(String(NAME))
    type: Mapped[str] = mapped_column(String(NAME))
    correlation_id: Mapped[str] = mapped_column(String(NAME))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # a row the broker would not take waits here for its next try (the retry ladder); None: due
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnitTokenRow(Base):
    __tablename__ = "unit_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(CODE), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


metadata = Base.metadata


class NationalOutboxRow(Base):
    """Messages for the national portal; per petition they leave in id order (DESIGN §4)."""

    __tablename__ = "national_outbox"
    __table_args__ = (Index("ix_national_outbox_petition_state", "petition_id", "state"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"))
    operation: Mapped[str] = mapped_column(String(CODE))
    message_id: Mapped[str] = mapped_column(String(CODE), unique=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON, the contract's element names
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    unexpected_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AnswerRow(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("petition_id", "answer_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"), index=True)
    answer_id: Mapped[str] = mapped_column(String(CODE))
    unit_code: Mapped[str] = mapped_column(String(CODE))
    content: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signer_name: Mapped[str] = mapped_column(Text)
    signer_position: Mapped[str] = mapped_column(Text)
    publish: Mapped[bool] = mapped_column(Boolean)
    document_name: Mapped[str] = mapped_column(Text)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    document_sha256: Mapped[str] = mapped_column(String(64))


class OperatorRow(Base):
    """Operator accounts of the console and the ops API; passwords as argon2 hashes only."""

    __tablename__ = "operators"

    username: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean)
    failed_logins: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OperatorSessionRow(Base):
    __tablename__ = "operator_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("operators.username"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OperatorActionRow(Base):
    """What operators did. No foreign key: the record outlives a removed account."""

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(CODE), index=True)
    action: Mapped[str] = mapped_column(String(CODE))
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class CalendarDayRow(Base):
    """The gateway's working-day calendar, one row per day, so reports count working days in SQL.

    `day_number` is the day in Vietnam time as days since 1970-01-01 (what the queries compute
    from an instant); `working_index` counts the working days from the calendar's first day up to
    and including this one, so the working days after day A up to day B are B's index minus A's.
    A copy, not configuration: connectors.db.calendar_table rewrites it from config/calendar.yaml
    whenever the calendar's fingerprint differs from `CalendarStateRow`'s.
    """

    __tablename__ = "calendar_days"

    day_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    working_index: Mapped[int] = mapped_column(Integer)


class CalendarStateRow(Base):
    """Which calendar `calendar_days` holds: one row (id 1), its fingerprint and range."""

    __tablename__ = "calendar_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PublicLetterRow(Base):
    """The public copy of a published answer's letter, signed once and kept (gateway.public): a
    public download never makes the ministry's key sign again."""

    __tablename__ = "public_letters"
    __table_args__ = (UniqueConstraint("petition_id", "answer_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    petition_id: Mapped[str] = mapped_column(ForeignKey("cases.petition_id"))
    answer_id: Mapped[str] = mapped_column(String(CODE))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
