"""Reports at scale: plain columns for what reports group and count by, a calendar table, indexes.

- `cases.channel`, `cases.province_code` (the sender's address, as sent), `cases.publish_consent`:
  copied from the petition (they were read out of `petition_json` with JSON functions).
- `cases.accepted_at`, `first_answered_at`, `closed_at`: the case's timeline — its first 03, first
  answer and first closing status (02, 06, 07, 08). The case repository and the answer book keep
  them from now on; here they are computed from the history and the answers.
- `calendar_days` (one row per day, with a running count of working days) and `calendar_state`
  (which calendar it holds): empty here. Alembic does not see the operator's calendar
  (PAKN_CONFIG_DIR); the gateway fills them from its own at start (connectors.db.calendar_table).
- `case_status_history.moved_from`: on a 04 that moved the case to another unit, the unit it came
  from (a note at 04 repeats the holder's 04 and is no transfer); the case repository sets it.
- `feedback.unit_code` (the answering unit) and `feedback.field_code` (the case's field): copied
  from the answer and the case, so satisfaction is read from `feedback` alone.
- Indexes: three covering ones on `cases` (received counts, answered cases, the open backlog), one
  on `feedback` (satisfaction), one on `case_status_history` (transfers and withdrawals): each
  report query reads its index alone.

Backfill is one UPDATE per group of columns, done by the database (no rows through Python), so a
store of a million cases migrates in a few minutes rather than hours.

Revision ID: 0008_report_columns
Revises: 0007_case_deadlines
Create Date: 2026-12-15 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_report_columns"
down_revision: str | None = "0007_case_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)
TIMELINE = ("accepted_at", "first_answered_at", "closed_at")
INDEXES: dict[str, tuple[str, list[str]]] = {
    "ix_cases_report_received": (
        "cases",
        ["received_at", "kind", "sender_type", "channel", "province_code", "field_code", "unit_code"],
    ),
    "ix_cases_report_answered": (
        "cases", ["first_answered_at", "accepted_at", "received_at", "due_at", "unit_code"]
    ),
    "ix_cases_report_open": ("cases", ["closed_at", "received_at", "accepted_at", "due_at"]),
    "ix_case_status_history_report": ("case_status_history", ["status", "changed_at", "moved_from"]),
    "ix_feedback_report": ("feedback", ["at", "unit_code", "field_code", "rating"]),
}


def upgrade() -> None:
    op.add_column("cases", sa.Column("channel", sa.String(16), nullable=True))
    op.add_column("cases", sa.Column("province_code", sa.String(64), nullable=True))
    op.add_column("cases", sa.Column("publish_consent", sa.Boolean(), nullable=True))
    for column in TIMELINE:
        op.add_column("cases", sa.Column(column, Instant, nullable=True))
    op.add_column("case_status_history", sa.Column("moved_from", sa.String(64), nullable=True))
    op.add_column("feedback", sa.Column("unit_code", sa.String(64), nullable=True))
    op.add_column("feedback", sa.Column("field_code", sa.String(64), nullable=True))
    op.create_table(
        "calendar_days",
        sa.Column("day_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("working_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day_number", name="pk_calendar_days"),
        sa.UniqueConstraint("day", name="uq_calendar_days_day"),
    )
    op.create_table(
        "calendar_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("refreshed_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_state"),
    )
    _backfill()
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def _backfill() -> None:
    if op.get_bind().dialect.name == "postgresql":
        doc = "petition_json::jsonb"
        op.execute(
            f"UPDATE cases SET channel = {doc} ->> 'channel',"
            f" province_code = {doc} #>> '{{sender,address,province_code}}',"
            f" publish_consent = ({doc} ->> 'publish_consent')::boolean"
        )
    else:
        op.execute(
            "UPDATE cases SET channel = json_extract(petition_json, '$.channel'),"
            " province_code = json_extract(petition_json, '$.sender.address.province_code'),"
            " publish_consent = json_extract(petition_json, '$.publish_consent')"
        )
    # min() of the stored instants: timestamptz on PostgreSQL, fixed-width UTC text on SQLite
    op.execute(
        "UPDATE cases SET accepted_at = t.accepted, closed_at = t.closed"
        " FROM (SELECT petition_id,"
        " min(CASE WHEN status = '03' THEN changed_at END) AS accepted,"
        " min(CASE WHEN status IN ('02', '06', '07', '08') THEN changed_at END) AS closed"
        " FROM case_status_history GROUP BY petition_id) AS t"
        " WHERE t.petition_id = cases.petition_id"
    )
    op.execute(
        "UPDATE case_status_history SET moved_from = p.unit_code"
        " FROM case_status_history AS p"
        " WHERE p.petition_id = case_status_history.petition_id AND p.seq = case_status_history.seq - 1"
        " AND case_status_history.status = '04' AND p.unit_code <> case_status_history.unit_code"
    )
    op.execute(
        "UPDATE feedback SET"
        " unit_code = (SELECT a.unit_code FROM answers a"
        " WHERE a.petition_id = feedback.petition_id AND a.answer_id = feedback.answer_id),"
        " field_code = (SELECT c.field_code FROM cases c WHERE c.petition_id = feedback.petition_id)"
    )
    op.execute(
        "UPDATE cases SET first_answered_at = t.first"
        " FROM (SELECT petition_id, min(answered_at) AS first FROM answers GROUP BY petition_id) AS t"
        " WHERE t.petition_id = cases.petition_id"
    )


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
    op.drop_table("calendar_state")
    op.drop_table("calendar_days")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("field_code")
        batch.drop_column("unit_code")
    with op.batch_alter_table("case_status_history") as batch:
        batch.drop_column("moved_from")
    with op.batch_alter_table("cases") as batch:
        for column in (*reversed(TIMELINE), "publish_consent", "province_code", "channel"):
            batch.drop_column(column)
