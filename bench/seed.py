"""Cases already stored, written straight into a migrated database in bulk: what a ministry's
store holds after a year or two, for scale.py (1,000,000 cases) and outbound.py (cases at 04).

Per case, as the gateway itself would have written it: the `cases` row with its search keys and
deadline (`case_search.py`'s generated Vietnamese petitions), its status history (01, 03, 04, then
05, 06 / 07 / 08 as the final status says, or 01, 02), the receipt of its `SubmitPetition`
(`seen_messages`) and one delivered `ReceiveStatus` per status change in the national outbox.
No message log: the chain would have to be computed row by row (its own cost, not the store's size).
PostgreSQL gets COPY (asyncpg), SQLite batched executemany.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from case_search import petition as generated_petition
from case_search import row as case_row
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from connectors.db.engine import make_engine
from connectors.db.migrate import upgrade
from connectors.db.tables import CaseRow, NationalOutboxRow, SeenMessageRow, StatusHistoryRow
from gateway.domain.case import DESCRIPTIONS, Status

PATHS = {
    "02": ("01", "02"),
    "03": ("01", "03"),
    "04": ("01", "03", "04"),
    "05": ("01", "03", "04", "05"),
    "06": ("01", "03", "04", "05", "06"),
    "07": ("01", "03", "04", "05", "07"),
    "08": ("01", "03", "04", "08"),
}
TABLES = (CaseRow, StatusHistoryRow, SeenMessageRow, NationalOutboxRow)
STEP = timedelta(hours=20)  # between one status and the next of a case


def rows_for(
    n: int, count: int, rng: random.Random, unit_of: Callable[[str], str], status: str | None
) -> dict[str, list[dict[str, Any]]]:
    p, unit, drawn = generated_petition(n, count, rng)
    final = status or drawn
    case = case_row(p, unit_of(unit), final)
    if status is not None and p.due_at is not None and p.due_at < p.received_at:
        case["due_at"] = None
    case["due_source"] = "PORTAL" if case.get("due_at") else None
    history, national = [], []
    at = p.received_at
    # statuses a day or so apart, but never in the future for a case received minutes ago
    step = min(STEP, max((datetime.now(UTC) - p.received_at) / 6, timedelta(seconds=1)))
    for seq, code in enumerate(PATHS[final], start=1):
        at = p.received_at if seq <= 2 else at + step
        history.append(
            {
                "petition_id": p.petition_id,
                "seq": seq,
                "status": code,
                "unit_code": case["unit_code"],
                "description": DESCRIPTIONS[Status(code)],
                "changed_at": at,
            }
        )
        payload = {
            "PetitionId": p.petition_id,
            "StatusCode": code,
            "Description": DESCRIPTIONS[Status(code)],
            "UnitCode": case["unit_code"],
            "ChangedAt": at.isoformat(),
            "Seq": seq,
        }
        national.append(
            {
                "petition_id": p.petition_id,
                "operation": "ReceiveStatus",
                "message_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "payload": json.dumps(payload, ensure_ascii=False),
                "state": "delivered",
                "attempts": 1,
                "next_attempt_at": at,
                "last_error": None,
                "created_at": at,
                "delivered_at": at + timedelta(seconds=1),
                "unexpected_failures": 0,
            }
        )
    case["updated_at"] = at
    seen = {
        "message_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "operation": "SubmitPetition",
        "petition_id": p.petition_id,
        "receipt_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "accepted": True,
        "error_code": None,
        "error_text": None,
        "created_at": p.received_at,
    }
    return {
        "cases": [case],
        "case_status_history": history,
        "seen_messages": [seen],
        "national_outbox": national,
    }


def batches(
    count: int, batch: int, seed: int, unit_of: Callable[[str], str], status: str | None, first: int = 0
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    rng = random.Random(seed)  # noqa: S311 (test data, not cryptography)
    for start in range(first, first + count, batch):
        merged: dict[str, list[dict[str, Any]]] = {t.__tablename__: [] for t in TABLES}
        for n in range(start, min(first + count, start + batch)):
            for table, rows in rows_for(n, first + count, rng, unit_of, status).items():
                merged[table].extend(rows)
        yield merged


async def seed(
    url: str,
    count: int,
    *,
    unit_of: Callable[[str], str],
    status: str | None = None,
    seed_value: int = 7,
    batch: int = 5000,
    migrate: bool = True,
) -> dict[str, Any]:
    """Seed `count` cases (final `status` for all, or drawn like a real store); how long it took."""
    if migrate:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
    started = time.perf_counter()
    rows = 0
    if make_url(url).get_backend_name() == "postgresql":
        rows = await _copy(url, count, batch, seed_value, unit_of, status, started)
    else:
        engine = make_engine(url)
        try:
            for chunk in batches(count, batch, seed_value, unit_of, status):
                async with engine.begin() as conn:
                    for table in TABLES:
                        await conn.execute(insert(table), chunk[table.__tablename__])
                        rows += len(chunk[table.__tablename__])
        finally:
            await engine.dispose()
    seconds = time.perf_counter() - started
    return {
        "cases": count,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
    }


async def _copy(
    url: str,
    count: int,
    batch: int,
    seed_value: int,
    unit_of: Callable[[str], str],
    status: str | None,
    started: float,
) -> int:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    rows = 0
    try:
        done = 0
        for chunk in batches(count, batch, seed_value, unit_of, status):
            async with conn.transaction():
                for table in TABLES:
                    records = chunk[table.__tablename__]
                    if not records:
                        continue
                    columns = list(records[0])
                    await conn.copy_records_to_table(
                        table.__tablename__,
                        records=[tuple(r[c] for c in columns) for r in records],
                        columns=columns,
                    )
                    rows += len(records)
            done += len(chunk["cases"])
            if done % (batch * 20) == 0 or done == count:
                print(
                    f"  seeded {done:>9,} cases, {rows:>10,} rows ({time.perf_counter() - started:6.1f} s)",
                    flush=True,
                )
        # a store that has been running is vacuumed: without this, autovacuum of the freshly copied
        # millions of rows would run during the measurement, beside the gateway on the same cores
        vacuum_started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")
        print(f"  VACUUM (ANALYZE) and CHECKPOINT: {time.perf_counter() - vacuum_started:.1f} s", flush=True)
    finally:
        await conn.close()
    return rows


def table_sizes(url: str) -> dict[str, str]:
    """Rows and on-disk size (with indexes) of the seeded tables, PostgreSQL only."""
    import asyncio

    async def read() -> dict[str, str]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            out = {}
            for table in TABLES:
                name = table.__tablename__
                size = await conn.fetchval(
                    "SELECT pg_size_pretty(pg_total_relation_size($1::regclass))", name
                )
                out[name] = size
            out["database"] = await conn.fetchval(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            )
            return out
        finally:
            await conn.close()

    return asyncio.run(read())
