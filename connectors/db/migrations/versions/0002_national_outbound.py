"""Outbound to the national portal: the national outbox and the ministry's answers.

Revision ID: 0002_national_outbound
Revises: 0001_initial
Create Date: 2026-11-28 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_national_outbound"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def upgrade() -> None:
    op.create_table(
        "national_outbox",
        _id(),
        sa.Column("petition_id", sa.String(40), sa.ForeignKey("cases.petition_id",
                  name="fk_national_outbox_petition_id_cases"), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Instant, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("delivered_at", Instant, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_national_outbox"),
        sa.UniqueConstraint("message_id", name="uq_national_outbox_message_id"),
    )
    op.create_index("ix_national_outbox_petition_state", "national_outbox", ["petition_id", "state"])
    op.create_index("ix_national_outbox_state", "national_outbox", ["state"])
    op.create_index("ix_national_outbox_next_attempt_at", "national_outbox", ["next_attempt_at"])
    op.create_table(
        "answers",
        _id(),
        sa.Column("petition_id", sa.String(40), sa.ForeignKey("cases.petition_id",
                  name="fk_answers_petition_id_cases"), nullable=False),
        sa.Column("answer_id", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("answered_at", Instant, nullable=False),
        sa.Column("signer_name", sa.Text(), nullable=False),
        sa.Column("signer_position", sa.Text(), nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("document_name", sa.Text(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.UniqueConstraint("petition_id", "answer_id", name="uq_answers_petition_id_answer_id"),
    )
    op.create_index("ix_answers_petition_id", "answers", ["petition_id"])


def downgrade() -> None:
    op.drop_index("ix_answers_petition_id", table_name="answers")
    op.drop_table("answers")
    op.drop_index("ix_national_outbox_next_attempt_at", table_name="national_outbox")
    op.drop_index("ix_national_outbox_state", table_name="national_outbox")
    op.drop_index("ix_national_outbox_petition_state", table_name="national_outbox")
    op.drop_table("national_outbox")
