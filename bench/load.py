"""Driving the gateway and watching it: pre-signed pushes (closed loop or at a fixed rate), a
consumer that counts arrivals on the unit queues, and a sampler of the gateway's CPU and RSS.

Times are wall-clock (`time.time()`) on the one host, so a push's send time and its arrival on
the unit queue compare without skew.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import cpu
import harness
import rawhttp
from aio_pika.abc import AbstractIncomingMessage
from envelopes import Envelope

from connectors.amqp.topology import unit_queue_name

ACCEPTED = re.compile(rb"Accepted>true<")
MIB = 1024 * 1024
PSS_EVERY = 4  # ProcWatch samples PSS at every 4th RSS sample (2 s at the default 0.5 s)
SOAP_TYPE = "text/xml; charset=utf-8"


@dataclass
class Push:
    sent_at: float
    receipt_seconds: float | None = None
    outcome: str = "pending"


@dataclass
class Pushes:
    """What was sent, per PetitionId, and how it was answered."""

    by_id: dict[str, Push] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)

    def accepted(self) -> int:
        return self.outcomes["accepted"]


async def _push_one(connection: rawhttp.Connection, path: str, env: Envelope, pushes: Pushes) -> None:
    try:
        answer = await connection.post(path, env.body, SOAP_TYPE, limit_seconds=60)
    except (OSError, TimeoutError, rawhttp.HttpError, asyncio.IncompleteReadError) as exc:
        pushes.by_id[env.petition_id] = Push(time.time(), None, type(exc).__name__)
        pushes.outcomes[type(exc).__name__] += 1
        await connection.close()
        return
    ok = answer.status == 200 and ACCEPTED.search(answer.body) is not None
    outcome = "accepted" if ok else f"http {answer.status}"
    pushes.by_id[env.petition_id] = Push(answer.sent_at, answer.seconds, outcome)
    pushes.outcomes[outcome] += 1


async def closed_loop(
    port: int, envelopes: list[Envelope], concurrency: int, seconds: float, pushes: Pushes
) -> float:
    """`concurrency` connections each sending the next envelope as soon as its last is answered,
    until the envelopes or `seconds` run out; returns the seconds it ran."""
    queue = iter(envelopes)
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        connection = rawhttp.Connection("127.0.0.1", port)
        try:
            for env in queue:
                if time.perf_counter() > deadline:
                    return
                await _push_one(connection, "/soap/pakn", env, pushes)
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def fixed_rate(
    port: int,
    envelopes: list[Envelope],
    rate: float,
    seconds: float,
    pushes: Pushes,
    max_connections: int = 64,
) -> float:
    """Petition i sent at t0 + i/rate (open loop: a slow answer does not slow the schedule), on a
    pool of keep-alive connections; returns the seconds it ran."""
    pool: asyncio.Queue[rawhttp.Connection] = asyncio.Queue()
    for _ in range(max_connections):
        pool.put_nowait(rawhttp.Connection("127.0.0.1", port))
    tasks: list[asyncio.Task[None]] = []

    async def send(env: Envelope) -> None:
        connection = await pool.get()
        try:
            await _push_one(connection, "/soap/pakn", env, pushes)
        finally:
            pool.put_nowait(connection)

    started = time.perf_counter()
    for i, env in enumerate(envelopes):
        due = started + i / rate
        if due - started > seconds:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(send(env)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    while not pool.empty():
        await pool.get_nowait().close()
    return elapsed


class Arrivals:
    """Consumes every unit queue (prefetch 500, acks each), noting when each case arrived."""

    def __init__(self, amqp_url: str, units: list[str]) -> None:
        self._url, self._units = amqp_url, units
        self.at: dict[str, float] = {}
        self.types: Counter[str] = Counter()
        self._connection: Any = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect(self._url, timeout=10)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=500)
        for code in self._units:
            queue = await channel.declare_queue(unit_queue_name(code), passive=True)
            await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        now = time.time()
        self.types[str(message.type)] += 1
        if message.type == "pakn.case.new" and message.correlation_id:
            self.at.setdefault(str(message.correlation_id), now)
        await message.ack()

    async def wait_for(self, ids: set[str], within: float) -> bool:
        deadline = time.monotonic() + within
        while not ids <= self.at.keys():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    async def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), 10)


class ProcWatch:
    """Every `interval` seconds: the gateway's RSS; CPU of gateway, broker, PostgreSQL.

    The gateway is the `serve` process and its children: with PAKN_WORKERS > 1 the workers (and
    multiprocessing's resource tracker), whose CPU is summed into the gateway's and whose RSS is
    summed too (`rss_max`: the largest sum seen; `rss_max_process`: the largest single process)."""

    def __init__(
        self, gateway_pid: int, database: str | None, interval: float = 0.5, sim_pid: int | None = None
    ) -> None:
        self.pid = gateway_pid
        self.gateway = cpu.Group("gateway", gateway_pid, with_children=True)
        self.groups = [self.gateway, cpu.broker_group(), cpu.self_group()]
        if sim_pid is not None:
            self.groups.append(cpu.Group("portal_sim", sim_pid))
        if database:
            self.groups.append(cpu.postgres_group(database))
        self.interval = interval
        self.rss_max = 0
        self.rss_max_process = 0
        self.pss_max = 0
        self.processes = 0
        self.rss_samples: list[tuple[float, int]] = []
        self._task: asyncio.Task[None] | None = None

    def rss_each(self) -> list[int]:
        """RSS of each of the gateway's processes, now."""
        return [sample.rss_bytes for pid in self.gateway.pids() if (sample := harness.proc_sample(pid))]

    def rss(self) -> int:
        return sum(self.rss_each())

    def pss(self) -> int:
        """PSS summed over the gateway's processes, now: the memory they take together."""
        return sum(value for pid in self.gateway.pids() if (value := harness.pss_bytes(pid)) is not None)

    def rss_mib(self) -> dict[str, float]:
        """For the results: the largest sum, the sum at the end, the largest single process, how many."""
        return {
            "max": round(self.rss_max / MIB, 1),
            "end": round(self.rss() / MIB, 1),
            "max_per_process": round(self.rss_max_process / MIB, 1),
            "processes": self.processes,
            "pss_max": round(self.pss_max / MIB, 1),  # sampled every PSS_EVERY-th time only
            "pss_end": round(self.pss() / MIB, 1),
        }

    async def _run(self) -> None:
        t0 = time.monotonic()
        samples = 0
        while True:
            if samples % PSS_EVERY == 0:
                self.pss_max = max(self.pss_max, self.pss())
            samples += 1
            each = self.rss_each()
            value = sum(each)
            self.rss_max = max(self.rss_max, value)
            self.rss_max_process = max(self.rss_max_process, max(each, default=0))
            self.processes = max(self.processes, len(each))
            self.rss_samples.append((round(time.monotonic() - t0, 2), value))
            await asyncio.sleep(self.interval)

    def __enter__(self) -> ProcWatch:
        self.meter = cpu.CpuMeter(self.groups)
        self.meter.__enter__()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        self.meter.__exit__(*exc)
        if self._task is not None:
            self._task.cancel()

    def percent(self) -> dict[str, float]:
        wall = max(self.meter.wall, 1e-9)
        return {name: round(100 * seconds / wall, 1) for name, seconds in self.meter.cpu.items()}


def rss_text(rss: dict[str, float]) -> str:
    """`ProcWatch.rss_mib()` in a result line: one process, or the sum and the largest process."""
    pss = f", PSS {rss['pss_max']} MiB" if "pss_max" in rss else ""
    if rss["processes"] <= 1:
        return f"{rss['max']} MiB{pss}"
    return f"{rss['max']} MiB in {rss['processes']} processes (largest {rss['max_per_process']} MiB{pss})"
