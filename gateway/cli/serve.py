"""`pakn-gateway serve` and `migrate`."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from connectors.db.engine import make_engine
from connectors.db.migrate import current_revision, upgrade
from gateway.app import create_app
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.settings import Settings
from gateway.tls import uvicorn_tls_options
from gateway.workers import WORKER_APP, check_workers


def serve() -> None:
    """Run the gateway on PAKN_HTTP_HOST:PAKN_HTTP_PORT, in PAKN_WORKERS processes; migrations are
    applied at start."""
    settings = load_settings()
    configure_logging(log_format=settings.effective_log_format)
    with startup_errors():
        check_workers(settings)
        app = create_app(settings)
        tls = uvicorn_tls_options(settings)
        if settings.workers > 1:
            # Built here only so that a broken config stops the start with exit 2, before any
            # worker starts (and the development PKI is made once, not raced by the workers).
            app.state.runtime.national_client.close()
            del app
            _supervise(settings, tls)
            return
        # log_config=None: uvicorn's own lines go through the gateway's handler (masked, text or JSON)
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            loop="uvloop",
            http="httptools",
            log_config=None,
            **tls,
        )


def _supervise(settings: Settings, tls: dict[str, Any]) -> None:
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
        log_config=None,
        **tls,
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
        raise typer.Exit(STARTUP_FAILURE)


def migrate() -> None:
    """Bring the database at PAKN_DATABASE_URL to the latest schema."""
    configure_logging()
    settings = load_settings()

    async def run() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(run())
    typer.echo(f"database at revision {revision}")
