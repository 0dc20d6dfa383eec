"""Serve an ASGI app over real HTTP on 127.0.0.1 from a background thread, for tests.

The socket is bound here (port 0: the kernel picks a free port) and handed to uvicorn, so there is
no race between choosing a port and binding it. Synchronous clients such as zeep can then call the
app from the test thread, through a real TCP connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

STARTUP_TIMEOUT = 10.0


@contextmanager
def serve_in_thread(app: Any, *, host: str = "127.0.0.1") -> Iterator[str]:
    """`with serve_in_thread(app) as base_url:` — `base_url` is e.g. "http://127.0.0.1:41234"."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"live-server-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the live server stopped during start-up (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the live server did not start within {STARTUP_TIMEOUT} s")
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        sock.close()
