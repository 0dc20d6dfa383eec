"""Soak the whole pipeline for a chosen time and report throughput, errors and memory over time.

Run by hand (not a test, not in CI), from the repository root:

    .venv/bin/python bench/soak.py --minutes 3 --rate 20 --db sqlite --out bench/results/soak-DATE.json

Parts, all on 127.0.0.1 and all removed at the end (Ctrl+C included): the national portal simulator
served from a thread of this process; one gateway as a real process (`pakn-gateway serve`) with a
RabbitMQ virtual host, a config copy (suffixed unit codes), a dev PKI and a database of its own; the
demonstration unit (`connectors.amqp.demo_unit.auto_answer`) claiming and answering every case; a
few threads pushing signed petitions at the chosen rate. Every `--interval` seconds one line:
petitions accepted, at their unit (04+), answered (06), answers at the portal, errors, the gateway's
RSS and CPU, queue depths, both outboxes. After the push phase it drains (up to `--drain` seconds),
then prints a table and writes the whole series as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import zeep.exceptions
from aio_pika.abc import AbstractChannel, AbstractConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import signing
from connectors.amqp.demo_unit import auto_answer
from connectors.amqp.topology import DEAD_QUEUE, REPLIES_QUEUE, unit_error_queue_name, unit_queue_name
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import MinistryClient
from connectors.national_sim.recorder import SimRecorder
from connectors.national_sim.server import create_sim_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # bench/ is a folder of scripts, not a package: its siblings by path
import report

MIB = 1024 * 1024
AT_UNIT = ("04", "05", "06")
REFUSED = re.compile(r"refused: \w+: Case (\S+) is")


@dataclass
class Push:
    sent_at: float  # wall clock, comparable with the simulator's timestamps
    receipt_seconds: float | None = None


@dataclass
class Pusher:
    """Threads sending petition i at t0 + i/rate (or at once when behind: the lag is recorded)."""

    wsdl_url: str
    pki: signing.pki.DevPki
    petitions: list[dict[str, Any]]
    rate: float
    threads: int
    pushes: dict[str, Push] = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    max_lag: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0
    _workers: list[threading.Thread] = field(default_factory=list)
    _clients: list[MinistryClient] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.pushes)

    def prepare(self) -> None:
        """One client per thread, built before the clock starts (each loads the WSDL)."""
        key = signing.load_pem_key(self.pki.national_cert, self.pki.national_key)  # once: see LIMITS.md
        trust = self.pki.trust_store()
        self._clients = [
            MinistryClient(self.wsdl_url, key, trust=trust, timeout=30) for _ in range(self.threads)
        ]

    def start(self, t0: float, deadline: float) -> None:
        for n, client in enumerate(self._clients):
            worker = threading.Thread(
                target=self._run, args=(client, t0, deadline), name=f"push-{n}", daemon=True
            )
            self._workers.append(worker)
            worker.start()

    def join(self, timeout: float) -> None:
        for worker in self._workers:
            worker.join(timeout)

    def _run(self, client: MinistryClient, t0: float, deadline: float) -> None:
        while not self.stop.is_set():
            with self._lock:
                index = self._next
                self._next += 1
            due = t0 + index / self.rate
            if due >= deadline or index >= len(self.petitions):
                return
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            petition = self.petitions[index]
            lag = time.monotonic() - due
            push = Push(time.time())
            with self._lock:
                self.pushes[petition["PetitionId"]] = push
                self.max_lag = max(self.max_lag, lag)
            started = time.perf_counter()
            try:
                receipt = client.submit_petition(petition)
            except zeep.exceptions.Fault as fault:
                with self._lock:
                    self.faults[str(fault.code)] += 1
                continue
            except Exception as exc:  # transport errors are counted, never raised: the soak reports
                with self._lock:
                    self.errors[type(exc).__name__] += 1
                continue
            push.receipt_seconds = time.perf_counter() - started
            with self._lock:
                if receipt.Duplicate:
                    self.duplicates += 1
                elif receipt.Accepted:
                    self.accepted += 1
                else:
                    self.faults[f"not accepted: {receipt.ErrorCode}"] += 1


@dataclass
class Soak:
    args: argparse.Namespace
    gateway: harness.GatewayProcess
    recorder: SimRecorder
    amqp_url: str
    db_url: str
    units: list[str]
    pusher: Pusher
    samples: list[dict[str, Any]] = field(default_factory=list)
    answered_by_unit: int = 0
    t0: float = 0.0
    t0_wall: float = 0.0
    push_seconds: float = 0.0
    drain_seconds: float | None = None
    push_end: dict[str, Any] | None = None
    _last: dict[str, Any] = field(default_factory=dict)

    async def run(self) -> None:
        stop_unit = asyncio.Event()
        unit = asyncio.create_task(
            auto_answer(
                self.amqp_url, self.units, stop_unit, on_answer=self._answered, prefetch=self.args.prefetch
            )
        )
        engine = create_async_engine(self.db_url, poolclass=NullPool)  # reads only: no BEGIN IMMEDIATE
        amqp = await aio_pika.connect(self.amqp_url, timeout=10)
        http = httpx.AsyncClient(base_url=self.gateway.base_url, timeout=10)
        try:
            self.push_seconds = self.args.minutes * 60
            await asyncio.to_thread(self.pusher.prepare)
            self.t0, self.t0_wall = time.monotonic(), time.time()
            self.pusher.start(self.t0, self.t0 + self.push_seconds)
            await self._sample(engine, amqp, http)
            still = 0
            while True:
                elapsed = time.monotonic() - self.t0
                wait = self.args.interval - (elapsed % self.args.interval)
                if elapsed < self.push_seconds:  # one sample exactly at the end of the push phase
                    wait = min(wait, self.push_seconds - elapsed)
                await asyncio.sleep(max(wait, 0.05))
                if unit.done():
                    raise RuntimeError(f"the demo unit stopped: {unit.exception()!r}")
                before = self.samples[-1]
                sample = await self._sample(engine, amqp, http)
                if sample["t"] < self.push_seconds - 0.01:
                    continue
                if self.push_end is None:
                    self.push_end = sample
                    self.pusher.stop.set()
                drain = round(sample["t"] - self.push_seconds, 1)
                if sample["answers_at_portal"] >= self.pusher.accepted and sample["national_pending"] == 0:
                    self.drain_seconds = drain
                    break
                still = still + 1 if _idle(before, sample) else 0
                if still >= 3:  # nothing moves any more: what is left is stuck, not slow
                    self.drain_seconds = drain
                    print(f"drain: idle after {drain} s; {sample['backlog']} petitions left unanswered")
                    break
                if drain > self.args.drain:
                    print(f"drain: not settled within {self.args.drain:.0f} s")
                    break
        finally:
            self.pusher.stop.set()
            stop_unit.set()
            await asyncio.gather(unit, return_exceptions=True)
            await http.aclose()
            await amqp.close()
            await engine.dispose()
            self.pusher.join(timeout=35)

    def _answered(self, _petition_id: str) -> None:
        self.answered_by_unit += 1

    async def _sample(self, engine: Any, amqp: AbstractConnection, http: httpx.AsyncClient) -> dict[str, Any]:
        if self.gateway.process is not None and self.gateway.process.poll() is not None:
            raise RuntimeError(
                f"the gateway exited ({self.gateway.process.returncode})\n{self.gateway.tail()}"
            )
        t = time.monotonic() - self.t0
        started = time.perf_counter()
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT status, count(*) FROM cases GROUP BY status"))).all()
        statuses = {str(s): int(n) for s, n in rows}
        try:
            ready = (await http.get("/health/ready")).json()
        except (httpx.HTTPError, ValueError) as exc:  # a slow or busy gateway is a figure, not an end
            ready = {"error": type(exc).__name__}
        depths = await self._depths(amqp)
        received = self.recorder.received
        outcomes = Counter(r.outcome for r in received)
        answers = sum(1 for a in self.recorder.answers() if a.sha256_ok)
        gw = harness.proc_sample(self.gateway.process.pid) if self.gateway.process else None
        me = harness.proc_sample(os.getpid())
        p = self.pusher
        national = ready.get("national_outbox", {})
        sample: dict[str, Any] = {
            "t": round(t, 2),
            "sent": p.sent,
            "accepted": p.accepted,
            "duplicates": p.duplicates,
            "push_faults": sum(p.faults.values()),
            "push_errors": sum(p.errors.values()),
            "push_max_lag_s": round(p.max_lag, 3),
            "statuses": statuses,
            "at_unit": sum(statuses.get(s, 0) for s in AT_UNIT),
            "answered": statuses.get("06", 0),
            "answered_by_unit": self.answered_by_unit,
            "portal_accepted": outcomes.get("accepted", 0),
            "portal_duplicates": outcomes.get("duplicate", 0),
            "portal_refusals": sum(
                n for o, n in outcomes.items() if o not in ("accepted", "duplicate", "listed")
            ),
            "answers_at_portal": answers,
            "outbox_pending": ready.get("outbox_pending"),
            "national_pending": national.get("pending", 0) if "error" not in ready else -1,
            "national_dead": national.get("dead", 0),
            "national_delivered": national.get("delivered", 0),
            "breaker": ready.get("national_portal"),
            "health_error": ready.get("error"),
            "queues": depths,
            "gateway_rss": gw.rss_bytes if gw else None,
            "gateway_cpu_s": round(gw.cpu_seconds, 2) if gw else None,
            "gateway_threads": gw.threads if gw else None,
            "soak_rss": me.rss_bytes if me else None,
            "soak_cpu_s": round(me.cpu_seconds, 2) if me else None,
        }
        sample["backlog"] = sample["accepted"] - answers
        sample["sample_seconds"] = round(time.perf_counter() - started, 3)
        sample["gateway_cpu_percent"] = self._cpu_percent(sample, "gateway_cpu_s")
        self._last = sample
        self.samples.append(sample)
        print(_line(sample), flush=True)
        return sample

    def _cpu_percent(self, sample: dict[str, Any], key: str) -> float | None:
        last = self._last
        if not last or sample[key] is None or last.get(key) is None or sample["t"] <= last["t"]:
            return None
        return round(100 * float(sample[key] - last[key]) / float(sample["t"] - last["t"]), 1)

    async def _depths(self, amqp: AbstractConnection) -> dict[str, int]:
        channel = await amqp.channel()
        try:
            units = errors = 0
            for code in self.units:
                units += await _depth(channel, unit_queue_name(code))
                errors += await _depth(channel, unit_error_queue_name(code))
            return {
                "units": units,
                "unit_errors": errors,
                "replies": await _depth(channel, REPLIES_QUEUE),
                "dead": await _depth(channel, DEAD_QUEUE),
            }
        finally:
            await channel.close()


def _idle(before: dict[str, Any], now: dict[str, Any]) -> bool:
    keys = ("answers_at_portal", "portal_accepted", "national_pending", "answered", "outbox_pending")
    queues = now["queues"]["units"] + now["queues"]["replies"]
    return queues == 0 and all(before[k] == now[k] for k in keys)


async def _depth(channel: AbstractChannel, name: str) -> int:
    queue = await channel.declare_queue(name, passive=True)
    return int(queue.declaration_result.message_count or 0)


def _line(s: dict[str, Any]) -> str:
    q = s["queues"]
    rss = f"{s['gateway_rss'] / MIB:.0f}" if s["gateway_rss"] else "?"
    cpu = "—" if s["gateway_cpu_percent"] is None else f"{s['gateway_cpu_percent']:.0f}%"
    return (
        f"t={s['t']:7.1f}s sent={s['sent']:6d} acc={s['accepted']:6d} unit={s['at_unit']:6d} "
        f"ans={s['answered']:6d} portal={s['answers_at_portal']:6d} backlog={s['backlog']:5d} "
        f"err={s['push_faults'] + s['push_errors'] + s['portal_refusals'] + s['national_dead']} "
        f"rss={rss}MiB cpu={cpu} q[unit={q['units']} repl={q['replies']} err={q['unit_errors']}] "
        f"outbox={s['outbox_pending']} national={s['national_pending']} lag={s['push_max_lag_s']:.2f}s"
    )


def summarise(soak: Soak, interrupted: bool) -> dict[str, Any]:
    samples, p, rec = soak.samples, soak.pusher, soak.recorder
    push_s = soak.push_seconds
    end_push = soak.push_end or (samples[-1] if samples else {"t": 0.0})
    in_push = [s for s in samples if s["t"] <= end_push["t"]]
    window = max(1e-9, end_push["t"])
    last = samples[-1] if samples else {}
    answers = [a for a in rec.answers() if a.sha256_ok]
    answered_ids = {a.petition_id for a in answers}
    refused = {m.group(1) for line in soak.gateway.matching("refused:", None) if (m := REFUSED.search(line))}
    receipt = [x.receipt_seconds for x in p.pushes.values() if x.receipt_seconds is not None]
    to_04, to_answer = [], []
    for r in rec.received:
        push = p.pushes.get(r.petition_id or "")
        if push is not None and r.outcome == "accepted" and r.status_code == "04":
            to_04.append(r.at.timestamp() - push.sent_at)
    for a in answers:
        push = p.pushes.get(a.petition_id)
        if push is not None:
            to_answer.append(a.at.timestamp() - push.sent_at)
    last_answer = max((a.at.timestamp() for a in answers), default=None)
    overall = None if last_answer is None else len(answers) / max(1e-9, last_answer - soak.t0_wall)
    cpu = [(s["t"], s["gateway_cpu_s"]) for s in in_push if s["gateway_cpu_s"] is not None]
    mine = [(s["t"], s["soak_cpu_s"]) for s in in_push if s["soak_cpu_s"] is not None]
    dt = push_s if push_s else 1.0
    return {
        "interrupted": interrupted,
        "db": soak.args.db,
        "target_rate": soak.args.rate,
        "push_seconds": push_s,
        "drain_seconds": soak.drain_seconds,
        "sent": p.sent,
        "accepted": p.accepted,
        "duplicates": p.duplicates,
        "pushed_per_second": p.sent / dt,
        "push_max_lag_seconds": round(p.max_lag, 3),
        "in_per_second": end_push.get("accepted", 0) / window,
        "out_per_second_push_phase": end_push.get("answers_at_portal", 0) / window,
        "out_per_second_overall": overall,
        "answers_at_portal": len(answers),
        "answered_by_unit": soak.answered_by_unit,
        "backlog_end_of_push": end_push.get("backlog", 0),
        "backlog_max": max((s["backlog"] for s in samples), default=0),
        "backlog_slope_per_min": report.backlog_slope(samples, push_s),
        "latency_seconds": {
            "push_to_receipt": report.latency_summary(receipt),
            "push_to_04_at_portal": report.latency_summary(to_04),
            "push_to_answer_at_portal": report.latency_summary(to_answer),
        },
        "push_faults": dict(p.faults),
        "push_errors": dict(p.errors),
        "portal_refusals": last.get("portal_refusals", 0),
        "portal_duplicates": last.get("portal_duplicates", 0),
        "order_violations": len(rec.order_violations),
        "answers_before_assignment": len(rec.answers_before_assignment),
        "national_dead": last.get("national_dead", 0),
        "unit_error_messages": last.get("queues", {}).get("unit_errors", 0),
        "log_levels": soak.gateway.log_levels(),
        "log_problems": soak.gateway.problem_lines(),
        "reply_refusals": soak.gateway.matching("refused:"),
        "refused_petitions": len(refused),
        "unanswered_refused": len(refused - answered_ids),
        "unanswered_not_refused": max(0, p.accepted - len(answers) - len(refused - answered_ids)),
        "stuck_statuses": {k: v for k, v in last.get("statuses", {}).items() if k != "06"},
        "gateway_cpu_percent": _rate(cpu),
        "soak_cpu_percent": _rate(mine),
        "gateway_rss": report.rss_summary(samples, "gateway_rss", push_s),
        "soak_process_rss": report.rss_summary(samples, "soak_rss", push_s),
    }


def _rate(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return 100 * (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


def machine() -> dict[str, Any]:
    def out(*cmd: str) -> str:
        with contextlib.suppress(Exception):
            return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
        return "?"

    mem = next((ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")), "")
    return {
        "nproc": out("nproc"),
        "mem_total": mem.split(":", 1)[-1].strip(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rabbitmq": out("rabbitmqctl", "--quiet", "version"),
        "postgresql": out("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"),
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=2.0, help="push phase length")
    ap.add_argument("--rate", type=float, default=20.0, help="petitions per second pushed")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--out", type=Path, help="JSON file for the series (default bench/results/soak-…)")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--drain", type=float, default=120.0, help="max seconds to wait for the backlog")
    ap.add_argument("--pushers", type=int, default=4, help="pushing threads (one client each)")
    ap.add_argument("--prefetch", type=int, default=20, help="the demo unit's prefetch")
    ap.add_argument("--attachment-ratio", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (gateway log, PKI)")
    return ap.parse_args(argv)


def _interrupt(_signum: int, _frame: object) -> None:
    signal.raise_signal(signal.SIGINT)  # as Ctrl+C: asyncio.run cancels the soak, clean-up runs


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out: Path = args.out or Path(__file__).resolve().parent / "results" / f"soak-{stamp}-{args.db}.json"
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    signal.signal(signal.SIGTERM, _interrupt)  # a `kill` cleans up like Ctrl+C
    workdir = Path(tempfile.mkdtemp(prefix="pakn-soak-"))
    soak: Soak | None = None
    interrupted = False
    exit_code = 1
    try:
        with ExitStack() as stack:
            amqp_url = stack.enter_context(harness.own_vhost())
            db_url = stack.enter_context(harness.own_database(args.db, workdir))
            units = harness.suffixed_config(workdir / "config", secrets.token_hex(3).upper())
            pki = signing.init_dev_pki(workdir / "pki")
            sim = create_sim_app(
                trust=pki.trust_store(), signer=signing.load_pem_key(pki.national_cert, pki.national_key)
            )
            sim_url = stack.enter_context(harness.serve_in_thread(sim))
            (workdir / "gateway").mkdir()
            env = {
                "PAKN_ENVIRONMENT": "test",
                "PAKN_DATABASE_URL": db_url,
                "PAKN_AMQP_URL": amqp_url,
                "PAKN_CONFIG_DIR": str(workdir / "config"),
                "PAKN_PKI_DIR": str(pki.directory),
                "PAKN_NATIONAL_URL": f"{sim_url}/soap/national",
                "PAKN_HTTP_PORT": str(harness.free_port()),
                "PAKN_RECONCILE_AT": "off",
            }
            gateway = harness.GatewayProcess(env, workdir / "gateway")
            stack.callback(gateway.stop)
            gateway.start()
            gateway.wait_ready()
            count = int(args.rate * args.minutes * 60) + 1
            prefix = "SOAK" + secrets.token_hex(2).upper()
            petitions = generate_petitions(
                count, seed=args.seed, attachment_ratio=args.attachment_ratio, prefix=prefix
            )
            pusher = Pusher(f"{gateway.base_url}/soap/pakn?wsdl", pki, petitions, args.rate, args.pushers)
            soak = Soak(args, gateway, sim.state.recorder, amqp_url, db_url, units, pusher)
            pid = gateway.process.pid if gateway.process else "?"
            print(f"soak: {args.db}, {args.rate}/s for {args.minutes} min; gateway pid {pid}")
            try:
                asyncio.run(soak.run())
            except KeyboardInterrupt:
                interrupted = True
                print("\ninterrupted: cleaning up")
            summary = summarise(soak, interrupted)
            report.print_table(summary)
            exit_code = 0 if summary["answers_at_portal"] == summary["accepted"] and not interrupted else 1
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: cleaned up")
        exit_code = 130
    finally:
        if soak is not None and soak.samples:
            out.parent.mkdir(parents=True, exist_ok=True)
            result = {
                "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "machine": machine(),
                "started": stamp,
                "summary": summarise(soak, interrupted),
                "samples": soak.samples,
            }
            out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"series written to {out}")
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
