"""`pakn-gateway outbound …`: the national outbox as an operator sees it — list it, replay dead letters.

A message the national portal refused for good (a `Client.*` Fault: schema, unknown petition…) is
dead: kept with the reason, and holding back its petition's later messages so they never overtake
it. Once the cause is fixed, `replay` puts it back in line (due now); the running gateway sends it
with its original MessageId.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.cli.common import load_settings
from gateway.domain.exchange import NationalMessage
from gateway.inbound.intake import utc_now

app = typer.Typer(help="The national outbox: messages for the national portal.", no_args_is_help=True)

T = TypeVar("T")


class State(StrEnum):
    pending = "pending"
    dead = "dead"
    delivered = "delivered"


@app.command("list")
def list_messages(
    state: Annotated[State, typer.Option("--state", help="Which messages to show")] = State.dead,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, oldest first")] = 50,
) -> None:
    """Show national outbox messages in one state (dead letters by default), with the counts of all."""

    async def read(uow: SqlUnitOfWorkFactory) -> tuple[list[NationalMessage], dict[str, int]]:
        async with uow() as u:
            return await u.national.list(state.value, limit), await u.national.counts()

    messages, counts = _with_store(read)
    console = Console()
    console.print(
        "national outbox: " + ", ".join(f"{s.value} {counts.get(s.value, 0)}" for s in State),
        highlight=False,
    )
    if not messages:
        console.print(f"no {state.value} message", highlight=False)
        return
    table = Table()
    for column in ("id", "petition", "operation", "attempts", "next attempt", "last error"):
        table.add_column(column, overflow="fold")  # ids are copied from here: never cut them short
    for m in messages:
        table.add_row(
            str(m.id),
            m.petition_id,
            m.operation,
            str(m.attempts),
            _when(m.next_attempt_at) if m.state == "pending" else "—",
            m.last_error or "",
        )
    console.print(table)


@app.command("replay")
def replay(ids: Annotated[list[int], typer.Argument(help="Outbox ids of dead messages")]) -> None:
    """Put dead messages back in line, due now. Exit code 1 if one of them was not dead."""

    async def put_back(uow: SqlUnitOfWorkFactory) -> list[tuple[int, bool]]:
        results: list[tuple[int, bool]] = []
        async with uow() as u:
            for message_id in ids:
                results.append((message_id, await u.national.replay(message_id, utc_now())))
            await u.commit()
        return results

    failed = False
    for message_id, done in _with_store(put_back):
        if done:
            typer.echo(f"{message_id}: replayed (pending, due now)")
        else:
            failed = True
            typer.secho(f"{message_id}: not a dead message, left as it is", fg=typer.colors.YELLOW, err=True)
    if failed:
        raise typer.Exit(1)


def _with_store(work: Callable[[SqlUnitOfWorkFactory], Awaitable[T]]) -> T:
    settings = load_settings()

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await work(SqlUnitOfWorkFactory(make_sessions(engine)))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""
