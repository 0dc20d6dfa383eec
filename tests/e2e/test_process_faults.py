"""Fault tests on the real process: `kill -9` of the gateway mid-load, SIGTERM mid-load, and the
gateway–broker TCP link cut mid-load (through a proxy the test controls; the shared broker itself is
left alone).

The national portal (simulator, real HTTP) pushes petitions from four threads and, as a real portal
would, retries a push that got no receipt with the SAME MessageId until it gets one. Meanwhile the
gateway process is killed (or stopped) and started again. Afterwards, from the unit queues'
consumer and from the simulator's records:
- every petition the gateway accepted reached its unit, by PetitionId, as one case message (a
  redelivery of the same message_id is at-least-once; a second, different message would be a double);
- every status reached the portal once per (PetitionId, Seq), in order;
- nothing accepted is missing.
Bounded: each test pushes a fixed set and waits at most `SETTLE` seconds for it to settle.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aio_pika
import httpx
import pytest
import zeep.exceptions
from aio_pika.abc import AbstractIncomingMessage

import signing
from connectors.amqp.topology import unit_queue_name
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import MinistryClient
from connectors.national_sim.server import create_sim_app
from tests.support.amqp import own_vhost
from tests.support.databases import PG_URL, fresh_pg_database
from tests.support.gateway import LivePortal, delete_queues, eventually, suffixed_config
from tests.support.gateway_process import GatewayProcess, free_port
from tests.support.live_server import serve_in_thread
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

COUNT = 60
PUSHERS = 4
SETTLE = 90.0


@dataclass
class UnitSide:
    """Consumes every unit queue, acking each case message after noting it (a unit's durable write)."""

    url: str
    units: list[str]
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # pid → message_ids
    deliveries: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect_robust(self.url, timeout=10)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=100)
            for code in self.units:
                queue = await channel.declare_queue(unit_queue_name(code), passive=True)
                await queue.consume(self._on_message)
            await stop.wait()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if message.type == "pakn.case.new":
            self.seen[str(message.correlation_id)].add(str(message.message_id))
            self.deliveries += 1
        await message.ack()


@dataclass
class Bench:
    gateways: list[GatewayProcess]  # one, or several instances sharing the store and the broker
    portal: LivePortal
    units: UnitSide
    pki: signing.pki.DevPki
    database_url: str
    link: TcpProxy  # between the gateways and the broker

    @property
    def gateway(self) -> GatewayProcess:
        return self.gateways[0]


@asynccontextmanager
async def make_bench(database_url: str, tmp_path: Path, instances: int = 1) -> AsyncIterator[Bench]:
    suffix = uuid.uuid4().hex[:6].upper()
    config = tmp_path / "config"
    units = suffixed_config(config, suffix)
    pki = signing.init_dev_pki(tmp_path / "pki")
    sim = create_sim_app(
        trust=pki.trust_store(), signer=signing.load_pem_key(pki.national_cert, pki.national_key)
    )
    async with own_vhost() as amqp_url, TcpProxy("127.0.0.1", 5672) as link:
        with serve_in_thread(sim) as sim_url:
            portal = LivePortal(sim_url, sim.state.recorder, sim.state.faults)
            env = {
                "PAKN_ENVIRONMENT": "test",
                "PAKN_DATABASE_URL": database_url,
                "PAKN_AMQP_URL": link.proxied(amqp_url),
                "PAKN_CONFIG_DIR": str(config),
                "PAKN_PKI_DIR": str(pki.directory),
                "PAKN_NATIONAL_URL": portal.soap_url,
                "PAKN_OUTBOX_POLL_SECONDS": "0.2",
                "PAKN_RECONCILE_AT": "off",  # no nightly ListPetitions inside a test that counts calls
                "PAKN_NATIONAL_RETRY_ATTEMPTS": "1",
                "PAKN_NATIONAL_MAX_BACKOFF_SECONDS": "1",
                "PAKN_NATIONAL_BREAKER_RESET_SECONDS": "0.5",
            }
            gateways = []
            for n in range(instances):
                workdir = tmp_path / f"gateway-{n}"
                workdir.mkdir()
                gateways.append(GatewayProcess(env | {"PAKN_HTTP_PORT": str(free_port())}, workdir))
            try:
                units_side = UnitSide(amqp_url, list(units.values()))  # units reach the broker directly
                yield Bench(gateways, portal, units_side, pki, database_url, link)
            finally:
                for gateway in gateways:
                    gateway.stop()
                await delete_queues(list(units.values()))


@pytest.fixture
async def bench(any_db_url: str, tmp_path: Path) -> AsyncIterator[Bench]:
    async with make_bench(any_db_url, tmp_path) as bench:
        yield bench


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Bench]:
    """Three instances on one PostgreSQL database and one RabbitMQ virtual host."""
    async with fresh_pg_database(PG_URL) as url, make_bench(url, tmp_path, instances=3) as bench:
        yield bench


