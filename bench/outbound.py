"""Outbound throughput: unit replies until the simulator holds the signed status or answer.

Run by hand (not a test, not in CI), from the repository root, on a quiet machine:

    .venv/bin/python bench/outbound.py --db postgresql --cases 2000 --answers 400 --seconds 120

The store is seeded (`seed.py`) with `--cases` cases at 04, each held by its unit, before the
gateway starts: the measurement is the reply path alone, not the intake. Then, each phase a burst
published to `pakn.replies` over AMQP as a unit does (persistent, confirmed, pipelined; the bench's
own cost is small): a claim for every case (→ 05, a `ReceiveStatus`), a note for every case
(a `ReceiveStatus`, same status, next Seq), an answer for `--answers` of them (→ 06 and a
`ReceiveAnswer` carrying the letter the gateway rendered and PAdES-signed). A phase ends when the
simulator, which verifies every signature, has accepted all of its messages, or after `--seconds`.
Rate = accepted at the portal / (last arrival − first publish).

The simulator never saw the seeded cases' 01–04, so it counts their answers as "before 04"; it
refuses nothing for that, and the count is left out of the verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import load
import profiler
import report
import seed
import uvloop
from machine import load_average, machine
from sqlalchemy.engine import make_url
from stack import Stack, gateway_stack, interruptible, settings_env, workers_env

from connectors.amqp.demo_unit import REPLY_SCHEMA, DemoSigner, answer_text
from connectors.amqp.topology import REPLIES_EXCHANGE, REPLIES_QUEUE, unit_error_queue_name

RESULTS = Path(__file__).resolve().parent / "results"


def reply(kind: str, petition_id: str, unit: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema": REPLY_SCHEMA,
        "version": 1,
        "message_id": str(uuid.uuid4()),
        "type": kind,
        "petition_id": petition_id,
        "unit_code": unit,
    }
    if kind == "note":
        body["text"] = "Đơn vị đang xác minh nội dung phản ánh với cơ quan bảo hiểm xã hội địa phương."
    if kind == "answer":
        signer = DemoSigner()
        body |= {
            "content": answer_text(petition_id),
            "signer_name": signer.full_name,
            "signer_position": signer.position,
            "publish": False,
        }
    return body


async def publish_all(amqp_url: str, replies: list[dict[str, Any]], window: int = 200) -> dict[str, float]:
    """Publish the replies, confirmed in windows; returns petition_id → publish time (wall clock)."""
    sent: dict[str, float] = {}
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(REPLIES_EXCHANGE)
        for i in range(0, len(replies), window):
            chunk = replies[i : i + window]
            for r in chunk:
                sent[r["petition_id"]] = time.time()
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            json.dumps(r, ensure_ascii=False).encode(),
                            message_id=r["message_id"],
                            correlation_id=r["petition_id"],
                            content_type="application/json",
                            type=f"pakn.reply.{r['type']}",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        f"unit.{r['unit_code']}.reply.{r['type']}",
                        mandatory=True,
                    )
                    for r in chunk
                )
            )
    finally:
        await connection.close()
    return sent


def matches(kind: str, row: list[Any]) -> bool:
    operation, _pid, seq, status, verdict, outcome, _at = row
    if outcome != "accepted" or verdict != "valid":
        return False
    if kind == "answer":
        return bool(operation == "ReceiveAnswer")
    return bool(operation == "ReceiveStatus" and status == "05" and seq == (4 if kind == "claim" else 5))


async def phase(
    stack: Stack,
    kind: str,
    cases: list[tuple[str, str]],
    cursor: list[int],
    seconds: float,
    profile: Path | None = None,
    native: bool = False,
) -> dict[str, Any]:
    replies = [reply(kind, pid, unit) for pid, unit in cases]
    database = make_url(stack.db_url).database if stack.db_url.startswith("postgresql") else None
    arrived: dict[str, float] = {}
    wanted = {pid for pid, _ in cases}
    spy = None
    if profile is not None:
        out = profile.with_name(f"{profile.stem}-{kind}.txt")
        spy = profiler.start(
            stack.gateway_pid, out, 30, gil=True, subprocesses=stack.workers > 1, native=native
        )
    backlog = Backlog(stack)
    await backlog.open()
    with load.ProcWatch(stack.gateway_pid, database, sim_pid=stack.sim_pid) as watch:
        started = time.time()
        sent = await publish_all(stack.amqp_url, replies)
        published = time.time() - started
        deadline = time.monotonic() + seconds
        while len(arrived) < len(wanted) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            await backlog.sample()
            got = await asyncio.to_thread(stack.arrivals, cursor[0])
            cursor[0] = got["next"]
            for row in got["rows"]:
                if row[1] in wanted and matches(kind, row):
                    arrived.setdefault(row[1], row[6])
    if spy is not None:
        profiler.finish(spy)
    await backlog.close()
    last = max(arrived.values(), default=started)
    lat = [arrived[p] - sent[p] for p in arrived]
    result: dict[str, Any] = {
        "phase": kind,
        "replies": len(replies),
        "published_in_s": round(published, 2),
        "at_portal": len(arrived),
        "complete": len(arrived) == len(wanted),
        "per_second": round(len(arrived) / max(last - started, 1e-9), 1),
        "reply_to_portal_ms": {
            k: (round(1000 * v, 1) if isinstance(v, float) else v)
            for k, v in report.latency_summary(lat).items()
        },
        "cpu_percent_of_one_core": watch.percent(),
        "backlog": backlog.summary(),
        "gateway_rss_mib": watch.rss_mib(),  # summed over the serve process and its workers
    }
    q = result["reply_to_portal_ms"]
    cpu = result["cpu_percent_of_one_core"]
    print(
        f"{kind:>7}: {result['at_portal']}/{len(replies)} at portal, {result['per_second']}/s; "
        f"reply → portal p50/p95/p99 {q['p50']}/{q['p95']}/{q['p99']} ms | CPU gw {cpu.get('gateway')}% "
        f"broker {cpu.get('broker')}% pg {cpu.get('postgres', '—')}% sim {cpu.get('portal_sim')}% "
        f"| RSS max {load.rss_text(result['gateway_rss_mib'])}",
        flush=True,
    )
    b = result["backlog"]
    print(
        f"{'':>7}  waiting, mean / max over {b['samples']} samples: replies queue "
        f"{b['replies_queue_mean']} / {b['replies_queue_max']}, "
        f"national outbox {b['national_pending_mean']} / {b['national_pending_max']}",
        flush=True,
    )
    return result


class Backlog:
    """Where a burst waits while it drains, sampled every half second: still in the replies queue
    (the reply consumer is behind) or applied and pending in the national outbox (the sender is)."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._queue: list[int] = []
        self._national: list[int] = []
        self._amqp: aio_pika.abc.AbstractConnection | None = None
        self._db: asyncpg.Connection | None = None

    async def open(self) -> None:
        self._amqp = await aio_pika.connect(self._stack.amqp_url, timeout=10)
        dsn = make_url(self._stack.db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._db = await asyncpg.connect(dsn)

    async def sample(self) -> None:
        assert self._amqp is not None and self._db is not None
        channel = await self._amqp.channel()
        try:
            queue = await channel.declare_queue(REPLIES_QUEUE, passive=True)
            self._queue.append(int(queue.declaration_result.message_count or 0))
        finally:
            await channel.close()
        pending = await self._db.fetchval("SELECT count(*) FROM national_outbox WHERE state = 'pending'")
        self._national.append(int(pending))

    async def close(self) -> None:
        if self._amqp is not None:
            await self._amqp.close()
        if self._db is not None:
            await self._db.close()

    def summary(self) -> dict[str, Any]:
        def mean(values: list[int]) -> float | None:
            return round(sum(values) / len(values), 1) if values else None

        return {
            "samples": len(self._queue),
            "replies_queue_mean": mean(self._queue),
            "replies_queue_max": max(self._queue, default=None),
            "national_pending_mean": mean(self._national),
            "national_pending_max": max(self._national, default=None),
        }


async def seeded_cases(db_url: str, count: int) -> list[tuple[str, str]]:
    dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT petition_id, unit_code FROM cases ORDER BY petition_id LIMIT $1", count
        )
    finally:
        await conn.close()
    return [(r["petition_id"], r["unit_code"]) for r in rows]


