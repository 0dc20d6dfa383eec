"""The gateway as a real process (`pakn-gateway serve`), for fault tests that kill it or signal it.

Its environment is the one an operator would write: database, broker (a virtual host of the test's
own), config, PKI, the national portal simulator's URL, short national backoff. Its output goes to a
log file in the test's directory, read back when a test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

EXE = shutil.which("pakn-gateway") or str(Path(sys.executable).parent / "pakn-gateway")
READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class GatewayProcess:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_")} | env
        self.port = int(env["PAKN_HTTP_PORT"])
        self.workdir = workdir
        self.log_path = workdir / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} =====\n".encode())
        self.process = subprocess.Popen(
            [EXE, "serve"], env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until /health/ready answers and the broker is connected (the topology is declared then)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None and self.process.poll() is None, self.tail()
            try:
                ready = httpx.get(f"{self.base_url}/health/ready", timeout=2).json()
                if ready.get("broker") == "connected":
                    return
            except (httpx.TransportError, ValueError):
                pass
            assert time.monotonic() < deadline, f"the gateway did not become ready\n{self.tail()}"
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when the machine loses power."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, as a service manager stops it; the exit code once it has stopped by itself."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