class PushTarget(Protocol):
    """What the pushing portal needs of a bench (this file's, or `test_broker_restart`'s)."""

    @property
    def gateways(self) -> list[GatewayProcess]: ...
    @property
    def pki(self) -> signing.pki.DevPki: ...


class Portal:
    """The national side pushing: one MinistryClient per thread, the same MessageId on every retry."""

    def __init__(self, bench: PushTarget, petitions: list[dict[str, Any]]) -> None:
        self._bench = bench
        self.petitions = petitions
        self.message_ids = {p["PetitionId"]: str(uuid.uuid4()) for p in petitions}
        self.receipts: dict[str, Any] = {}
        self.errors: list[str] = []
        self.retried: list[str] = []  # pushes that got no answer (the gateway was down): sent again
        self._local = threading.local()
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(PUSHERS, thread_name_prefix="portal-push")

    def _client(self, index: int = 0) -> MinistryClient:
        clients: dict[int, MinistryClient] = self._local.__dict__.setdefault("clients", {})
        client = clients.get(index)
        if client is None:
            gw, pki = self._bench.gateways[index], self._bench.pki
            key = signing.load_pem_key(pki.national_cert, pki.national_key)
            client = MinistryClient(f"{gw.base_url}/soap/pakn?wsdl", key, trust=pki.trust_store(), timeout=10)
            clients[index] = client
        return client

    def warm_up(self) -> None:
        """Build each pushing thread's client while the gateway is up (a client loads its WSDL)."""
        barrier = threading.Barrier(PUSHERS)

        def build() -> None:
            for index in range(len(self._bench.gateways)):
                self._client(index)
            barrier.wait(timeout=30)  # holds every thread until all have one: each builds its own

        for future in [self._threads.submit(build) for _ in range(PUSHERS)]:
            future.result()

    def push_all(self, deadline: float) -> None:
        try:
            list(self._threads.map(lambda p: self._push(p, deadline), self.petitions))
        finally:
            self._threads.shutdown(wait=True)

    def _push(self, petition: dict[str, Any], deadline: float) -> None:
        pid = petition["PetitionId"]
        instances = len(self._bench.gateways)
        target = sum(map(ord, pid)) % instances  # spread over the instances, as a load balancer would
        while time.monotonic() < deadline:
            try:
                client = self._client(target)
                receipt = client.submit_petition(petition, message_id=self.message_ids[pid])
            except zeep.exceptions.Fault as fault:
                if str(fault.code).startswith("soap:Client"):
                    with self._lock:
                        self.errors.append(f"{pid}: {fault.code} {fault.message}")
                    return
            except Exception as exc:  # connection refused or reset while the gateway is down: retry
                with self._lock:
                    self.retried.append(type(exc).__name__)
                target = (target + 1) % instances  # the balancer tries another instance
            else:
                if receipt.Accepted:
                    with self._lock:
                        self.receipts[pid] = receipt
                    return
            time.sleep(0.2)
        with self._lock:
            self.errors.append(f"{pid}: no receipt before the deadline")


