"""Fault test: RabbitMQ restarted mid-load, twice — a clean stop, then a `kill -9` of its VM.

The machine's shared broker is left alone: the test runs a RabbitMQ node of its own
(`tests.support.private_broker`), and the gateway (a real `pakn-gateway serve` process) and the
ministry's units use only that node. The national portal (simulator, real HTTP) pushes two waves of
petitions from four threads, retrying a push that got no receipt with the same MessageId; the
units consume their queues and reply over AMQP (a claim for every case, an answer for every third),
retrying a publish until its confirm, acking the case only after its replies were confirmed. During
the first wave the node is stopped cleanly and started again; during the second its beam.smp is
killed with SIGKILL and started again, on the same data directory both times.

The second outage is longer (10 s down, then the start) than the relay's 10 s publish timeout, so
the relay's backoff, not only the robust connection's wait, has to bring the backlog through.

A limit of the broker, not of the gateway: on this RabbitMQ (3.10) a node killed within about a
second of a quorum queue's creation can come back without that queue's Raft member (ra's
`names.dets` not yet written) and starts the queue empty: measured, 100 confirmed messages lost
when killed 0.5 s after the declaration; none lost when the queue was a second or more old. The
gateway declares its topology at start, seconds before either fault here, as in production.

Afterwards, from the units' consumer and the simulator's records:
- every petition accepted reached its unit as one case message (redeliveries carry its message_id);
- every status and answer reached the portal once per (PetitionId, Seq), in order, answers after 04;
- nothing accepted is missing, no reply was refused or dead-lettered, the gateway process rode it out.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import signing
from connectors.amqp.topology import DEAD_QUEUE, unit_error_queue_name
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.server import create_sim_app
from tests.e2e.replying_units import RepliesUnit, answering
from tests.e2e.test_process_faults import Portal
from tests.e2e.unit_side import queue_depth
from tests.support.amqp import rabbitmqctl
from tests.support.gateway import LivePortal, eventually, suffixed_config
from tests.support.gateway_process import GatewayProcess, free_port
from tests.support.live_server import serve_in_thread
from tests.support.private_broker import PrivateBroker, available

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

WAVE = 40  # petitions per wave; one fault during each
PACE = 0.8  # seconds each of the four pushing threads waits before a push: the wave outlasts its fault
SETTLE = 90.0
# seconds the node stays down, on top of its ~6 s start (pushes go on: petitions wait in the outbox);
# the second outage outlasts the relay's 10 s publish timeout, so its backoff has to bring it back
DOWN_FOR = 2.0
DOWN_LONG = 10.0


class PacedPortal(Portal):
    """The portal pushing at a steady pace (4 threads, one push each per ``PACE`` and its round trip),
    so the load goes on through the fault."""

    def _push(self, petition: dict[str, Any], deadline: float) -> None:
        time.sleep(PACE)
        super()._push(petition, deadline)


@dataclass
class Bench:
    broker: PrivateBroker
    gateways: list[GatewayProcess]  # one: the Portal pusher of test_process_faults takes a list
    portal: LivePortal
    units: RepliesUnit
    pki: signing.pki.DevPki

    @property
    def gateway(self) -> GatewayProcess:
        return self.gateways[0]


@asynccontextmanager
async def make_bench(database_url: str, tmp_path: Path) -> AsyncIterator[Bench]:
    reason = available()
    if reason is not None:
        pytest.fail(f"a private RabbitMQ node is needed: {reason}")
    config = tmp_path / "config"
    units = suffixed_config(config, uuid.uuid4().hex[:6].upper())
    pki = signing.init_dev_pki(tmp_path / "pki")
    sim = create_sim_app(
        trust=pki.trust_store(), signer=signing.load_pem_key(pki.national_cert, pki.national_key)
    )
    with PrivateBroker(tmp_path / "broker") as broker, serve_in_thread(sim) as sim_url:
        await asyncio.to_thread(broker.start)
        portal = LivePortal(sim_url, sim.state.recorder, sim.state.faults)
        env = {
            "PAKN_ENVIRONMENT": "test",
            "PAKN_DATABASE_URL": database_url,
            "PAKN_AMQP_URL": broker.url,
            "PAKN_CONFIG_DIR": str(config),
            "PAKN_PKI_DIR": str(pki.directory),
            "PAKN_NATIONAL_URL": portal.soap_url,
            "PAKN_HTTP_PORT": str(free_port()),
            "PAKN_OUTBOX_POLL_SECONDS": "0.2",
            "PAKN_RECONCILE_AT": "off",
            "PAKN_RETRY_DELAYS_SECONDS": "[2, 10, 60]",
            "PAKN_NATIONAL_RETRY_ATTEMPTS": "1",
            "PAKN_NATIONAL_MAX_BACKOFF_SECONDS": "1",
            "PAKN_NATIONAL_BREAKER_RESET_SECONDS": "0.5",
        }
        workdir = tmp_path / "gateway"
        workdir.mkdir()
        gateway = GatewayProcess(env, workdir)
        unit_side = RepliesUnit(broker.url, list(units.values()), deadline=time.monotonic() + 4 * SETTLE)
        try:
            yield Bench(broker, [gateway], portal, unit_side, pki)
        finally:
            gateway.stop()  # before the node, which the context's exit stops
    assert broker.leftovers() == [], "a process of the private node outlived the test"


@pytest.fixture
async def bench(any_db_url: str, tmp_path: Path) -> AsyncIterator[Bench]:
    async with make_bench(any_db_url, tmp_path) as bench:
        yield bench


def shared_node_pid() -> str:
    """The OS pid of the machine's RabbitMQ (rabbit@localhost): the same before and after = untouched."""
    return rabbitmqctl("eval", "os:getpid().").strip()


