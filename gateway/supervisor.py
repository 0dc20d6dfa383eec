"""The parent of PAKN_WORKERS > 1 worker processes: an interpreter of its own that never loads the gateway.

`serve` first builds the whole application once, in its own process, so that a broken configuration
stops the start with exit 2 before any worker starts (and the development PKI is made once, not
raced by the workers). That build imports every module of the gateway and its libraries and makes
its objects: ~185 MiB that would stay in the parent for its whole life (CPython does not give
imported modules back), although the parent only supervises (BENCHMARKS.md, issue 7, ninth
round). So `serve` then replaces its process image with this module's `main` (`exec_supervisor`:
`execve`, the same pid, environment, stdin, stdout and stderr — an operator's `kill`, systemd and
the tests still hold the right process), which imports only the settings, the logging and
uvicorn's supervisor (~40 MiB; `tests/unit/test_supervisor.py` keeps it so).

The new image gets what the old one ran with: the interpreter's options (`-X`, `-O`, `-W`, … as
multiprocessing passes them to its children) and `sys.path` itself, handed over whole instead of
letting `python -m` put the working directory first — a `config/` or `gateway/` folder where the
operator happens to start the gateway must not replace the installed packages in the supervisor or
in the workers it spawns (they inherit its `sys.path`). The workers are uvicorn's: spawned
interpreters that each build the application from the environment
(`gateway.workers.app_from_environment`). The module does nothing on its own (`python -m
gateway.supervisor` refuses): without `serve`'s checks first, it would start workers unchecked.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import NoReturn

import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.settings import Settings
from gateway.tls import uvicorn_tls_options

# what each worker imports and calls (uvicorn's factory=True): the app cannot be pickled across
WORKER_APP = "gateway.workers:app_from_environment"
MODULE = "gateway.supervisor"
SYS_PATH_VARIABLE = "_PAKN_SUPERVISOR_SYS_PATH"  # not PAKN_…: no setting; removed before anything runs
# What the new image runs: the parent's sys.path back in place, then main(). `-c`, not `-m`, so
# that nothing of the working directory comes first, and `__main__` is no module spawn re-imports.
BOOTSTRAP = (
    "import json, os, sys; "
    f"sys.path[:] = json.loads(os.environ.pop({SYS_PATH_VARIABLE!r})); "
    f"from {MODULE} import main; "
    "sys.exit(main())"
)


def supervisor_command() -> tuple[list[str], dict[str, str]]:
    """The argument list and environment `exec_supervisor` gives the new image."""
    # the stdlib's own list of this interpreter's options, as multiprocessing passes them on
    options: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    environment = dict(os.environ) | {SYS_PATH_VARIABLE: json.dumps(sys.path)}
    return [sys.executable, *options, "-c", BOOTSTRAP], environment


def exec_supervisor() -> NoReturn:
    """Become the supervisor (`main`) in this same process (it does not return).

    What was written to stdout, stderr or the log is flushed first: `execve` discards buffers."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    arguments, environment = supervisor_command()
    # no shell, a fixed argument list: this interpreter, its options and the bootstrap above
    os.execve(sys.executable, arguments, environment)  # noqa: S606


def supervise(settings: Settings) -> int:
    """PAKN_WORKERS processes on the one port, under uvicorn's supervisor (what `uvicorn.run` with
    workers does, kept in hand to read the workers' exit codes). It restarts a worker that dies;
    one that fails its start (exit STARTUP_FAILURE: its lifespan or `app_from_environment`) stops
    them all instead, and so does SIGTERM or SIGINT: each worker shuts down gracefully (its lifespan
    shutdown), then the parent exits — 0, or STARTUP_FAILURE after a failed start."""
    config = uvicorn.Config(
        WORKER_APP,
        factory=True,
        workers=settings.workers,
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        http="httptools",
        log_config=None,  # uvicorn's own lines go through the gateway's handler (masked, text or JSON)
        **uvicorn_tls_options(settings),
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    if failed:
        typer.secho(
            f"Không khởi động được: tiến trình {failed} lỗi khi khởi động (xem nhật ký ở trên) / "
            f"Cannot start: worker process {failed} failed to start (see its log above)",
            fg=typer.colors.RED,
            err=True,
        )
        return STARTUP_FAILURE
    return 0


def main() -> int:
    """The settings and logging as `serve` had them (the same environment), then `supervise`; a
    setting or TLS file that went bad since `serve` checked them exits 2 with serve's messages."""
    try:
        settings = load_settings()
        configure_logging(log_format=settings.effective_log_format)
        with startup_errors():
            return supervise(settings)
    except typer.Exit as exc:
        return int(exc.exit_code)


if __name__ == "__main__":
    print(
        "gateway.supervisor chỉ do `pakn-gateway serve` khởi động (PAKN_WORKERS > 1) / "
        "gateway.supervisor is started by `pakn-gateway serve` only (PAKN_WORKERS > 1)",
        file=sys.stderr,
    )
    sys.exit(2)
