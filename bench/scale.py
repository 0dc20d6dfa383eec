"""Scale: the inbound figure on an empty store and on one already holding 1,000,000 cases, and the
gateway's RSS with 100,000 messages queued on a unit queue.

Run by hand (not a test, not in CI), from the repository root, on a quiet machine:

    .venv/bin/python bench/scale.py --cases 1000000 --count 3000 --seconds 40 --queued 100000

PostgreSQL only (a million cases is its job, not SQLite's). Each store is a database of its own:
the seeded one is filled before its gateway starts by `seed.py` (COPY in batches of 5,000 cases:
the case row with its search keys, its status history, its receipt, its delivered statuses; about
ten rows per case), and the time that took is reported. Each then gets the same closed loop as
inbound.py (pre-signed pushes until the case is in its unit queue), the portal simulator up. On
the seeded store, 100,000 case messages (copies of real ones) are then published to one unit
queue that nobody consumes, and the gateway's RSS is read while it keeps taking petitions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import inbound
import load
import seed
import uvloop
from envelopes import Envelope, signed_envelopes
from machine import load_average, machine
from sqlalchemy.engine import make_url
from stack import Stack, gateway_stack, interruptible

import signing
from connectors.amqp.topology import unit_queue_name

RESULTS = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024


async def queue_backlog(stack: Stack, count: int, body: bytes) -> dict[str, Any]:
    """Publish `count` persistent copies of a case message to the first unit's queue (confirmed,
    in windows of 500); then read the queue's depth and the gateway's RSS."""
    code = stack.units[0]
    connection = await aio_pika.connect(stack.amqp_url, timeout=10)
    started = time.perf_counter()
    try:
        channel = await connection.channel(publisher_confirms=True)
        for i in range(0, count, 500):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            body,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            type="pakn.case.new",
                            message_id=f"backlog-{i + j}",
                            content_type="application/json",
                        ),
                        unit_queue_name(code),
                    )
                    for j in range(min(500, count - i))
                )
            )
        queue = await channel.declare_queue(unit_queue_name(code), passive=True)
        depth = int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()
    return {
        "unit": code,
        "published": count,
        "depth": depth,
        "seconds": round(time.perf_counter() - started, 1),
    }


async def case_body(stack: Stack) -> bytes:
    """A real case message of this gateway's (the outbox keeps them), for the queued copies."""
    dsn = make_url(stack.db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        body = await conn.fetchval("SELECT body FROM outbox ORDER BY id LIMIT 1")
    finally:
        await conn.close()
    return bytes(body) if body else b"{}"


async def measured(
    args: argparse.Namespace, stack: Stack, envelopes: list[Envelope], label: str, backlog: int
) -> dict[str, Any]:
    arrivals = load.Arrivals(stack.amqp_url, stack.units)
    await arrivals.start()
    warm, rest = envelopes[: args.warmup], envelopes[args.warmup :]
    try:
        await inbound.phase(stack, arrivals, warm, name=f"{label} warm", concurrency=4, seconds=60, drain=30)
        await inbound.settle(stack, 600)
        result = await inbound.phase(
            stack,
            arrivals,
            rest[: args.count],
            name=label,
            concurrency=args.concurrency,
            seconds=args.seconds,
            drain=args.drain,
        )
    finally:
        await arrivals.stop()
    if backlog:
        # nobody consumes the unit queues now: the backlog stays, and the new cases join it. The
        # phase's figures are receipts (an arrivals counter that never started sees nothing).
        rss_before = load.ProcWatch(stack.gateway_pid, None).rss()
        result["backlog"] = await queue_backlog(stack, backlog, await case_body(stack))
        after = await inbound.phase(
            stack,
            load.Arrivals(stack.amqp_url, []),
            rest[args.count :],
            name=f"{label} + backlog",
            concurrency=args.concurrency,
            seconds=min(args.seconds, 30),
            drain=0,
        )
        result["backlog"] |= {
            "gateway_rss_before_mib": round(rss_before / MIB, 1),
            "gateway_rss_after_mib": after["gateway_rss_mib"],
            "receipts_per_second": after["receipts_per_second"],
            "phase": after,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--cases", type=int, default=1_000_000, help="cases seeded in the second store")
    ap.add_argument("--count", type=int, default=3000, help="the most pushes of each closed loop")
    ap.add_argument("--seconds", type=float, default=40.0, help="the longest each closed loop runs")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--drain", type=float, default=120.0)
    ap.add_argument("--queued", type=int, default=100_000, help="messages left on a unit queue")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    interruptible()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    load_start = load_average()
    print(f"scale: {args.cases:,} cases; load average at start {load_start}")
    results: dict[str, Any] = {}
    total = args.warmup + 2 * args.count + 10
    seeding: dict[str, Any] = {}

    def prepare(url: str, suffix: str) -> None:
        seeding.update(asyncio.run(seed.seed(url, args.cases, unit_of=lambda u: f"{u}_{suffix}")))
        seeding["sizes"] = seed.table_sizes(url)
        print(f"seeded: {seeding}", flush=True)

    for label, cases in (("seeded", args.cases), ("empty", 0)):
        with gateway_stack("postgresql", prepare=prepare if cases else None) as stack:
            key = signing.load_pem_key(stack.pki.national_cert, stack.pki.national_key)
            envelopes = signed_envelopes(key, total, prefix=f"SC{label[0].upper()}{stamp[-6:]}")
            results[label] = uvloop.run(
                measured(args, stack, envelopes, f"{label} store", args.queued if cases else 0)
            )
            results[label]["gateway_log_levels"] = stack.gateway.log_levels()
    load_end = load_average()
    ratio = results["seeded"]["to_unit_queue_per_second"] / max(
        results["empty"]["to_unit_queue_per_second"], 1e-9
    )
    print(f"throughput with {args.cases:,} cases stored / empty store: {ratio:.2f}")
    out: Path = args.out or RESULTS / f"scale-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine(),
        "started": stamp,
        "load_average": {"start": load_start, "end": load_end},
        "seeding": seeding,
        "results": results,
        "seeded_over_empty": round(ratio, 3),
    }
    out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"load average at start {load_start}, at end {load_end}; written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