async def wave(bench: Bench, seed: int, fault: Callable[[], Awaitable[None]]) -> tuple[Portal, int]:
    """Push WAVE petitions; once a quarter are accepted, inflict ``fault``; (the pusher, receipts got
    while the node was down or starting)."""
    portal = PacedPortal(bench, generate_petitions(WAVE, seed=seed, attachment_ratio=0.2))
    await asyncio.to_thread(portal.warm_up)
    pushing = asyncio.create_task(asyncio.to_thread(portal.push_all, time.monotonic() + SETTLE))
    await eventually(lambda: _at_least(len(portal.receipts), WAVE // 4), SETTLE, "the load never got going")
    before = len(portal.receipts)
    await fault()
    during = len(portal.receipts) - before
    await pushing
    assert portal.errors == [], portal.errors[:5]
    assert len(portal.receipts) == WAVE
    return portal, during


async def _at_least(value: int, target: int) -> bool | None:
    return True if value >= target else None


def expected_codes(pid: str) -> list[str]:
    return ["01", "03", "04", "05", "ReceiveAnswer", "06"] if answering(pid) else ["01", "03", "04", "05"]


async def settled(bench: Bench, ids: list[str]) -> None:
    recorder = bench.portal.recorder

    def codes(pid: str) -> list[str]:
        return [r.status_code or r.operation for r in recorder.delivered(pid)]

    async def done() -> bool | None:
        at_units = all(pid in bench.units.seen for pid in ids)
        return True if at_units and all(codes(pid) == expected_codes(pid) for pid in ids) else None

    try:
        await eventually(done, SETTLE, "the backlog did not settle after the restarts")
    except AssertionError as exc:
        missing = [pid for pid in ids if pid not in bench.units.seen]
        behind = {pid: codes(pid) for pid in ids if codes(pid) != expected_codes(pid)}
        raise AssertionError(
            f"not at their unit: {missing[:5]}; portal behind: {list(behind.items())[:5]}"
        ) from exc


async def test_rabbitmq_restarted_mid_load_loses_nothing_and_doubles_nothing(bench: Bench) -> None:
    broker = bench.broker
    shared_before = await asyncio.to_thread(shared_node_pid)
    stop = asyncio.Event()
    bench.gateway.start()
    consumer: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(bench.gateway.wait_ready)
        consumer = asyncio.create_task(bench.units.run(stop))

        async def restart_cleanly() -> None:
            await asyncio.to_thread(broker.stop)
            await asyncio.sleep(DOWN_FOR)
            await asyncio.to_thread(broker.start)

        async def kill_and_restart() -> None:
            await asyncio.to_thread(broker.kill)
            assert broker.leftovers() == []  # the VM and its helpers are gone: a real crash
            await asyncio.sleep(DOWN_LONG)
            await asyncio.to_thread(broker.start)

        first, during_first = await wave(bench, 601, restart_cleanly)
        second, during_second = await wave(bench, 602, kill_and_restart)
        ids = list(first.receipts) + list(second.receipts)
        assert len(set(ids)) == 2 * WAVE
        await settled(bench, ids)
    except BaseException:
        print(bench.gateway.tail(), broker.tail(), sep="\n")
        raise
    finally:
        stop.set()
        if consumer is not None:
            await asyncio.gather(consumer, return_exceptions=True)

    assert broker.starts == 3 and bench.gateway.starts == 1  # the same gateway process rode it out
    print(  # what the fault did, for whoever reads the run (-s or a failure's captured output)
        f"{len(ids)} petitions, accepted while the node was down: {during_first} and {during_second};"
        f" case deliveries at the units: {bench.units.deliveries}; reply publishes retried:"
        f" {bench.units.publish_failures}"
    )
    assert during_first > 0 and during_second > 0  # petitions were accepted while the node was down
    # and work was in flight at the units: cases held unacked came again, or replies were resent
    assert bench.units.deliveries > len(ids) or bench.units.publish_failures > 0

    # exactly once in effect at the units: one case message per petition, nothing extra
    assert {pid: len(m) for pid, m in bench.units.seen.items() if len(m) != 1} == {}
    assert set(bench.units.seen) == set(ids)
    # at the portal: once per (PetitionId, Seq), rising, answers once and after 04, all signed
    recorder = bench.portal.recorder
    for pid in ids:
        got = recorder.delivered(pid)
        statuses = [r.seq for r in got if r.operation == "ReceiveStatus"]
        assert statuses == list(range(1, len(expected_codes(pid)) + 1 - answering(pid)))
        assert all(r.verdict == "valid" for r in got)
        assert len(recorder.answers(pid)) == (1 if answering(pid) else 0)
    assert recorder.order_violations == [] and recorder.answers_before_assignment == []
    duplicates = [r for r in recorder.received if r.outcome == "duplicate"]
    assert duplicates == []  # the portal never went away: nothing had to be sent to it twice

    # no reply was refused or dead-lettered on the way
    for code in bench.units.units:
        assert await queue_depth(broker.url, unit_error_queue_name(code)) == 0, code
    assert await queue_depth(broker.url, DEAD_QUEUE) == 0
    async with httpx.AsyncClient(timeout=5) as http:
        ready = (await http.get(f"{bench.gateway.base_url}/health/ready")).json()
    assert ready["broker"] == "connected"
    assert await asyncio.to_thread(shared_node_pid) == shared_before  # the shared node: untouched
