"""`pakn-gateway serve` and `migrate`."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from connectors.db.engine import make_engine
from connectors.db.migrate import current_revision, upgrade
from gateway.app import create_app
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.supervisor import exec_supervisor
from gateway.tls import uvicorn_tls_options
from gateway.workers import check_workers


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
            # worker starts (and the development PKI is made once, not raced by the workers);
            # then this process becomes the supervisor, without what the build loaded.
            app.state.runtime.national_client.close()
            del app
            exec_supervisor()
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
