"""`pakn-gateway serve` with PAKN_WORKERS=2 on PostgreSQL: two worker processes under uvicorn's
supervisor, one port, each a whole instance (README "Several instances").

The real process, on a database, a RabbitMQ virtual host and the portal simulator of the test's own
(`test_process_faults`' bench, its pushing portal and its exactly-once checks). Also: a worker
killed is replaced; the parent killed takes its workers with it; a worker that cannot start stops
the gateway (exit 3) instead of being restarted for ever; SQLite is refused (exit 2) before any.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import signing
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import MinistryClient
from tests.e2e.test_process_faults import Bench, Portal, make_bench, settled
from tests.support.databases import PG_URL, fresh_pg_database, sqlite_url
from tests.support.gateway import eventually
from tests.support.gateway_process import EXE, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

COUNT = 30
PUSH_WITHIN = 40.0
WAIT = 30.0
FAST_COUNT = 12  # petitions pushed one by one, each on a new connection (either worker takes it)
FAST_WITHIN = 3.0  # receipt to unit queue; the relay's poll is 30 s in that test
# the supervisor is ~40 MiB, a started worker over 150 (it was ~185 before it became a process of its own)
SUPERVISOR_MIB = 100


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after "pid (comm)": state first, then the parent's pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def rss_mib(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")  # a zombie has ended: only its reaping is due


def workers_of(parent: int) -> list[int]:
    """The parent's worker processes (multiprocessing's spawned children; not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None or int(fields[1]) != parent or not alive(int(entry.name)):
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


async def all_gone(pids: list[int]) -> bool | None:
    return True if not any(alive(pid) for pid in pids) else None


def serve_pid(bench: Bench) -> int:
    assert bench.gateway.process is not None
    return bench.gateway.process.pid


async def two_workers(parent: int) -> list[int]:
    async def check() -> list[int] | None:
        found = workers_of(parent)
        return found if len(found) == 2 else None

    return await eventually(check, WAIT, f"serve [{parent}] never had two workers: {workers_of(parent)}")


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    async with fresh_pg_database(PG_URL) as url, make_bench(url, tmp_path) as bench:
        bench.gateway.env["PAKN_WORKERS"] = "2"
        try:
            yield bench
        finally:
            # make_bench kills the parent: its workers stop with it (PR_SET_PDEATHSIG); any left is killed
            process = bench.gateway.process
            workers = workers_of(process.pid) if process is not None else []
            bench.gateway.stop()
            with contextlib.suppress(AssertionError):
                await eventually(lambda: all_gone(workers), 20, "workers outlived their parent")
            for pid in workers:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


async def roles_behind_the_port(bench: Bench) -> set[str]:
    """What the instances behind the one port say of the outbox relay, asked over fresh
    connections (the kernel hands each to whichever worker accepts first): one leads (the advisory
    lock), the other stands by — two instances, not one."""

    async def check() -> set[str] | None:
        seen = set()
        for _ in range(40):
            async with httpx.AsyncClient(timeout=5) as http:  # a new connection each time
                seen.add((await http.get(f"{bench.gateway.base_url}/health/ready")).json()["outbox_relay"])
            if len(seen) == 2:
                return seen
        return None

    return await eventually(check, WAIT, "one port, but not two instances answering behind it")


async def test_two_workers_on_one_port_take_each_petition_once_and_stop_on_sigterm(bench: Bench) -> None:
    # folders named like the gateway's packages where it is started: the supervisor and its workers
    # must still run the installed code (the supervisor's new image gets the parent's sys.path)
    shadow = bench.gateway.workdir / "gateway"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('the working directory was imported')\n")
    (bench.gateway.workdir / "config").mkdir()
    bench.gateway.start()
    await asyncio.to_thread(bench.gateway.wait_ready)
    parent = serve_pid(bench)
    workers = await two_workers(parent)
    assert await roles_behind_the_port(bench) == {"leading", "standing by"}
    # the pid that was `serve` is now the small supervisor, not the process that built the app
    assert b"gateway.supervisor" in command_line(parent)
    assert rss_mib(parent) < SUPERVISOR_MIB, rss_mib(parent)
    assert all(rss_mib(pid) > SUPERVISOR_MIB for pid in workers)  # the check can fail: a worker is big
    stop = asyncio.Event()
    consumer = asyncio.create_task(bench.units.run(stop))
    portal = Portal(bench, generate_petitions(COUNT, seed=601, attachment_ratio=0.2))
    try:
        await asyncio.to_thread(portal.warm_up)
        await asyncio.to_thread(portal.push_all, time.monotonic() + PUSH_WITHIN)  # four threads at once
        assert portal.errors == [], portal.errors[:5]
        assert len(portal.receipts) == COUNT
        await settled(bench, portal)  # at its unit once, statuses at the portal once each, in order
    except BaseException:
        print(bench.gateway.tail())
        raise
    finally:
        stop.set()
        await asyncio.gather(consumer, return_exceptions=True)
    recorder = bench.portal.recorder
    accepted = [r.message_id for r in recorder.received if r.outcome == "accepted"]
    assert len(accepted) == len(set(accepted)) == 3 * COUNT  # 01, 03, 04 each, sent by one worker only
    assert workers_of(parent) == workers  # the same two all along: none died

    code = await asyncio.to_thread(bench.gateway.terminate, 60.0)
    assert code == 0, bench.gateway.tail()
    assert not any(alive(pid) for pid in workers)
    log = bench.gateway.log_path.read_text(errors="replace")
    for step in ("national sender stopped", "Application shutdown complete", "Finished server process"):
        assert log.count(step) == 2, (step, log[-3000:])  # each worker ran its lifespan's shutdown


