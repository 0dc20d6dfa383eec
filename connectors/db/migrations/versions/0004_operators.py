"""Operator accounts, their sessions, and the record of their actions (issue 5).

Revision ID: 0004_operators
Revises: 0003_log_checkpoints
Create Date: 2026-12-01 11:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_operators"
down_revision: str | None = "0003_log_checkpoints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", Instant, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("password_changed_at", Instant, nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_operators"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("last_seen_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_operator_sessions"),
        sa.ForeignKeyConstraint(
            ["username"], ["operators.username"], name="fk_operator_sessions_username_operators"
        ),
    )
    op.create_index("ix_operator_sessions_username", "operator_sessions", ["username"])
    op.create_table(
        "operator_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operator_actions"),
    )
    op.create_index("ix_operator_actions_username", "operator_actions", ["username"])
    op.create_index("ix_operator_actions_at", "operator_actions", ["at"])


def downgrade() -> None:
    op.drop_table("operator_actions")
    op.drop_table("operator_sessions")
    op.drop_table("operators")
