"""Case deadlines: where each due date comes from, and the reminders units were sent.

- `cases.due_source`: `portal` (the petition's DueAt), `calendar` (the kind's limit in working
  days, computed at acceptance), `none` (no DueAt and no limit configured), NULL: not computed yet.
- `case_reminders`: one row per (case, threshold, unit) reminded, committed with its outbox row; the
  unique key is what keeps a restart or a second gateway instance from sending it again.

Backfill: rows that already carry a due date got it from the portal's DueAt (0005 copied it from
the petition), so they are marked `portal` here. The others cannot be computed by this migration:
the working-day calendar and the limits are the operator's configuration (PAKN_CONFIG_DIR), which
Alembic does not see. They keep `due_source` NULL and the gateway fills them in with its own
configuration, in batches, on the first rounds of its deadline schedule
(gateway.deadlines.reminders.DeadlineWatch.backfill), open and closed cases alike.

Revision ID: 0007_case_deadlines
Revises: 0006_log_segments
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_case_deadlines"
down_revision: str | None = "0006_log_segments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("cases", sa.Column("due_source", sa.String(16), nullable=True))
    op.execute("UPDATE cases SET due_source = 'portal' WHERE due_at IS NOT NULL")
    op.create_table(
        "case_reminders",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("petition_id", sa.String(40), nullable=False),
        sa.Column("threshold", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("due_at", Instant, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_reminders"),
        sa.UniqueConstraint(
            "petition_id", "threshold", "unit_code", name="uq_case_reminders_petition_id_threshold_unit_code"
        ),
        sa.UniqueConstraint("message_id", name="uq_case_reminders_message_id"),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["cases.petition_id"], name="fk_case_reminders_petition_id_cases"
        ),
    )


def downgrade() -> None:
    op.drop_table("case_reminders")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("due_source")
