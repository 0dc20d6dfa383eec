"""The public copies of published answer letters, signed once and kept.

Revision ID: 0009_public_letters
Revises: 0008_report_columns
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_public_letters"
down_revision: str | None = "0008_report_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("answer_id", sa.String(64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_public_letters"),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["cases.petition_id"], name="fk_public_letters_petition_id_cases"
        ),
        sa.UniqueConstraint("petition_id", "answer_id", name="uq_public_letters_petition_id_answer_id"),
    )


def downgrade() -> None:
    op.drop_table("public_letters")