async def run_with_fault(bench: Bench, fault: Callable[[Bench], Awaitable[None]], seed: int) -> Portal:
    for instance in bench.gateways:
        instance.start()
    for instance in bench.gateways:
        await asyncio.to_thread(instance.wait_ready)
    stop = asyncio.Event()
    consumer = asyncio.create_task(bench.units.run(stop))
    portal = Portal(bench, generate_petitions(COUNT, seed=seed, attachment_ratio=0.2))
    try:
        await asyncio.to_thread(portal.warm_up)
        pushing = asyncio.create_task(asyncio.to_thread(portal.push_all, time.monotonic() + SETTLE))
        await eventually(
            lambda: _at_least(len(portal.receipts), COUNT // 3), SETTLE, "the load never got going"
        )
        await fault(bench)
        await pushing
        assert portal.errors == [], portal.errors[:5]
        assert len(portal.receipts) == COUNT
        await settled(bench, portal)
    except BaseException:
        for instance in bench.gateways:
            print(instance.tail())
        raise
    finally:
        stop.set()
        await asyncio.gather(consumer, return_exceptions=True)
    return portal


async def _at_least(value: int, target: int) -> bool | None:
    return True if value >= target else None


async def settled(bench: Bench, portal: Portal) -> None:
    ids = list(portal.receipts)
    recorder = bench.portal.recorder

    async def done() -> bool | None:
        at_units = all(pid in bench.units.seen for pid in ids)
        # delivered(): the simulator records a call once its receipt is signed, a moment after
        # statuses() shows the status; what is asserted below is what is waited for here
        at_portal = all(
            [c for _, c in recorder.statuses(pid)] == ["01", "03", "04"] and len(recorder.delivered(pid)) >= 3
            for pid in ids
        )
        return True if at_units and at_portal else None

    try:
        await eventually(done, SETTLE, "the backlog did not settle after the fault")
    except AssertionError as exc:
        missing = [pid for pid in ids if pid not in bench.units.seen]
        behind = {pid: recorder.statuses(pid) for pid in ids if len(recorder.statuses(pid)) != 3}
        raise AssertionError(
            f"not at their unit: {missing[:5]}; portal behind: {list(behind.items())[:5]}"
        ) from exc
    # exactly once in effect: one case message per petition (redeliveries carry the same message_id)
    doubles = {pid: ids_ for pid, ids_ in bench.units.seen.items() if len(ids_) != 1}
    assert doubles == {}
    assert set(bench.units.seen) == set(ids)  # nothing accepted is missing, nothing extra
    for pid in ids:  # once per (PetitionId, Seq), in order
        assert [r.seq for r in recorder.delivered(pid)] == [1, 2, 3]
    assert recorder.order_violations == []


async def kill_and_restart(bench: Bench) -> None:
    def run() -> None:
        bench.gateway.kill()
        time.sleep(1.0)  # the portal's pushes fail meanwhile, and are retried
        bench.gateway.start()
        bench.gateway.wait_ready()

    await asyncio.to_thread(run)


async def test_kill_9_mid_load_loses_nothing_and_doubles_nothing(bench: Bench) -> None:
    portal = await run_with_fault(bench, kill_and_restart, seed=501)
    assert bench.gateway.starts == 2
    assert portal.retried  # the fault was felt: some pushes had to be sent again


async def test_sigterm_mid_load_stops_gracefully_and_loses_nothing(bench: Bench) -> None:
    codes: list[int] = []

    async def terminate_and_restart(bench: Bench) -> None:
        def run() -> None:
            codes.append(bench.gateway.terminate())
            bench.gateway.start()
            bench.gateway.wait_ready()

        await asyncio.to_thread(run)

    await run_with_fault(bench, terminate_and_restart, seed=502)
    # uvicorn shuts down, then re-raises the signal it caught: the exit status says "SIGTERM"
    assert codes in ([0], [-signal.SIGTERM]), bench.gateway.tail()
    first_run = bench.gateway.log_path.read_text(errors="replace").split("===== start 2 =====")[0]
    for step in (
        "Waiting for application shutdown",
        "national sender stopped",
        "Application shutdown complete",
    ):
        assert step in first_run, first_run[-3000:]  # in-flight work finished before the exit


async def test_the_broker_link_cut_mid_load_loses_nothing_and_doubles_nothing(bench: Bench) -> None:
    async def cut_for_a_while(bench: Bench) -> None:
        accepted_before = bench.link.accepted
        bench.link.pause()  # every gateway connection to the broker drops; new ones are refused
        await asyncio.sleep(3.0)  # petitions keep being accepted: they wait in the outbox
        bench.link.resume()
        await eventually(
            lambda: _at_least(bench.link.accepted, accepted_before + 1),
            SETTLE,
            "the gateway never reconnected",
        )

    await run_with_fault(bench, cut_for_a_while, seed=503)
    assert bench.gateway.starts == 1  # the same process rode it out


async def test_three_instances_share_the_work_and_one_killed_mid_load_loses_nothing(cluster: Bench) -> None:
    """Three gateways on one PostgreSQL and one broker: one relays the outbox (the others stand by),
    all three take petitions, replies and national deliveries (claimed, never sent twice at once);
    the relaying instance is killed mid-load and another takes over."""

    async def roles() -> list[str]:
        async with httpx.AsyncClient(timeout=5) as http:
            return [
                (await http.get(f"{g.base_url}/health/ready")).json()["outbox_relay"]
                for g in cluster.gateways
                if g.process is not None and g.process.poll() is None
            ]

    async def kill_the_leader(bench: Bench) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            states = [(await http.get(f"{g.base_url}/health/ready")).json() for g in bench.gateways]
        [leader] = [
            g for g, state in zip(bench.gateways, states, strict=True) if state["outbox_relay"] == "leading"
        ]
        await asyncio.to_thread(leader.kill)

    portal = await run_with_fault(cluster, kill_the_leader, seed=504)
    assert sorted(await roles()) == ["leading", "standing by"]  # the survivors: one took over
    recorder = cluster.portal.recorder
    accepted = [r.message_id for r in recorder.received if r.outcome == "accepted"]
    assert len(accepted) == len(set(accepted)) == 3 * len(portal.receipts)  # 01, 03, 04 each, once
    # the instances shared the national deliveries (the national outbox is claimed per message)
    sending = [
        g for g in cluster.gateways if "delivered (accepted)" in g.log_path.read_text(errors="replace")
    ]
    assert len(sending) >= 2
    duplicates = sum(1 for r in recorder.received if r.outcome == "duplicate")
    assert duplicates <= 10  # a resend only for what the killed instance had in flight
