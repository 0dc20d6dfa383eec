"""Seed N cases into a throw-away database and time the operators' case search through its service
layer (CaseSearch → SqlCaseReads): page 1 and page 2 of several searches, a deep page by keyset
cursor, and the same deep page by OFFSET for comparison. Run by hand; results go to BENCHMARKS.md.

    .venv/bin/python bench/case_search.py --db sqlite --count 100000
    .venv/bin/python bench/case_search.py --db postgresql --count 1000000

The cases are written straight into `cases` (no history, no outbox: search reads only that table),
with the search keys the repository computes (`search_keys`), in batches; generated Vietnamese
names, addresses and petition texts from the simulator's word lists, deterministic by `--seed`.
Each figure is the median of `--repeat` runs after one warm-up run. The database is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from connectors.db.case_repository import search_columns
from connectors.db.case_search_store import SqlCaseReads, search_statement
from connectors.db.engine import make_engine
from connectors.db.migrate import upgrade
from connectors.db.petition_codec import petition_to_json
from connectors.db.tables import CaseRow
from connectors.national_sim.topics import TOPICS
from connectors.national_sim.vietnamese import (
    GIVEN_NAMES_FEMALE,
    GIVEN_NAMES_MALE,
    MIDDLE_NAMES_FEMALE,
    MIDDLE_NAMES_MALE,
    PROVINCES,
    SURNAMES,
)
from gateway.domain.operators import Principal, Role
from gateway.domain.petition import Address, Channel, Kind, Petition, Sender, SenderType
from gateway.domain.search import CaseQuery, SearchCursor, search_keys
from gateway.ops.case_search import CaseSearch
from gateway.routing_config import load_config

PG_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime.now(UTC)
SPACING = timedelta(seconds=30)  # a million cases over about a year, the newest just now
OPEN = ("03", "04", "04", "05", "05", "05")
CLOSED = ("06",) * 16 + ("07", "08", "02")
FIELD_UNITS = {
    "VIEC_LAM": "CVL", "GIAO_DUC_NGHE_NGHIEP": "TCGDNN", "LAO_DONG_TIEN_LUONG": "VLDTL",
    "BAO_HIEM_XA_HOI": "VBHXH", "AN_TOAN_VE_SINH_LAO_DONG": "CATLD", "NGUOI_CO_CONG": "CNCC",
    "BAO_TRO_XA_HOI": "CBTXH", "TRE_EM": "CTE", "BINH_DANG_GIOI": "VBDG",
    "PHONG_CHONG_TE_NAN_XA_HOI": "CPCTNXH",
}
KINDS = (Kind.PHAN_ANH, Kind.KIEN_NGHI, Kind.HOI_DAP, Kind.KIEN_NGHI, Kind.PHAN_ANH)
PREFIX = {Kind.PHAN_ANH: "Phản ánh về", Kind.KIEN_NGHI: "Kiến nghị về", Kind.HOI_DAP: "Hỏi về"}


def fill(template: str, rng: random.Random, province: str, ward: str) -> str:
    values = {
        "company": f"Công ty TNHH {rng.choice(SURNAMES)} {rng.choice(('Phát', 'Thành', 'Hưng', 'Long'))}",
        "province": province, "ward": ward, "day": rng.randint(1, 28), "month": rng.randint(1, 12),
        "months": rng.randint(2, 18), "years": rng.randint(1, 25), "amount": rng.randint(5, 900),
        "year": rng.randint(2015, 2025), "count": rng.randint(2, 60),
    }
    return template.format(**values)


def status_at(received: datetime, rng: random.Random) -> str:
    """Most cases older than two months are answered; a recent one is open half the time."""
    open_share = 0.03 if NOW - received > timedelta(days=60) else 0.5
    return rng.choice(OPEN) if rng.random() < open_share else rng.choice(CLOSED)


def petition(n: int, count: int, rng: random.Random) -> tuple[Petition, str, str]:
    field = rng.choice(tuple(TOPICS))
    topic = rng.choice(TOPICS[field])
    kind = rng.choice(KINDS)
    female = rng.random() < 0.5
    name = " ".join((
        rng.choice(SURNAMES),
        rng.choice(MIDDLE_NAMES_FEMALE if female else MIDDLE_NAMES_MALE),
        rng.choice(GIVEN_NAMES_FEMALE if female else GIVEN_NAMES_MALE),
    ))
    province = rng.choice(PROVINCES)
    ward = rng.choice(province.wards)
    street = rng.choice(province.streets)
    received = NOW - (count - n) * SPACING + timedelta(seconds=rng.randint(0, 29))
    status = status_at(received, rng)
    p = Petition(
        petition_id=f"PAKN-{received.year}-{n:07d}",
        kind=kind,
        sender=Sender(
            type=SenderType.CA_NHAN,
            full_name=name,
            id_number=f"0{province.code}{rng.randint(0, 10**9 - 1):09d}",
            phone=f"09{rng.randint(0, 10**8 - 1):08d}",
            email=f"u{n}@example.vn",
            address=Address(f"Số {rng.randint(1, 300)} {street}, {ward.name}", ward.code, province.code),
        ),
        title=f"{PREFIX.get(kind, 'Kiến nghị về')} {topic.subject}",
        content=" ".join((
            fill(topic.facts, rng, province.full_name, ward.name),
            topic.question if kind is Kind.HOI_DAP else topic.proposal,
        )),
        channel=Channel.WEB,
        received_at=received,
        priority=rng.randint(0, 4),
        publish_consent=rng.random() < 0.5,
        field_code=field,
        due_at=received + timedelta(days=rng.choice((10, 15, 30, 45))),
    )
    return p, FIELD_UNITS[field], status


def row(p: Petition, unit: str, status: str) -> dict[str, Any]:
    return {
        "petition_id": p.petition_id, "kind": p.kind.value, "sender_type": p.sender.type.value,
        "field_code": p.field_code, "unit_code": unit, "status": status, "fingerprint": "0" * 64,
        "title": p.title, "petition_json": petition_to_json(p), "received_at": p.received_at,
        "created_at": p.received_at, "updated_at": p.received_at, "due_at": p.due_at,
        **search_columns(search_keys(p)),
    }


async def seed(engine: AsyncEngine, count: int, seed_value: int, batch: int) -> tuple[float, dict[str, str]]:
    rng = random.Random(seed_value)  # noqa: S311 (test data, not cryptography)
    probe: dict[str, str] = {}
    started = time.perf_counter()
    for first in range(0, count, batch):
        rows = []
        for n in range(first, min(count, first + batch)):
            p, unit, status = petition(n, count, rng)
            rows.append(row(p, unit, status))
            if n == count // 2:  # a case in the middle: its name and phone are searched for
                probe = {"name": p.sender.full_name, "phone": p.sender.phone or "", "pid": p.petition_id,
                         "ward": p.sender.address.line if p.sender.address else ""}
        async with engine.begin() as connection:
            await connection.execute(insert(CaseRow), rows)
        if first // batch % 20 == 0:
            print(f"  seeded {first + len(rows):>9,} ({time.perf_counter() - started:6.1f} s)", flush=True)
    return time.perf_counter() - started, probe


async def timed(run: Callable[[], Awaitable[object]], repeat: int) -> float:
    await run()  # warm-up: caches, prepared statements
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        return
    name = f"pakn_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(make_url(PG_BASE).set(database="postgres"), isolation_level="AUTOCOMMIT",
                                poolclass=NullPool)
    try:
        async with admin.connect() as c:
            await c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as c:
                await c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


async def offset_page(engine: AsyncEngine, query: CaseQuery, offset: int) -> None:
    """What OFFSET paging would cost at the same depth (for the ratio only; the gateway never does it)."""
    statement = search_statement(query).offset(offset)
    async with engine.connect() as c:
        (await c.execute(statement)).all()


async def matches_after(engine: AsyncEngine, query: CaseQuery, moment: datetime) -> int:
    """How many matches are newer than `moment`: the OFFSET that reaches the same page."""
    statement = search_statement(query).limit(None).where(CaseRow.received_at >= moment)
    async with engine.connect() as c:
        return int((await c.execute(select(func.count()).select_from(statement.subquery()))).scalar_one())


async def plan(engine: AsyncEngine, query: CaseQuery) -> str:
    compiled = search_statement(query).compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
    async with engine.connect() as c:
        if c.dialect.name == "postgresql":
            rows = (await c.execute(text(f"EXPLAIN {compiled}"))).scalars().all()
        else:
            rows = [r[-1] for r in (await c.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()]
    return " | ".join(line.strip() for line in rows if "Scan" in line or "SCAN" in line or "SEARCH" in line)


async def main(args: argparse.Namespace) -> None:
    async with database(args.db) as url:
        engine = make_engine(url)
        try:
            await upgrade(engine)
            seconds, probe = await seed(engine, args.count, args.seed, args.batch)
            print(f"seeded {args.count:,} cases in {seconds:.1f} s ({args.count / seconds:,.0f}/s)")
            if engine.dialect.name == "postgresql":
                async with engine.connect() as c:
                    auto = await c.execution_options(isolation_level="AUTOCOMMIT")
                    await auto.exec_driver_sql("VACUUM ANALYZE cases")
                    total = func.pg_size_pretty(func.pg_total_relation_size("cases"))
                    print(f"cases table with indexes: {(await c.execute(select(total))).scalar()}")
            search = CaseSearch(SqlCaseReads(engine), load_config().routing, lambda: datetime.now(UTC))
            viewer = Principal("bench", Role.VIEWER)
            mid = NOW - args.count // 2 * SPACING
            deep = SearchCursor(mid, "PAKN-9999")  # half way through the whole set
            cases = {
                "all, newest first": {},
                "q: common phrase 'tro cap'": {"q": "tro cap"},
                "q: rare phrase (a ward and street)": {"q": probe["ward"]},
                "q: 'nguoi co cong' (no diacritics)": {"q": "nguoi co cong"},
                "sender name (full)": {"sender": probe["name"]},
                "phone (exact)": {"phone": probe["phone"]},
                "petition_id (exact)": {"petition_id": probe["pid"]},
                "unit CNCC + status 05": {"unit": ["CNCC"], "status": ["05"]},
                "overdue": {"overdue": True},
                "kind HOI_DAP + field VIEC_LAM": {"kind": ["HOI_DAP"], "field": ["VIEC_LAM"]},
            }
            print(f"\n{'search':40} {'hits p1':>7} {'page 1 ms':>10} {'page 2 ms':>10}")
            for label, criteria in cases.items():
                query = search.query(limit=50, **criteria)
                first = await search.search(viewer, query)
                page1 = await timed(lambda q=query: search.search(viewer, q), args.repeat)
                page2 = float("nan")
                if first.next_cursor:
                    q2 = search.query(limit=50, cursor=first.next_cursor, **criteria)
                    page2 = await timed(lambda q=q2: search.search(viewer, q), args.repeat)
                print(f"{label:40} {len(first.items):>7} {page1:>10.1f} {page2:>10.1f}")
                if args.plans:
                    print(f"    plan: {await plan(engine, query)}")
            print()
            for label, criteria in (("no filter", {}), ("q 'tro cap'", {"q": "tro cap"})):
                deep_query = search.query(limit=50, cursor=deep.encode(), **criteria)
                keyset = await timed(lambda q=deep_query: search.search(viewer, q), args.repeat)
                plain = search.query(limit=50, **criteria)
                skipped = args.count // 2 if not criteria else await matches_after(engine, plain, mid)
                offset = await timed(lambda q=plain, n=skipped: offset_page(engine, q, n), args.repeat)
                print(f"deep page, {label} (half way: OFFSET {skipped:,}): keyset {keyset:.1f} ms,"
                      f" OFFSET {offset:.1f} ms (x{offset / keyset:.1f})")
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="print the query plan's scans of each search")
    asyncio.run(main(parser.parse_args()))