async def test_petitions_either_worker_takes_reach_their_unit_at_once(bench: Bench) -> None:
    """Only the leading worker relays; a petition the other one took reaches its unit through a
    PostgreSQL NOTIFY that wakes the leader, not at the leader's poll (30 s here)."""
    bench.gateway.env["PAKN_OUTBOX_POLL_SECONDS"] = "30"
    bench.gateway.start()
    await asyncio.to_thread(bench.gateway.wait_ready)
    await two_workers(serve_pid(bench))
    assert await roles_behind_the_port(bench) == {"leading", "standing by"}
    stop = asyncio.Event()
    consumer = asyncio.create_task(bench.units.run(stop))
    pki = bench.pki
    client = await asyncio.to_thread(
        MinistryClient,
        f"{bench.gateway.base_url}/soap/pakn?wsdl",
        signing.load_pem_key(pki.national_cert, pki.national_key),
        trust=pki.trust_store(),
        timeout=10,
    )

    def push(petition: dict[str, Any]) -> tuple[bool, str]:
        session = client.client.transport.session
        session.close()  # a new connection: the kernel picks the worker anew
        accepted = bool(client.submit_petition(petition).Accepted)
        # the same kept-alive connection, so the same worker: did the relaying one take it or not?
        role = str(session.get(f"{bench.gateway.base_url}/health/ready", timeout=10).json()["outbox_relay"])
        return accepted, role

    latencies = []
    roles = []
    try:
        for petition in generate_petitions(FAST_COUNT, seed=602, attachment_ratio=0.0):
            pid = petition["PetitionId"]
            start = time.monotonic()
            accepted, role = await asyncio.to_thread(push, petition)
            assert accepted
            roles.append(role)
            await eventually(functools.partial(_there, bench, pid), FAST_WITHIN, f"{pid} waited for a poll")
            latencies.append(time.monotonic() - start)
    except BaseException:
        print(bench.gateway.tail())
        raise
    finally:
        stop.set()
        await asyncio.gather(consumer, return_exceptions=True)
    assert max(latencies) < FAST_WITHIN, latencies
    # the proof needs petitions the standing-by worker took (the kernel spread the connections)
    assert "standing by" in roles, roles


async def _there(bench: Bench, pid: str) -> bool | None:
    return True if pid in bench.units.seen else None


async def test_a_dead_worker_is_replaced_and_a_killed_parent_takes_its_workers_with_it(
    bench: Bench,
) -> None:
    bench.gateway.start()
    await asyncio.to_thread(bench.gateway.wait_ready)
    parent = serve_pid(bench)
    first, second = await two_workers(parent)
    os.kill(first, signal.SIGKILL)

    async def replaced() -> list[int] | None:
        now = workers_of(parent)
        return now if len(now) == 2 and first not in now else None

    now = await eventually(replaced, WAIT, f"the killed worker was not replaced: {workers_of(parent)}")
    assert second in now
    await asyncio.to_thread(bench.gateway.wait_ready)  # the port serves on
    assert await roles_behind_the_port(bench) == {"leading", "standing by"}

    bench.gateway.kill()  # SIGKILL of the supervisor: no terminate_all for its workers
    await eventually(lambda: all_gone(now), WAIT, "workers outlived their parent")
    log = bench.gateway.log_path.read_text(errors="replace")
    assert "Child process" in log and "died" in log  # the supervisor saw the first one go
    assert log.count("Application shutdown complete") == 2, log[-3000:]  # the orphans stopped gracefully


async def test_workers_that_cannot_start_stop_the_gateway_instead_of_restarting(tmp_path: Path) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"  # nothing listens there
    async with make_bench(nowhere, tmp_path) as bench:
        bench.gateway.env["PAKN_WORKERS"] = "2"
        bench.gateway.start()
        process = bench.gateway.process
        assert process is not None
        code = await asyncio.to_thread(process.wait, 60)
        log = bench.gateway.log_path.read_text(errors="replace")
        assert code == 3, log[-3000:]  # uvicorn's STARTUP_FAILURE, as one process exits then
        assert "failed to start" in log and "Cannot start: worker process" in log, log[-3000:]
        assert workers_of(process.pid) == []


def test_two_workers_on_sqlite_are_refused_before_any_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_")} | {
        "PAKN_DATABASE_URL": sqlite_url(tmp_path),
        "PAKN_PKI_DIR": str(tmp_path / "pki"),
        "PAKN_HTTP_PORT": str(free_port()),
        "PAKN_WORKERS": "2",
    }
    done = subprocess.run([EXE, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "PAKN_WORKERS=2 cần PostgreSQL" in done.stderr, done.stderr  # Vietnamese
    assert "PAKN_WORKERS=2 needs PostgreSQL" in done.stderr, done.stderr  # and English
    assert not (tmp_path / "pki").exists()  # refused before anything was built
