"""A RabbitMQ node of one test's own, which the test may stop, kill and start again.

The machine's RabbitMQ (``rabbit@localhost`` on 5672) serves every other test and engineer and
has hung before when abused, so a test that restarts "the broker" restarts this one instead: a
second node of the installed RabbitMQ, with its own name (``pakn-fault-<hex>@localhost``), its
own AMQP and distribution ports (free ones, both on 127.0.0.1), its own Erlang cookie (``HOME``),
data, logs, config and an empty plugin list (no management listener on 15672), all under one
directory. It registers with the epmd the shared node already runs (nothing else is shared), and
it never reads ``/etc/rabbitmq`` (its own env file and config file). Restarting it on the same
data directory keeps its durable queues and their messages.

Every wait is bounded. The node runs in a process group of its own, so ``close()`` (the context
manager's exit, also after a failure) can always end all of it: a clean ``rabbitmqctl stop``
first, then SIGKILL of that group, by its id. ``leftovers()`` lists any live process of this node
(found by its directory in the command line), for tests to check that nothing outlived them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # the Debian wrappers in /usr/sbin would su to rabbitmq
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
CLI_TIMEOUT = 30.0


class PrivateBrokerError(Exception):
    """The private node would not start, stop or answer in time (with its log's tail)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def available() -> str | None:
    """None when a private node can be started here, else why not."""
    if not (RABBITMQ_BIN / "rabbitmq-server").exists():
        return f"RabbitMQ's scripts are not in {RABBITMQ_BIN} (Debian's rabbitmq-server package)"
    if shutil.which("erl") is None:
        return "Erlang (erl) is not on PATH"
    return None


class PrivateBroker:
    """One RabbitMQ node under ``base``; ``start()``, ``stop()``, ``kill()``, ``start()`` again."""

    def __init__(self, base: Path) -> None:
        self.base = base.resolve()
        self.node = f"pakn-fault-{secrets.token_hex(4)}@localhost"
        self.port = _free_port()
        self.dist_port = _free_port()
        while self.dist_port == self.port:
            self.dist_port = _free_port()
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._write_files()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def log_path(self) -> Path:
        return self.base / "log" / f"{self.node}.log"

    # ------------------------------------------------------------------ life cycle

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the node (again, on the same data) and wait until it takes AMQP clients."""
        if self.running:
            raise PrivateBrokerError(f"{self.node} is already running")
        self.starts += 1
        console = (self.base / "console.log").open("ab")
        console.write(f"\n===== start {self.starts} =====\n".encode())
        try:
            self.process = subprocess.Popen(
                [str(RABBITMQ_BIN / "rabbitmq-server")],
                env=self._env(),
                cwd=self.base,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: close() can end all of it
            )
        finally:
            console.close()
        deadline = time.monotonic() + timeout
        while not _port_open(self.port):
            if self.process.poll() is not None:
                raise PrivateBrokerError(f"{self.node} exited with {self.process.returncode}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise PrivateBrokerError(f"{self.node} did not listen on {self.port} in {timeout:g} s")
            time.sleep(0.2)
        # the listener opens near the end of the boot; this says the boot is over
        left = max(1.0, deadline - time.monotonic())
        self.ctl("await_startup", "--timeout", str(int(left)), timeout=left + 10)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """A clean stop (``rabbitmqctl stop``): connections closed, queues and stores shut properly."""
        process = self._running_process()
        self.ctl("stop", timeout=timeout)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PrivateBrokerError(f"{self.node} still running {timeout:g} s after stop") from exc

    def kill(self) -> None:
        """SIGKILL of the node's Erlang VM (beam.smp), as when the machine loses power."""
        process = self._running_process()
        beams = [pid for pid in self._marked() if _command(pid).startswith("beam")]
        if not beams:
            raise PrivateBrokerError(f"no beam.smp process of {self.node}")
        for pid in beams:
            os.kill(pid, signal.SIGKILL)
        self._kill_group()  # its start script and helpers (erl_child_setup, inet_gethost) with it
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise PrivateBrokerError(f"{self.node}'s start script survived SIGKILL") from exc
        self._wait_gone()

    def close(self) -> None:
        """Stop the node however it can be stopped; never raises, always waits (bounded)."""
        if self.running:
            with contextlib.suppress(PrivateBrokerError, OSError):
                self.stop(timeout=15)
        self._kill_group()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        self._wait_gone()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ asking the node

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ctl(self, *args: str, timeout: float = CLI_TIMEOUT) -> str:
        """``rabbitmqctl -n <this node> …``; its output, or ``PrivateBrokerError``."""
        try:
            result = subprocess.run(
                [str(RABBITMQ_BIN / "rabbitmqctl"), "--quiet", "-n", self.node, *args],
                env=self._env(),
                cwd=self.base,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise PrivateBrokerError(f"rabbitmqctl {' '.join(args)}: no answer in {timeout:g} s") from exc
        if result.returncode != 0:
            raise PrivateBrokerError(
                f"rabbitmqctl {' '.join(args)} exited {result.returncode}: {result.stderr or result.stdout}"
            )
        return result.stdout

    def leftovers(self) -> list[int]:
        """Pids of live (not zombie) processes of this node: its directory in their command line
        (the VM), or in the process group it was started in (the start script, the VM's helpers)."""
        group = self.process.pid if self.process is not None else None
        return [pid for pid, marked, pgid in _live_processes(str(self.base)) if marked or pgid == group]

    def tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.base / "console.log", self.log_path):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts) or "(no log)"

    # ------------------------------------------------------------------ inside

    def _running_process(self) -> subprocess.Popen[bytes]:
        if self.process is None or self.process.poll() is not None:
            raise PrivateBrokerError(f"{self.node} is not running")
        return self.process

    def _marked(self) -> list[int]:
        return [pid for pid, marked, _ in _live_processes(str(self.base)) if marked]

    def _kill_group(self) -> None:
        """SIGKILL to the group this node was started in, and to any process still naming its folder."""
        # only while the group's leader is not reaped: until then its pid, the group's id, cannot
        # have been given to anyone else
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for pid in self._marked():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def _wait_gone(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _write_files(self) -> None:
        for folder in ("home", "mnesia", "log", "plugins"):
            (self.base / folder).mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nlog.console = false\nlog.file.level = info\n",
            encoding="utf-8",
        )
        (self.base / "enabled_plugins").write_text("[].\n", encoding="utf-8")
        (self.base / "rabbitmq-env.conf").write_text("# empty: /etc/rabbitmq is the shared node's\n")

    def _env(self) -> dict[str, str]:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_")) and k != "HOME"
        }
        return inherited | {
            "HOME": str(self.base / "home"),  # the Erlang cookie of this node and its CLI calls
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(self.base / "plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            # the distribution listener on loopback only, like the shared node's
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }


def _live_processes(marker: str) -> list[tuple[int, bool, int]]:
    """(pid, ``marker`` in its command line, its process group) of every process not a zombie."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            group = os.getpgid(int(entry.name))
        except (OSError, IndexError):
            continue  # gone meanwhile
        if state != "Z":
            found.append((int(entry.name), marker.encode() in cmdline, group))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
