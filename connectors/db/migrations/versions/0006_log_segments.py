"""Message-log segments pruned from the store, each with its export file's path and sha256; and
the outbox's retry time for a row the broker would not take (it then waits on the retry ladder);
the national outbox's count of unexpected failures (on the retry ladder, then dead).

Revision ID: 0006_log_segments
Revises: 0005_case_search
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_log_segments"
down_revision: str | None = "0005_case_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_log_segments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        # Unique starts and ends: two processes pruning at once cannot both record a segment.
        sa.Column("after_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("first_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("chain_length", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("checkpoint_id", Id, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("cutoff", Instant, nullable=False),
        sa.Column("exported_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_log_segments"),
        sa.UniqueConstraint("after_entry_id", name="uq_message_log_segments_after_entry_id"),
        sa.UniqueConstraint("last_entry_id", name="uq_message_log_segments_last_entry_id"),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"], ["message_log_checkpoints.id"],
            name="fk_message_log_segments_checkpoint_id_message_log_checkpoints",
        ),
    )
    op.add_column("outbox", sa.Column("next_attempt_at", Instant, nullable=True))
    op.add_column(
        "national_outbox",
        sa.Column("unexpected_failures", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("national_outbox", "unexpected_failures")
    op.drop_column("outbox", "next_attempt_at")
    op.drop_table("message_log_segments")
