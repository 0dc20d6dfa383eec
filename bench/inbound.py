"""Inbound throughput and latency: signed `SubmitPetition` pushes until the case is in its unit queue.

Run by hand (not a test, not in CI), from the repository root, on a quiet machine:

    .venv/bin/python bench/inbound.py --db postgresql --count 6000 --seconds 60 --concurrency 32

A real gateway process (`stack.gateway_stack`: own vhost, database, config, dev PKI, the portal
simulator in a process of its own). The petitions are the simulator's generator's (Vietnamese,
25 % with attachments), each in an envelope signed by the national key BEFORE the clock starts
(`envelopes.py`), sent with a small keep-alive HTTP client (`rawhttp.py`): the load generator signs
nothing and costs little while measured. A consumer on every unit queue notes when each case
arrives. Phases: a warm-up; a closed loop (`--concurrency` connections, each sending its next push
when answered) for the throughput; a wait until both outboxes are empty again (the statuses of the
closed loop at the portal), which gives the sustained rate (the slower of the cases reaching their
queues and a third of the statuses reaching the portal); then a fixed rate at half the sustained
rate for the p99.

`--portal up` (default): the simulator takes the three statuses (01, 03, 04) the gateway signs and
sends per petition, as in production. `--portal down`: it answers 503, the breaker opens and the
statuses wait in the national outbox, so the figure is the intake alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import load
import profiler
import report
import uvloop
from envelopes import Envelope, signed_envelopes
from machine import load_average, machine
from sqlalchemy.engine import make_url
from stack import Stack, gateway_stack, interruptible, settings_env, workers_env

import signing

RESULTS = Path(__file__).resolve().parent / "results"


def latencies(pushes: load.Pushes, arrivals: load.Arrivals, ids: list[str]) -> dict[str, Any]:
    to_queue = [
        arrivals.at[i] - pushes.by_id[i].sent_at for i in ids if i in arrivals.at and i in pushes.by_id
    ]
    receipt = [p.receipt_seconds for i in ids if (p := pushes.by_id.get(i)) and p.receipt_seconds is not None]
    return {
        "push_to_unit_queue_ms": _ms(report.latency_summary(to_queue)),
        "push_to_receipt_ms": _ms(report.latency_summary(receipt)),
    }


def _ms(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(1000 * v, 1) if isinstance(v, float) else v) for k, v in summary.items()}


async def phase(
    stack: Stack,
    arrivals: load.Arrivals,
    envelopes: list[Envelope],
    *,
    name: str,
    concurrency: int | None = None,
    rate: float | None = None,
    seconds: float,
    drain: float,
    profile: Path | None = None,
    gil: bool = False,
) -> dict[str, Any]:
    """One measured phase: push, wait (bounded) for the cases to reach their queues, sum it up."""
    pushes = load.Pushes()
    port = stack.gateway.port
    database = make_url(stack.db_url).database if stack.db_url.startswith("postgresql") else None
    national_before = stack.ready().get("national_outbox", {})
    counters_before = await store_counters(stack.db_url)
    tables_before = await table_counters(stack.db_url)
    spy = (
        profiler.start(stack.gateway_pid, profile, seconds, gil=gil, subprocesses=stack.workers > 1)
        if profile
        else None
    )
    t0 = time.time()
    with load.ProcWatch(stack.gateway_pid, database, sim_pid=stack.sim_pid) as watch:
        if rate is None:
            ran = await load.closed_loop(port, envelopes, concurrency or 1, seconds, pushes)
        else:
            ran = await load.fixed_rate(port, envelopes, rate, seconds, pushes)
        accepted = [pid for pid, p in pushes.by_id.items() if p.outcome == "accepted"]
        complete = await arrivals.wait_for(set(accepted), drain)
        arrived = [arrivals.at[i] for i in accepted if i in arrivals.at]
    national_after = stack.ready().get("national_outbox", {})
    await asyncio.sleep(1.5)  # PostgreSQL publishes its statistics about once a second
    counters = _delta(await store_counters(stack.db_url), counters_before, len(accepted))
    by_table = {
        table: _delta(after, tables_before.get(table, {}), len(accepted))
        for table, after in (await table_counters(stack.db_url)).items()
        if after != tables_before.get(table)  # any change at all, before rounding per petition
    }
    if spy is not None:
        profiler.finish(spy)
    last = max(arrived, default=t0)
    result = {
        "phase": name,
        "started_at": t0,
        "concurrency": concurrency,
        "target_rate": rate,
        "push_seconds": round(ran, 2),
        "sent": len(pushes.by_id),
        "outcomes": dict(pushes.outcomes),
        "accepted": len(accepted),
        "in_unit_queue": len(arrived),
        "all_arrived": complete,
        "receipts_per_second": round(len(accepted) / ran, 1) if ran else None,
        # from the first send to the last arrival: what reached the unit queues, per second
        "to_unit_queue_per_second": round(len(arrived) / max(last - t0, 1e-9), 1),
        **latencies(pushes, arrivals, accepted),
        "cpu_percent_of_one_core": watch.percent(),
        # what the percentages are of: the push and the wait for the cases (bench/overhead.py)
        "cpu_wall_seconds": round(watch.meter.wall, 2),
        "gateway_rss_mib": watch.rss_mib(),  # summed over the serve process and its workers
        "national_outbox_before": national_before,
        "national_outbox_after": national_after,
        "store_per_petition": counters,
        # where PostgreSQL's work goes (BENCHMARKS.md: its CPU is ~4 times its raw stages')
        "store_per_petition_by_table": dict(sorted(by_table.items(), key=lambda kv: -_work(kv[1]))),
    }
    print(_line(result), flush=True)
    return result


async def store_counters(db_url: str) -> dict[str, int]:
    """PostgreSQL's own counts for the database: transactions, index and sequential scans (about
    one per SELECT, UPDATE or DELETE), rows inserted, updated, deleted. {} on SQLite."""
    rows = await _statistics(
        db_url,
        "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,"
        " sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)) AS scans, sum(n_tup_ins) AS inserted,"
        " sum(n_tup_upd) AS updated, sum(n_tup_del) AS deleted FROM pg_stat_user_tables",
    )
    return {k: int(v or 0) for k, v in rows[0].items()} if rows else {}


async def table_counters(db_url: str) -> dict[str, dict[str, int]]:
    """Counts per table: index and sequential scans, rows inserted, updated, and of those updated
    the HOT ones (a new row version without new index entries). {} on SQLite."""
    rows = await _statistics(
        db_url,
        "SELECT relname, coalesce(seq_scan, 0) AS seq_scans, coalesce(idx_scan, 0) AS index_scans,"
        " n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_hot_upd AS hot_updated"
        " FROM pg_stat_user_tables",
    )
    return {r["relname"]: {k: int(v or 0) for k, v in r.items() if k != "relname"} for r in rows}


async def _statistics(db_url: str, query: str) -> list[dict[str, Any]]:
    """The rows of one query on PostgreSQL's statistics views, on a connection of its own; [] on SQLite."""
    if not db_url.startswith("postgresql"):
        return []
    dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


