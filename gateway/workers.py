"""Several worker processes on one port (PAKN_WORKERS > 1): what the parent checks, what a worker builds.

`serve` hands the port to uvicorn's supervisor (`gateway.supervisor`, a process image of its own),
which binds it once and spawns the workers (fresh interpreters, not forks): each builds the whole
gateway from the environment here, so each is an instance as in README "Several instances" — relay
leadership by advisory lock, national outbox claims, competing reply consumers, migrations
serialised. That needs PostgreSQL: SQLite is one writer in one process, so more than one worker on
it is refused before any starts.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys

from fastapi import FastAPI
from pydantic import ValidationError
from uvicorn.config import STARTUP_FAILURE

from gateway.app import create_app
from gateway.domain.errors import RoutingConfigError
from gateway.observability import json_logging
from gateway.settings import Settings
from gateway.startup_errors import StartupError

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def check_workers(settings: Settings) -> None:
    """Refuse more than one worker on SQLite: the start stops with this, in the parent."""
    if settings.workers > 1 and settings.database_url.startswith("sqlite"):
        raise StartupError(
            f"PAKN_WORKERS={settings.workers} cần PostgreSQL: SQLite chỉ dùng cho một tiến trình "
            "(đặt PAKN_WORKERS=1 hoặc PAKN_DATABASE_URL=postgresql+asyncpg://…) / "
            f"PAKN_WORKERS={settings.workers} needs PostgreSQL: SQLite is for one process only "
            "(set PAKN_WORKERS=1 or PAKN_DATABASE_URL=postgresql+asyncpg://…)"
        )


def app_from_environment() -> FastAPI:
    """One worker's application: settings and logging as `serve` does them, then `create_app`.

    The parent has already built the same application from the same environment, so this fails
    only if something changed in between (a file removed). Then the worker exits with uvicorn's
    STARTUP_FAILURE, on which the supervisor stops everything instead of restarting the worker for
    ever (an exception here would be a crash, and a crashed worker is restarted)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"Invalid PAKN_ settings:\n{exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    json_logging.install(settings.effective_log_format)
    _stop_with_the_parent()
    try:
        return create_app(settings)
    except (StartupError, RoutingConfigError) as exc:
        log.error("Cannot start: %s", exc)  # a configuration error: its message, not a traceback
        sys.exit(STARTUP_FAILURE)


def _stop_with_the_parent() -> None:
    """SIGTERM to this worker when the supervisor dies, however it dies (`kill -9`, the OOM killer).

    Left alone, a worker would outlive it and go on serving the port with nobody to stop it, and a
    gateway started again could not bind the port. With the signal it shuts down gracefully, as
    on the parent's own SIGTERM. Linux only (the gateway's platform); elsewhere nothing is done."""
    parent = multiprocessing.parent_process()  # None: not a supervisor's worker
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning(
            "prctl(PR_SET_PDEATHSIG) failed (errno %d): this worker may outlive its parent",
            ctypes.get_errno(),
        )
        return
    if os.getppid() != parent.pid:  # it died before the request took effect: no signal will come
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn has its handler in place: a graceful stop
