"""Initial schema: cases and their history, attachments, updates, feedback, seen messages,
message log, outbox and unit tokens.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Self-contained on purpose: later changes to tables.py must not rewrite what this revision did.
Instant = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                     autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sender_type", sa.String(16), nullable=False),
        sa.Column("field_code", sa.String(64), nullable=True),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(2), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("petition_json", sa.Text(), nullable=False),
        sa.Column("received_at", Instant, nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("updated_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("petition_id", name="pk_cases"),
    )
    op.create_index("ix_cases_unit_code", "cases", ["unit_code"])
    op.create_index("ix_cases_status", "cases", ["status"])

    op.create_table(
        "case_status_history",
        _id(),
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(2), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("changed_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_status_history"),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["cases.petition_id"], name="fk_case_status_history_petition_id_cases"
        ),
        sa.UniqueConstraint("petition_id", "seq", name="uq_case_status_history_petition_id_seq"),
    )

    op.create_table(
        "petition_updates",
        _id(),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_petition_updates"),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["cases.petition_id"], name="fk_petition_updates_petition_id_cases"
        ),
        sa.UniqueConstraint("message_id", name="uq_petition_updates_message_id"),
    )
    op.create_index("ix_petition_updates_petition_id", "petition_updates", ["petition_id"])

    op.create_table(
        "attachments",
        _id(),
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("update_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["cases.petition_id"], name="fk_attachments_petition_id_cases"
        ),
        sa.ForeignKeyConstraint(
            ["update_id"], ["petition_updates.id"], name="fk_attachments_update_id_petition_updates"
        ),
    )
    op.create_index("ix_attachments_petition_id", "attachments", ["petition_id"])
    op.create_index("ix_attachments_update_id", "attachments", ["update_id"])

    op.create_table(
        "feedback",
        _id(),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("answer_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(["petition_id"], ["cases.petition_id"], name="fk_feedback_petition_id_cases"),
        sa.UniqueConstraint("message_id", name="uq_feedback_message_id"),
    )
    op.create_index("ix_feedback_petition_id", "feedback", ["petition_id"])

    op.create_table(
        "seen_messages",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("petition_id", sa.String(40), nullable=True),
        sa.Column("receipt_id", sa.String(64), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.String(255), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_seen_messages"),
    )
    op.create_index("ix_seen_messages_petition_id", "seen_messages", ["petition_id"])

    op.create_table(
        "message_log",
        _id(),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("peer", sa.String(255), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("signature_verdict", sa.String(255), nullable=False),
        sa.Column("signer", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(255), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_log"),
        sa.UniqueConstraint("entry_hash", name="uq_message_log_entry_hash"),
    )
    op.create_index("ix_message_log_message_id", "message_log", ["message_id"])

    op.create_table(
        "outbox",
        _id(),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(255), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("correlation_id", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("sent_at", Instant, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("message_id", name="uq_outbox_message_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "id"])

    op.create_table(
        "unit_tokens",
        _id(),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("revoked_at", Instant, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_unit_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_unit_tokens_token_hash"),
    )
    op.create_index("ix_unit_tokens_unit_code", "unit_tokens", ["unit_code"])


def downgrade() -> None:
    for table in (
        "unit_tokens", "outbox", "message_log", "seen_messages", "feedback", "attachments",
        "petition_updates", "case_status_history", "cases",
    ):
        op.drop_table(table)