def _work(counts: dict[str, float]) -> float:
    """Statements' work on a table, to sort by: scans and rows written (HOT updates are among the updated)."""
    return sum(v for k, v in counts.items() if k != "hot_updated")


def _delta(after: dict[str, int], before: dict[str, int], petitions: int) -> dict[str, float]:
    if not after or not petitions:
        return {}
    return {k: round((after[k] - before.get(k, 0)) / petitions, 1) for k in after}


def _line(r: dict[str, Any]) -> str:
    q, rc = r["push_to_unit_queue_ms"], r["push_to_receipt_ms"]
    cpu = r["cpu_percent_of_one_core"]
    return (
        f"{r['phase']:>12}: sent {r['sent']:6d} accepted {r['accepted']:6d} in queue {r['in_unit_queue']:6d} "
        f"| {r['to_unit_queue_per_second']:7.1f}/s to queue, receipts {r['receipts_per_second']}/s "
        f"| to queue p50/p95/p99 {q['p50']}/{q['p95']}/{q['p99']} ms, receipt p99 {rc['p99']} ms "
        f"| CPU gw {cpu.get('gateway')}% broker {cpu.get('broker')}% pg {cpu.get('postgres', '—')}% "
        f"sim {cpu.get('portal_sim')}% "
        f"bench {cpu.get('bench')}% | RSS max {load.rss_text(r['gateway_rss_mib'])}"
    )


async def settle(stack: Stack, within: float, *, portal_up: bool = True) -> dict[str, Any]:
    """Wait (at most `within` seconds) until both outboxes are empty: the cases of the phase before
    published and its statuses at the portal, so that the next phase starts on an idle gateway.
    With the portal down its statuses stay: only the cases are waited for."""
    started = time.monotonic()
    while True:
        ready = await asyncio.to_thread(stack.ready)
        national = ready.get("national_outbox", {})
        statuses_done = national.get("pending", 0) == 0 or not portal_up
        done = statuses_done and ready.get("outbox_pending", 0) == 0
        if done or time.monotonic() - started > within:
            return {
                "seconds": round(time.monotonic() - started, 1),
                "settled": done,
                "at": time.time(),
                "national_outbox": national,
            }
        await asyncio.sleep(2)


