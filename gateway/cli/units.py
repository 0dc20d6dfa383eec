"""`pakn-gateway unit …`: what a ministry unit runs — its queue listener, and its REST token."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

from connectors.amqp.unit_listener import listen as listen_queue
from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.inbound.intake import utc_now
from gateway.routing_config import load_config
from gateway.units.tokens import new_token, token_hash

app = typer.Typer(help="Ministry units: listen to a unit's queue, issue REST tokens.", no_args_is_help=True)


@app.command("listen")
def listen(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. CVL")],
    out: Annotated[Path, typer.Option("--out", help="Directory receiving one JSON file per case message")],
    max_messages: Annotated[int | None, typer.Option("--max", help="Stop after this many messages")] = None,
) -> None:
    """Consume pakn.unit.UNIT and write each case as DIR/<message_id>.json, acking after the write."""
    configure_logging()
    settings = load_settings()
    with startup_errors():
        config = load_config(settings.config_dir)
    if config.routing.unit(unit) is None:
        typer.secho(f"Unknown unit {unit}; known: {', '.join(config.routing.units)}", fg="red", err=True)
        raise typer.Exit(2)
    out.mkdir(parents=True, exist_ok=True)
    typer.echo(f"Listening on pakn.unit.{unit} → {out} (Ctrl+C to stop)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how a person stops listening
        asyncio.run(listen_queue(settings.amqp_url, unit, out, max_messages=max_messages))


@app.command("token")
def token(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. CVL")],
    label: Annotated[str, typer.Option(help="Who holds the token")] = "",
) -> None:
    """Issue a bearer token for GET /api/units/UNIT/cases. It is shown once; only its hash is kept."""
    settings = load_settings()
    with startup_errors():
        config = load_config(settings.config_dir)
    if config.routing.unit(unit) is None:
        typer.secho(f"Unknown unit {unit}", fg="red", err=True)
        raise typer.Exit(2)
    value = new_token()

    async def store() -> None:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            uow = SqlUnitOfWorkFactory(make_sessions(engine))
            async with uow() as u:
                await u.tokens.add(unit, token_hash(value), label or f"unit {unit}", utc_now())
                await u.commit()
        finally:
            await engine.dispose()

    asyncio.run(store())
    typer.echo(value)
