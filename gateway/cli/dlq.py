"""`pakn-gateway dlq …`: dead letters of every stage — AMQP (`pakn.dead`) and the national outbox.

Ids say where a dead letter lives: `amqp:<message_id>`, `national:<outbox id>`. `replay` sends it
back on its normal path (its receiver is idempotent, so a reply applied before stays applied once);
`discard` removes AMQP dead letters for good and logs who did it at WARNING.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from connectors.amqp.errors import AmqpError
from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.cli.common import cli_actor, configure_logging, load_settings
from gateway.inbound.intake import utc_now
from gateway.ops.dead_letters import DeadLetterError, DeadLetters

app = typer.Typer(help="Dead letters of every stage: list, show, replay, discard.", no_args_is_help=True)

T = TypeVar("T")


@app.command("list")
def list_letters(
    stage: Annotated[str | None, typer.Option("--stage", help="replies, unit, sender, …")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many")] = 100,
) -> None:
    """Dead letters, AMQP first then national, oldest first, with their reasons."""
    letters, total = _run(lambda dl: dl.find(stage, limit))
    console = Console()
    console.print(f"dead letters: {total} in all, {len(letters)} shown", highlight=False)
    if not letters:
        return
    table = Table()
    for column in ("id", "stage", "reason", "attempts", "dead at", "where", "last error"):
        table.add_column(column, overflow="fold")  # ids are copied from here: never cut them short
    for d in letters:
        table.add_row(
            d.id,
            d.stage,
            d.reason,
            "" if d.attempts is None else str(d.attempts),
            d.dead_at.isoformat(timespec="seconds") if d.dead_at else "—",
            d.where,
            d.last_error or "",
        )
    console.print(table)


@app.command("show")
def show(dead_letter_id: Annotated[str, typer.Argument(help="amqp:<message_id> or national:<id>")]) -> None:
    """One dead letter: why, where from, its headers and its body."""
    letter = _run(lambda dl: dl.get(dead_letter_id))
    if letter is None:
        typer.secho(f"{dead_letter_id}: no such dead letter", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    detail = letter.detail()
    body = detail.pop("body")
    typer.echo(json.dumps(detail, ensure_ascii=False, indent=2))
    typer.echo("--- body ---")
    typer.echo(body)


@app.command("replay")
def replay(ids: Annotated[list[str], typer.Argument(help="Dead letter ids")]) -> None:
    """Send dead letters back on their normal path. Exit code 1 if one was not found."""
    done = _run(lambda dl: dl.replay(ids, cli_actor()))
    failed = False
    for dead_letter_id in ids:
        n = done.get(dead_letter_id, 0)
        if n:
            typer.echo(f"{dead_letter_id}: replayed" + (f" ({n} copies)" if n > 1 else ""))
        else:
            failed = True
            typer.secho(
                f"{dead_letter_id}: not a dead letter, nothing done", fg=typer.colors.YELLOW, err=True
            )
    if failed:
        raise typer.Exit(1)


@app.command("discard")
def discard(
    ids: Annotated[list[str], typer.Argument(help="AMQP dead letter ids")],
    yes: Annotated[bool, typer.Option("--yes", help="Yes, remove them for good")] = False,
) -> None:
    """Remove AMQP dead letters for good (logged at WARNING with who). Needs --yes."""
    if not yes:
        typer.secho("discard removes messages for good: add --yes", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    configure_logging()  # the WARNING of who discarded what must reach the operator's log
    done = _run(lambda dl: dl.discard(ids, cli_actor()))
    failed = False
    for dead_letter_id in ids:
        if done.get(dead_letter_id):
            typer.echo(f"{dead_letter_id}: discarded")
        else:
            failed = True
            typer.secho(
                f"{dead_letter_id}: not a dead letter, nothing done", fg=typer.colors.YELLOW, err=True
            )
    if failed:
        raise typer.Exit(1)


def _run(work: Callable[[DeadLetters], Awaitable[T]]) -> T:
    settings = load_settings()

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            uow = SqlUnitOfWorkFactory(make_sessions(engine))
            return await work(DeadLetters(uow, settings.amqp_url, utc_now))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DeadLetterError as exc:
        typer.secho(f"{exc.code}: {exc.message_en}\n{exc.message_vi}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    except AmqpError as exc:
        typer.secho(f"{exc.code}: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
