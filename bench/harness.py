"""The soak's moving parts, each with its own clean-up: the portal simulator served from a thread, a
RabbitMQ virtual host, a PostgreSQL database, a suffixed config, the gateway as a real process, and
what /proc says about that process.

Copied in small from `tests/support/` on purpose: bench/ is run by hand and must not depend on tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
import yaml

from connectors.amqp.topology import unit_queue_name
from gateway.routing_config import default_config_dir

AMQP_BASE = "amqp://guest:guest@127.0.0.1:5672"
PG_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
EXE = shutil.which("pakn-gateway") or str(Path(sys.executable).parent / "pakn-gateway")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(app: Any, timeout: float = 10.0) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 from a daemon thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sim", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the portal simulator did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


def rabbitmqctl(*args: str) -> str:
    result = subprocess.run(
        ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


@contextmanager
def own_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of the soak's own (its queues go with it); yields the AMQP URL."""
    name = f"pakn_soak_{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"{AMQP_BASE}/{quote(name, safe='')}"
    finally:
        rabbitmqctl("delete_vhost", name)


@contextmanager
def own_database(kind: str, workdir: Path) -> Iterator[str]:
    """A SQLite file in the work directory, or a fresh PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'store' / 'gateway.db'}"
        return
    name = f"pakn_soak_{secrets.token_hex(6)}"
    _psql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        timeout=60,
        capture_output=True,
    )


def suffixed_config(directory: Path, suffix: str) -> list[str]:
    """The packaged config with every unit code suffixed (queues of the soak's own); the unit codes."""
    directory.mkdir(parents=True, exist_ok=True)
    source = default_config_dir()
    shutil.copy(source / "fields.yaml", directory / "fields.yaml")
    units = yaml.safe_load((source / "units.yaml").read_text(encoding="utf-8"))
    mapping = {u["code"]: f"{u['code']}_{suffix}" for u in units["units"]}
    for u in units["units"]:
        u["code"] = mapping[u["code"]]
        u["queue"] = unit_queue_name(u["code"])
    units["triage"] = mapping[units["triage"]]
    (directory / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    rules = yaml.safe_load((source / "routing.yaml").read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        rule["unit"] = mapping[rule["unit"]]
    (directory / "routing.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    return list(mapping.values())


@dataclass
class ProcSample:
    rss_bytes: int
    cpu_seconds: float  # user + system, since the process started
    threads: int


def proc_sample(pid: int) -> ProcSample | None:
    """RSS, CPU time and threads of a process from /proc (psutil is not a dependency)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    utime, stime, threads = int(fields[11]), int(fields[12]), int(fields[17])
    return ProcSample(int(statm[1]) * PAGE_SIZE, (utime + stime) / CLOCK_TICKS, threads)


def pss_bytes(pid: int) -> int | None:
    """The process's proportional set size (`/proc/PID/smaps_rollup`): its private pages plus its
    share of each page it shares (libraries, with the other workers). Summed over processes, RSS
    counts a shared page once per process; PSS counts it once in all, so the sum is what they take
    together. Reading it walks the page tables: dearer than `statm`, so sampled less often."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


class GatewayProcess:
    """`pakn-gateway serve` with an operator's environment; output to `workdir/gateway.log`."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_")} | env
        self.port = int(env["PAKN_HTTP_PORT"])
        self.workdir = workdir
        self.log_path = workdir / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            # its own session: a Ctrl+C in the terminal reaches the soak, which then stops it in order
            self.process = subprocess.Popen(
                [EXE, "serve"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited during start-up\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=2).json().get("broker") == "connected":
                    return
            except (httpx.TransportError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not become ready\n{self.tail()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a graceful stop), SIGKILL if it has not stopped within `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=timeout)

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_levels(self) -> dict[str, int]:
        """How many WARNING / ERROR / CRITICAL lines the gateway wrote (a rough error signal)."""
        counts = dict.fromkeys(("WARNING", "ERROR", "CRITICAL", "Traceback"), 0)
        if self.log_path.exists():
            for line in self.log_path.read_text(errors="replace").splitlines():
                for key in counts:
                    if f" {key} " in line or line.startswith(key):
                        counts[key] += 1
        return counts

    def matching(self, needle: str, limit: int | None = 20) -> list[str]:
        """The first lines of the log that contain `needle` (all of them with `limit` None)."""
        if not self.log_path.exists():
            return []
        lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if needle in ln]
        return lines if limit is None else lines[:limit]

    def problem_lines(self, limit: int = 20) -> list[str]:
        """The first WARNING / ERROR lines, to say in the results what went wrong."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if " WARNING " in line or " ERROR " in line][:limit]
