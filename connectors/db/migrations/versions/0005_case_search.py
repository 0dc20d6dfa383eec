"""Case search keys and keyset indexes; the message log learns which case each message is about.

- `cases.search_text`, `cases.sender_search`: folded text (gateway.domain.text.fold) searched with
  LIKE '%…%'. On PostgreSQL pg_trgm GIN indexes serve those searches; if the extension cannot be
  created (no privilege, not installed) the migration goes on without them and says so: searches
  then scan the table, as they always do on SQLite.
- `cases.sender_phone` (digits, national form), indexed; `cases.due_at` (the portal's DueAt),
  indexed, and after status (the `overdue` search: open statuses, each a due_at range).
- (received_at, petition_id) indexes, alone and after unit_code or status: keyset paging.
- `message_log.petition_id`: outside the hash chain (log_chain.ChainFields does not cover it), so
  the backfill below changes no entry hash and `audit verify` still passes.

Existing rows are backfilled in batches: search keys from each case's petition JSON (and its
supplements), message_log.petition_id from the MessageIds the gateway already pairs with petitions
(seen_messages for inbound, national_outbox for outbound).

Revision ID: 0005_case_search
Revises: 0004_operators
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connectors.db.column_types import UtcDateTime
from connectors.db.petition_codec import petition_from_json
from gateway.domain.search import search_keys
from gateway.domain.text import fold

revision: str = "0005_case_search"
down_revision: str | None = "0004_operators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("connectors.db.migrations")
BATCH = 500
TRGM_INDEXES = {"ix_cases_search_text_trgm": "search_text", "ix_cases_sender_search_trgm": "sender_search"}

cases = sa.table(
    "cases",
    sa.column("petition_id", sa.String()),
    sa.column("petition_json", sa.Text()),
    sa.column("search_text", sa.Text()),
    sa.column("sender_search", sa.Text()),
    sa.column("sender_phone", sa.String()),
    sa.column("due_at", UtcDateTime()),
)
updates = sa.table(
    "petition_updates",
    sa.column("id", sa.Integer()),
    sa.column("petition_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("content", sa.Text()),
)


def upgrade() -> None:
    op.add_column("cases", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.add_column("cases", sa.Column("sender_search", sa.Text(), nullable=False, server_default=""))
    op.add_column("cases", sa.Column("sender_phone", sa.String(32), nullable=True))
    op.add_column("cases", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("message_log", sa.Column("petition_id", sa.String(40), nullable=True))
    _backfill_cases()
    _backfill_message_log()
    op.create_index("ix_cases_sender_phone", "cases", ["sender_phone"])
    op.create_index("ix_cases_due_at", "cases", ["due_at"])
    op.create_index("ix_cases_status_due_at", "cases", ["status", "due_at"])
    op.create_index("ix_cases_received_at_petition_id", "cases", ["received_at", "petition_id"])
    op.create_index(
        "ix_cases_unit_code_received_at_petition_id", "cases", ["unit_code", "received_at", "petition_id"]
    )
    op.create_index(
        "ix_cases_status_received_at_petition_id", "cases", ["status", "received_at", "petition_id"]
    )
    op.create_index("ix_message_log_petition_id", "message_log", ["petition_id"])
    if op.get_bind().dialect.name == "postgresql" and _pg_trgm():
        for name, column in TRGM_INDEXES.items():
            op.create_index(
                name, "cases", [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
            )


def _pg_trgm() -> bool:
    bind = op.get_bind()
    try:
        with bind.begin_nested():  # a savepoint: a refusal must not abort the whole migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        log.warning(
            "pg_trgm is unavailable (%s): case search works without its indexes, by scanning the"
            " cases table; install the extension (postgresql-contrib) and run CREATE EXTENSION pg_trgm,"
            " then create %s",
            exc.orig,
            ", ".join(TRGM_INDEXES),
        )
        return False
    return True


def _backfill_cases() -> None:
    bind = op.get_bind()
    supplements: dict[str, list[str]] = {}
    query = (
        sa.select(updates.c.petition_id, updates.c.content)
        .where(updates.c.action == "SUPPLEMENT")
        .order_by(updates.c.id)
    )
    for petition_id, content in bind.execute(query):
        folded = fold(content)
        if folded:
            supplements.setdefault(petition_id, []).append(folded)
    last = ""
    while True:
        rows = bind.execute(
            sa.select(cases.c.petition_id, cases.c.petition_json)
            .where(cases.c.petition_id > last)
            .order_by(cases.c.petition_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for petition_id, raw in rows:
            keys = search_keys(petition_from_json(raw, ()))
            text = " ".join([keys.text, *supplements.get(petition_id, [])])
            values.append(
                {
                    "pid": petition_id,
                    "search_text": text,
                    "sender_search": keys.sender,
                    "sender_phone": keys.phone,
                    "due_at": keys.due_at,
                }
            )
        bind.execute(
            cases.update()
            .where(cases.c.petition_id == sa.bindparam("pid"))
            .values(
                search_text=sa.bindparam("search_text"),
                sender_search=sa.bindparam("sender_search"),
                sender_phone=sa.bindparam("sender_phone"),
                due_at=sa.bindparam("due_at", type_=UtcDateTime()),
            ),
            values,
        )
        last = rows[-1][0]


def _backfill_message_log() -> None:
    for source in ("seen_messages", "national_outbox"):
        op.execute(
            f"UPDATE message_log SET petition_id = (SELECT s.petition_id FROM {source} s"  # noqa: S608
            " WHERE s.message_id = message_log.message_id)"
            " WHERE petition_id IS NULL AND message_id IS NOT NULL"
            f" AND EXISTS (SELECT 1 FROM {source} s WHERE s.message_id = message_log.message_id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRGM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_message_log_petition_id", table_name="message_log")
    for name in (
        "ix_cases_status_received_at_petition_id",
        "ix_cases_unit_code_received_at_petition_id",
        "ix_cases_received_at_petition_id",
        "ix_cases_status_due_at",
        "ix_cases_due_at",
        "ix_cases_sender_phone",
    ):
        op.drop_index(name, table_name="cases")
    with op.batch_alter_table("message_log") as batch:
        batch.drop_column("petition_id")
    with op.batch_alter_table("cases") as batch:
        for column in ("due_at", "sender_phone", "sender_search", "search_text"):
            batch.drop_column(column)
