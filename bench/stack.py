"""One gateway under test with everything it talks to, all on 127.0.0.1, all removed afterwards.

The parts are `harness`'s (a RabbitMQ virtual host, a database, a suffixed config, the gateway as a
real `pakn-gateway serve` process); the national portal simulator runs as a process of its own
(`sim_server.py`), so its signature work does not share the load generator's interpreter. Used by
inbound.py, outbound.py and scale.py.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import httpx

import signing

HERE = Path(__file__).resolve().parent


@dataclass
class Stack:
    workdir: Path
    gateway: harness.GatewayProcess
    sim_url: str
    sim_pid: int
    amqp_url: str
    db_url: str
    units: list[str]
    pki: signing.pki.DevPki
    workers: int = 1  # PAKN_WORKERS: the serve process's worker processes (1: it serves itself)

    @property
    def gateway_pid(self) -> int:
        assert self.gateway.process is not None
        return self.gateway.process.pid

    def portal(self, *, down: bool) -> None:
        """Switch the simulator's `down` failure mode (HTTP 503 to every SOAP call)."""
        httpx.post(f"{self.sim_url}/sim/control", json={"down": down}, timeout=10).raise_for_status()

    def arrivals(self, since: int) -> dict[str, Any]:
        reply = httpx.get(f"{self.sim_url}/bench/arrivals", params={"since": since}, timeout=60)
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def ready(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.gateway.base_url}/health/ready", timeout=30).json()
        return result


def interruptible() -> None:
    """Ctrl+C and `kill` end a benchmark through its clean-up (gateway, simulator, virtual host,
    database), even when it was started in the background, where a shell ignores SIGINT for it."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: signal.raise_signal(signal.SIGINT))


def settings_env(pairs: list[str]) -> dict[str, str]:
    """`PAKN_NAME=VALUE` strings (a command line's `--set`) as an environment."""
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("PAKN_"):
            raise SystemExit(f"--set {pair!r}: use PAKN_NAME=VALUE")
        env[name] = value
    return env


def wait_workers(gateway: harness.GatewayProcess, count: int, timeout: float = 60.0) -> None:
    """With PAKN_WORKERS > 1, /health/ready answers once one worker is up: wait for every worker's
    "Application startup complete", so that no phase measures a gateway still starting."""
    deadline = time.monotonic() + timeout
    while len(gateway.matching("Application startup complete", limit=None)) < count:
        if gateway.process is None or gateway.process.poll() is not None:
            raise RuntimeError(f"the gateway exited during start-up\n{gateway.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {count} workers started within {timeout:.0f} s\n{gateway.tail()}")
        time.sleep(0.2)


def workers_env(workers: int | None) -> dict[str, str]:
    """A command line's `--workers N` as PAKN_WORKERS (unset: the gateway's default, or `--set`'s)."""
    return {} if workers is None else {"PAKN_WORKERS": str(workers)}


@contextmanager
def sim_process(pki_dir: Path, log_path: Path, *, down: bool) -> Iterator[tuple[str, int]]:
    """The simulator as a child process; yields (base URL, pid)."""
    port = harness.free_port()
    command = [sys.executable, str(HERE / "sim_server.py"), "--pki", str(pki_dir), "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, *(["--down"] if down else [])], stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the simulator exited:\n{log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/sim/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start within 30 s")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextmanager
def gateway_stack(
    db: str,
    *,
    portal_down: bool = False,
    env: dict[str, str] | None = None,
    prepare: Callable[[str, str], None] | None = None,
    keep: bool = False,
) -> Iterator[Stack]:
    """`prepare(db_url, suffix)` runs before the gateway starts (seeding a database, say); the
    config's unit codes are the packaged ones with `_<suffix>` appended."""
    workdir = Path(tempfile.mkdtemp(prefix="pakn-bench-"))
    try:
        with ExitStack() as stack:
            amqp_url = stack.enter_context(harness.own_vhost())
            db_url = stack.enter_context(harness.own_database(db, workdir))
            suffix = secrets.token_hex(3).upper()
            units = harness.suffixed_config(workdir / "config", suffix)
            if prepare is not None:
                prepare(db_url, suffix)
            pki = signing.init_dev_pki(workdir / "pki")
            sim_url, sim_pid = stack.enter_context(
                sim_process(pki.directory, workdir / "sim.log", down=portal_down)
            )
            (workdir / "gateway").mkdir()
            gateway = harness.GatewayProcess(
                {
                    "PAKN_ENVIRONMENT": "test",
                    "PAKN_DATABASE_URL": db_url,
                    "PAKN_AMQP_URL": amqp_url,
                    "PAKN_CONFIG_DIR": str(workdir / "config"),
                    "PAKN_PKI_DIR": str(pki.directory),
                    "PAKN_NATIONAL_URL": f"{sim_url}/soap/national",
                    "PAKN_HTTP_PORT": str(harness.free_port()),
                    "PAKN_RECONCILE_AT": "off",
                    **(env or {}),
                },
                workdir / "gateway",
            )
            stack.callback(gateway.stop)
            gateway.start()
            gateway.wait_ready()
            workers = int(gateway.env.get("PAKN_WORKERS", "1"))
            wait_workers(gateway, workers)
            yield Stack(workdir, gateway, sim_url, sim_pid, amqp_url, db_url, units, pki, workers)
    finally:
        if keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