async def errors_queued(stack: Stack) -> int:
    connection = await aio_pika.connect(stack.amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        total = 0
        for code in stack.units:
            queue = await channel.declare_queue(unit_error_queue_name(code), passive=True)
            total += int(queue.declaration_result.message_count or 0)
        return total
    finally:
        await connection.close()


async def run(args: argparse.Namespace, stack: Stack) -> list[dict[str, Any]]:
    cases = await seeded_cases(stack.db_url, args.cases)
    cursor = [stack.arrivals(0)["next"]]
    native = args.profile_native
    results = [await phase(stack, "claim", cases, cursor, args.seconds, args.profile, native)]
    results.append(await phase(stack, "note", cases, cursor, args.seconds))
    results.append(
        await phase(stack, "answer", cases[: args.answers], cursor, args.seconds, args.profile, native)
    )
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--db", choices=("postgresql",), default="postgresql")
    ap.add_argument("--cases", type=int, default=2000, help="cases seeded at 04; claims and notes for each")
    ap.add_argument("--answers", type=int, default=400, help="how many of them get an answer")
    ap.add_argument("--seconds", type=float, default=180.0, help="the longest wait of a phase")
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PAKN_NAME=VALUE",
        help="a gateway setting for this run (repeatable)",
    )
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--workers", type=int, help="gateway worker processes on the one port (PAKN_WORKERS)")
    ap.add_argument(
        "--profile", type=Path, help="py-spy (GIL) of the claim and answer phases: FILE-claim.txt…"
    )
    ap.add_argument(
        "--profile-native",
        action="store_true",
        help="the profile with C frames (system calls); it pauses the gateway at each sample",
    )
    args = ap.parse_args(argv)
    interruptible()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    load_start = load_average()
    print(f"outbound: {args.db}; load average at start {load_start}")
    seeding: dict[str, Any] = {}

    def prepare(url: str, suffix: str) -> None:
        seeding.update(
            asyncio.run(seed.seed(url, args.cases, unit_of=lambda u: f"{u}_{suffix}", status="04"))
        )

    env = settings_env(args.set) | workers_env(args.workers)
    with gateway_stack(args.db, prepare=prepare, env=env, keep=args.keep) as stack:
        print(f"seeded {seeding}")
        results = uvloop.run(run(args, stack))
        final = stack.arrivals(0)
        errors = asyncio.run(errors_queued(stack))
        log_levels = stack.gateway.log_levels()
        problems = stack.gateway.problem_lines(10)
    load_end = load_average()
    out: Path = args.out or RESULTS / f"outbound-{stamp}-{args.db}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine(),
        "started": stamp,
        "load_average": {"start": load_start, "end": load_end},
        "seeding": seeding,
        "phases": results,
        "unit_error_messages": errors,
        "portal": {k: final[k] for k in ("answers_ok", "order_violations", "answers_before_assignment")},
        "gateway_log_levels": log_levels,
        "gateway_log_problems": problems,
    }
    out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"unit error messages {errors}; portal {summary['portal']}; log {log_levels}")
    print(f"load average at start {load_start}, at end {load_end}; written to {out}")
    return 0 if all(r["complete"] for r in results) and errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
