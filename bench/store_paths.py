"""CPU of the store's hot transactions, alone: an intake (`SubmitPetition`'s) and a unit's claim.

Run by hand (not a test, not in CI), from the repository root:

    .venv/bin/python bench/store_paths.py --count 1500 [--db postgresql|sqlite] [--at-once 8] [--out FILE]

Why: in the gateway these transactions run beside everything else, so a change of a few per cent
in their cost is lost in a full benchmark's noise. Here each runs on its own, one after another on
a fresh database, through the gateway's own services (`Intake.submit_petition`, `Replies.handle`
with a claim: 04 and 05 written), and this process's CPU is read around them. Rounds alternate
(intake, claim, intake, claim, ...) so drift shows; compare two trees by running both, minutes
apart (a `git worktree` for the other one). `--at-once N` sends the claims N at a time, as the
reply consumer's lanes do (`PAKN_REPLY_CONCURRENCY`), so that concurrent replies can share work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import harness
import uvloop
from case_search import petition as generated_petition

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.petition import Header
from gateway.domain.reply import ReplyKind, UnitReply
from gateway.inbound.intake import Intake
from gateway.outbound.replies import Replies
from gateway.routing_config import load_config


class _NoLetters:
    """Claims make no letter; an answer here would be a bug of this script."""

    async def signed_letter(self, **_: Any) -> bytes:
        raise AssertionError("a claim makes no letter")


async def measure(url: str, count: int, rounds: int, at_once: int = 1) -> dict[str, list[float]]:
    engine = make_engine(url)
    results: dict[str, list[float]] = {"intake": [], "claim": []}
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(make_sessions(engine))
        config = load_config()
        intake = Intake(uow=uow, routing=config.routing)
        replies = Replies(uow=uow, routing=config.routing, documents=_NoLetters())
        rng = random.Random(7)  # noqa: S311 - test data, not secrets
        warm = [generated_petition(n, count, rng)[0] for n in range(50)]
        for p in warm:  # the pool's connections and the statements' caches, before any clock
            await intake.submit_petition(_header(), p)
        for r in range(rounds):
            numbers = range(count * (r + 1), count * (r + 2))
            petitions = [generated_petition(n, count, rng)[0] for n in numbers]
            units: list[tuple[str, str]] = []
            started = time.process_time()
            for p in petitions:
                await intake.submit_petition(_header(), p)
            results["intake"].append(round((time.process_time() - started) / count * 1e6))
            for p in petitions:
                case = await intake.status(p.petition_id)
                units.append((p.petition_id, case.unit_code))
            started = time.process_time()
            for first in range(0, len(units), at_once):
                now = datetime.now(UTC)
                claims = [
                    UnitReply(str(uuid.uuid4()), ReplyKind.CLAIM, pid, unit, now)
                    for pid, unit in units[first : first + at_once]
                ]
                await asyncio.gather(*(replies.handle(claim) for claim in claims))
            results["claim"].append(round((time.process_time() - started) / count * 1e6))
    finally:
        await engine.dispose()
    return results


def _header() -> Header:
    return Header(str(uuid.uuid4()), "000.00.00.G22", "000.00.00.G12", datetime.now(UTC))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--count", type=int, default=1500, help="petitions per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--at-once", type=int, default=1, help="claims sent together (the consumer's lanes)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, harness.own_database(args.db, Path(tmp)) as url:
        (Path(tmp) / "store").mkdir(exist_ok=True)
        results = uvloop.run(measure(url, args.count, args.rounds, args.at_once))
    for path, figures in results.items():
        shown = " / ".join(f"{f:.0f}" for f in figures)
        print(f"{path:>7}: {shown} µs of this process's CPU per transaction")
    if args.out:
        figures = {"db": args.db, "count": args.count, "at_once": args.at_once, "us_cpu": results}
        args.out.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
