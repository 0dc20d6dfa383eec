"""CPU of one SELECT by key through an AsyncSession: built per call, built once, or on its connection.

Run by hand (not a test, not in CI), from the repository root:

    .venv/bin/python bench/statements.py --count 3000 [--db postgresql|sqlite]

Why: the store's statements were built at every call (`select(...).where(col == value)`), and
SQLAlchemy then constructs the expression and computes its cache key each time; a statement built
once with `bindparam` keeps its memoised cache key, leaving only the execution. Both variants run
alternately (built, once, connection, built, ...) in one session on a fresh database, so drift
shows. "On the connection" executes the prebuilt statement on the session's AsyncConnection (Core),
skipping the ORM session's execution path, to price what the store's statements pay for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import harness
from sqlalchemy import bindparam, select

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.tables import SeenMessageRow

ONCE = select(
    SeenMessageRow.receipt_id, SeenMessageRow.accepted, SeenMessageRow.error_code, SeenMessageRow.error_text
).where(SeenMessageRow.message_id == bindparam("message_id"))


async def measure(url: str, count: int) -> dict[str, list[float]]:
    engine = make_engine(url)
    results: dict[str, list[float]] = {"built per call": [], "built once": [], "on the connection": []}
    try:
        await upgrade(engine)
        async with make_sessions(engine)() as session:
            for _ in range(2):
                for variant in results:
                    started = time.process_time()
                    connection = await session.connection()
                    for n in range(count):
                        if variant == "on the connection":  # Core: the ORM session's execute skipped
                            await connection.execute(ONCE, {"message_id": f"m-{n}"})
                        elif variant == "built once":
                            await session.execute(ONCE, {"message_id": f"m-{n}"})
                        else:
                            built = select(
                                SeenMessageRow.receipt_id, SeenMessageRow.accepted,
                                SeenMessageRow.error_code, SeenMessageRow.error_text,
                            ).where(SeenMessageRow.message_id == f"m-{n}")
                            await session.execute(built)
                    results[variant].append(round((time.process_time() - started) / count * 1e6, 1))
    finally:
        await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, harness.own_database(args.db, Path(tmp)) as url:
        (Path(tmp) / "store").mkdir(exist_ok=True)
        results = asyncio.run(measure(url, args.count))
    for variant, figures in results.items():
        print(f"{variant:>15}: {' / '.join(f'{f:.0f}' for f in figures)} µs of this process's CPU per SELECT")
    if args.out:
        args.out.write_text(json.dumps({"db": args.db, "count": args.count, "us_cpu_per_select": results}))


if __name__ == "__main__":
    main()
