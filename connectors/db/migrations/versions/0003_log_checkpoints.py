"""Signed checkpoints of the message log's hash chain.

Revision ID: 0003_log_checkpoints
Revises: 0002_national_outbound
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_log_checkpoints"
down_revision: str | None = "0002_national_outbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


def upgrade() -> None:
    op.create_table(
        "message_log_checkpoints",
        _id(),
        # No foreign key to message_log: exported rows may leave while their checkpoint stays.
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), nullable=False),
        sa.Column("ministry_id", sa.String(64), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_certificate", sa.Text(), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_log_checkpoints"),
        sa.UniqueConstraint("last_entry_id", name="uq_message_log_checkpoints_last_entry_id"),
    )


def downgrade() -> None:
    op.drop_table("message_log_checkpoints")
