"""Reports at scale: seed N realistic cases into a fresh PostgreSQL database and a SQLite file, then
time each report (month, quarter, year) through the gateway's own service (Reports →
SqlReportQueries) and print a table. Run by hand; results go to BENCHMARKS.md ("Reports at scale").

    .venv/bin/python bench/report_scale.py --count 1000000            # both databases
    .venv/bin/python bench/report_scale.py --db sqlite --count 200000 --keep /tmp/r.db

What is seeded (bench/report_seed_data.py): cases over 2023-01-01 .. 2026-12-20 with their status
history, answers, feedback and due dates, as the gateway leaves them (report columns included),
in batches — executemany on SQLite, COPY on PostgreSQL — with the secondary indexes dropped during
the load and rebuilt after it (timed as part of seeding). PostgreSQL then gets VACUUM ANALYZE, as
autovacuum would after a bulk load; SQLite gets nothing (the gateway never runs ANALYZE there).

Each report is built once cold-ish (first query after the load; the page cache is warm), then
`--repeat` times: the median is the figure. Before measuring, the 1-minute load average must be at
most `--max-load` (the machine is shared); the script waits up to `--wait` seconds for it and
records the load it measured under. The figures are cross-checked against the generator's own
tallies (received, answered, open) so a fast report of wrong data cannot pass for a result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from report_seed_data import NOW, TABLES, Generated, Tally, generate
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from connectors.db.engine import make_engine
from connectors.db.migrate import upgrade
from connectors.db.report_queries import SqlReportQueries
from gateway.deadlines.config import load_policy
from gateway.reports.model import Report
from gateway.reports.period import Period, parse_period
from gateway.reports.provinces import load_provinces
from gateway.reports.service import Reports
from gateway.routing_config import load_config

PG_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PERIODS = ("2026-11", "2026-Q3", "2025", "2026")  # a month, a quarter, a closed year, the running year
RESULTS = Path(__file__).with_name("results")


class TimedReads:
    """The store's reads, each call timed: where a report's time goes."""

    def __init__(self, inner: SqlReportQueries) -> None:
        self._inner = inner
        self.spent: dict[str, float] = {}

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._inner, name)

        async def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - started

        return timed


def sqlite_seed(path: Path, data: Generated, batch: int) -> dict[str, float]:
    """executemany in transactions of `batch` cases, secondary indexes rebuilt after the load."""
    timings: dict[str, float] = {}
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # the load only; the gateway runs FULL
    db.execute("PRAGMA cache_size=-1000000")
    names = ",".join(f"'{t}'" for t in TABLES)
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"  # noqa: S608
        f" AND tbl_name IN ({names})"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    statements = {
        table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        for table, cols in TABLES.items()
    }
    for chunk in data.chunks(batch, sqlite=True):
        db.execute("BEGIN")
        for table, rows in chunk.items():
            db.executemany(statements[table], rows)
        db.execute("COMMIT")
        data.progress(started)
    timings["load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for _, sql in indexes:
        db.execute(sql)
    timings["indexes_s"] = time.perf_counter() - started
    db.close()
    return timings


async def pg_seed(url: str, data: Generated, batch: int) -> dict[str, float]:
    """COPY in batches of `batch` cases, secondary indexes rebuilt after, then VACUUM ANALYZE."""
    timings: dict[str, float] = {}
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        indexes = await connection.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
            " AND i.tablename = ANY($1::text[])"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            list(TABLES),
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        started = time.perf_counter()
        for chunk in data.chunks(batch, sqlite=False):
            async with connection.transaction():
                for table, rows in chunk.items():
                    await connection.copy_records_to_table(table, records=rows, columns=list(TABLES[table]))
            data.progress(started)
        timings["load_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for index in indexes:
            await connection.execute(index["indexdef"])
        timings["indexes_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - started
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
        timings["size_gb"] = round(size / 1e9, 2)
    finally:
        await connection.close()
    return timings


@asynccontextmanager
async def pg_database(keep: bool) -> AsyncIterator[str]:
    name = f"pakn_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(
        make_url(PG_BASE).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as c:
            await c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
        finally:
            if keep:
                print(f"  kept PostgreSQL database {name}", flush=True)
            else:
                async with admin.connect() as c:
                    await c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def wait_for_quiet(max_load: float, wait: float) -> tuple[float, float]:
    """(seconds waited, 1-minute load when measuring started)."""
    started = time.monotonic()
    while os.getloadavg()[0] > max_load and time.monotonic() - started < wait:
        print(f"  load {os.getloadavg()[0]:.2f} > {max_load}: waiting", flush=True)
        time.sleep(15)
    return time.monotonic() - started, os.getloadavg()[0]


def check(report: Report, period: Period, tally: Tally) -> None:
    expected = tally.expected(period.start, period.end, min(period.end, NOW))
    got = (report.received_total, report.answered_total.answered, report.backlog_total)
    if got != expected:
        raise SystemExit(f"{period.text}: report gives {got}, the generator counted {expected}")


async def measure(url: str, tally: Tally, repeat: int, max_load: float, wait: float) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        await upgrade(engine)  # nothing to do: seeded at head; proves the schema is current
        reads = TimedReads(SqlReportQueries(engine))
        calendar = load_policy(None).calendar
        reports = Reports(reads, calendar, load_config().routing, load_provinces(), lambda: NOW)  # type: ignore[arg-type]
        started = time.perf_counter()
        await reports.prepare()
        prepare_s = time.perf_counter() - started
        waited, load_before = wait_for_quiet(max_load, wait)
        out: dict[str, Any] = {
            "calendar_refresh_s": round(prepare_s, 3),
            "waited_for_load_s": round(waited),
            "load_before": [round(x, 2) for x in os.getloadavg()],
            "reports": {},
        }
        for text in PERIODS:
            period = parse_period(text)
            runs, parts = [], []
            for _ in range(repeat + 1):
                reads.spent = {}
                started = time.perf_counter()
                report = await reports.build(period)
                runs.append(time.perf_counter() - started)
                parts.append(dict(reads.spent))
            check(report, period, tally)
            median = statistics.median(runs[1:])
            middle = parts[1:][runs[1:].index(median)] if median in runs[1:] else parts[-1]
            out["reports"][text] = {
                "first_s": round(runs[0], 3),
                "median_s": round(median, 3),
                "runs_s": [round(r, 3) for r in runs[1:]],
                "parts_s": {k: round(v, 3) for k, v in middle.items()},
                "received": report.received_total,
                "answered": report.answered_total.answered,
                "open": report.backlog_total,
            }
            print(f"  {text:8} first {runs[0]:6.3f} s, median {median:6.3f} s  {middle}", flush=True)
        out["load_after"] = [round(x, 2) for x in os.getloadavg()]
        out["load_at_start_1min"] = round(load_before, 2)
        return out
    finally:
        await engine.dispose()


async def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{kind}: generating and seeding {args.count:,} cases", flush=True)
    data = generate(args.count, args.seed)
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(dir=args.tmp) as directory:
            path = Path(args.keep) if args.keep else Path(directory) / "reports.db"
            url = f"sqlite+aiosqlite:///{path}"
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            seeding = await asyncio.to_thread(sqlite_seed, path, data, args.batch)
            files = path.parent.glob(path.name + "*")  # the database, its WAL
            seeding["size_gb"] = round(sum(p.stat().st_size for p in files) / 1e9, 2)
            print(f"  seeded: {seeding}", flush=True)
            measured = await measure(url, data.tally, args.repeat, args.max_load, args.wait)
    else:
        async with pg_database(args.keep_pg) as url:
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            seeding = await pg_seed(url, data, args.batch)
            print(f"  seeded: {seeding}", flush=True)
            measured = await measure(url, data.tally, args.repeat, args.max_load, args.wait)
    return {"db": kind, "count": args.count, "rows": data.rows, "seeding": seeding, **measured}


def table(results: list[dict[str, Any]]) -> str:
    head = "| report | " + " | ".join(f"{r['db']} {r['count']:,} (s, median / first)" for r in results) + " |"
    lines = [head, "|---|" + "---:|" * len(results)]
    for text in PERIODS:
        figures = [r["reports"][text] for r in results]
        cells = [f"{f['median_s']:.2f} / {f['first_s']:.2f}" for f in figures]
        lines.append(f"| {parse_period(text).label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--batch", type=int, default=20_000, help="cases per transaction / COPY")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-load", type=float, default=2.0)
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for --max-load")
    parser.add_argument("--keep", help="SQLite: write the database here and keep it")
    parser.add_argument("--tmp", default=None, help="directory for the SQLite file")
    parser.add_argument(
        "--keep-pg", action="store_true", help="PostgreSQL: keep the database (drop it yourself)"
    )
    args = parser.parse_args()
    kinds = ("postgresql", "sqlite") if args.db == "both" else (args.db,)
    results = [await run_one(kind, args) for kind in kinds]
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    out = RESULTS / f"report-scale-{stamp}-{'-'.join(kinds)}-{args.count}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"→ {out}")


if __name__ == "__main__":
    asyncio.run(main())