def sustained(loop: dict[str, Any], after: dict[str, Any], portal_up: bool) -> dict[str, Any]:
    """What the whole inbound path keeps up with: the rate cases reached their queues, and with the
    portal up also a third of the rate statuses reached it (each petition sends 01, 03 and 04),
    counted from the closed loop's start until the national outbox was empty again."""
    delivered = after["national_outbox"].get("delivered", 0) - loop["national_outbox_before"].get(
        "delivered", 0
    )
    statuses = delivered / max(after["at"] - loop["started_at"], 1e-9)
    rate = loop["to_unit_queue_per_second"]
    if portal_up:
        rate = min(rate, statuses / 3)
    return {
        "per_second": round(rate, 1),
        "statuses_per_second": round(statuses, 1),
        "settled": after["settled"],
        "settle_seconds": after["seconds"],
    }


async def run(args: argparse.Namespace, stack: Stack, envelopes: list[Envelope]) -> list[dict[str, Any]]:
    arrivals = load.Arrivals(stack.amqp_url, stack.units)
    await arrivals.start()
    try:
        warm, rest = envelopes[: args.warmup], envelopes[args.warmup :]
        results = [await phase(stack, arrivals, warm, name="warm-up", concurrency=4, seconds=60, drain=30)]
        await settle(stack, args.settle, portal_up=args.portal == "up")
        loop_envs, rest = rest[: args.count], rest[args.count :]
        saturated = await phase(
            stack,
            arrivals,
            loop_envs,
            name="closed loop",
            concurrency=args.concurrency,
            seconds=args.seconds,
            drain=args.drain,
            profile=args.profile,
            gil=args.profile_gil,
        )
        saturated["sustained"] = sustained(
            saturated, await settle(stack, args.settle, portal_up=args.portal == "up"), args.portal == "up"
        )
        print(f"     sustained: {saturated['sustained']}", flush=True)
        results.append(saturated)
        half = max(1.0, saturated["sustained"]["per_second"] / 2)
        results.append(
            await phase(
                stack,
                arrivals,
                rest,
                name="half rate",
                rate=half,
                seconds=args.half_seconds,
                drain=args.drain,
            )
        )
        return results
    finally:
        await arrivals.stop()


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    ap.add_argument("--portal", choices=("up", "down"), default="up")
    ap.add_argument("--count", type=int, default=3000, help="the most pushes of the closed loop")
    ap.add_argument("--seconds", type=float, default=60.0, help="the longest the closed loop runs")
    ap.add_argument("--half-seconds", type=float, default=30.0, help="how long the half-rate phase runs")
    ap.add_argument("--concurrency", type=int, default=32, help="connections of the closed loop")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--drain", type=float, default=120.0, help="the longest wait for cases after a phase")
    ap.add_argument("--attachment-ratio", type=float, default=0.25)
    ap.add_argument("--settle", type=float, default=600.0, help="the longest wait for empty outboxes")
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PAKN_NAME=VALUE",
        help="a gateway setting for this run (repeatable), e.g. PAKN_MESSAGE_LOG_BATCH=1",
    )
    ap.add_argument(
        "--profile",
        type=Path,
        help="py-spy the gateway during the closed loop; collapsed stacks to this file",
    )
    ap.add_argument("--profile-gil", action="store_true", help="only samples holding the GIL (CPU)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (gateway log)")
    ap.add_argument(
        "--workers", type=int, help="gateway worker processes on the one port (PAKN_WORKERS; > 1: PostgreSQL)"
    )
    args = ap.parse_args(argv)
    if args.workers is not None and args.workers > 1 and args.db == "sqlite":
        ap.error("--workers > 1 needs --db postgresql (the gateway refuses it on SQLite)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    interruptible()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    load_start = load_average()
    print(f"inbound: {args.db}, portal {args.portal}; load average at start {load_start}")
    env = settings_env(args.set) | workers_env(args.workers)
    with gateway_stack(args.db, portal_down=args.portal == "down", env=env, keep=args.keep) as stack:
        key = signing.load_pem_key(stack.pki.national_cert, stack.pki.national_key)
        # enough for the closed loop at its count and the half-rate phase at half of the best case
        total = args.warmup + args.count + args.count // 2 + 10
        started = time.perf_counter()
        envelopes = signed_envelopes(
            key, total, attachment_ratio=args.attachment_ratio, prefix="IN" + stamp[-6:]
        )
        print(f"{total} envelopes pre-signed in {time.perf_counter() - started:.1f} s (before any clock)")
        results = uvloop.run(run(args, stack, envelopes))
        log_levels = stack.gateway.log_levels()
    load_end = load_average()
    summary = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine(),
        "started": stamp,
        "load_average": {"start": load_start, "end": load_end},
        "envelopes": {
            "count": total,
            "with_attachments": sum(1 for e in envelopes if e.attachments),
            "mean_bytes": round(sum(len(e.body) for e in envelopes) / total),
        },
        "phases": results,
        "gateway_log_levels": log_levels,
    }
    out: Path = args.out or RESULTS / f"inbound-{stamp}-{args.db}-portal-{args.portal}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"load average at start {load_start}, at end {load_end}; written to {out}")
    return 0 if all(r["all_arrived"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
