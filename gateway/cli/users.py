"""`pakn-gateway user …`: operator accounts of the console and `/api/ops` (viewer, operator, admin)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.bootstrap import build_accounts
from gateway.cli.common import cli_actor, load_settings
from gateway.domain.operators import Role
from gateway.ops.accounts import AccountError, Accounts

app = typer.Typer(help="Operator accounts: add, list, change password, role, disable.", no_args_is_help=True)

T = TypeVar("T")

PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from this file ('-': standard input)"),
]


def _password(source: Path | None) -> str:
    if source is None:
        return str(typer.prompt("Mật khẩu / Password", hide_input=True, confirmation_prompt=True))
    text = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")
    return text.rstrip("\r\n")  # the newline an editor or `echo` adds is never part of a password


def _run(work: Callable[[Accounts], Awaitable[T]]) -> T:
    settings = load_settings()

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await work(build_accounts(settings, SqlUnitOfWorkFactory(make_sessions(engine))))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AccountError as exc:
        typer.secho(f"{exc.code}: {exc.message_en}\n{exc.message_vi}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[Role, typer.Option("--role", help="viewer, operator or admin")] = Role.VIEWER,
    display_name: Annotated[str, typer.Option("--name", help="Full name, e.g. Nguyễn Thị Hằng")] = "",
    password_file: PasswordFile = None,
) -> None:
    """Create an account (the password is asked for, or read from --password-file)."""
    password = _password(password_file)
    account = _run(lambda a: a.create(username, password, role, display_name=display_name, by=cli_actor()))
    typer.echo(f"{account.username}: created, role {account.role.value}")


@app.command("list")
def list_accounts() -> None:
    """Every account with its role and state."""
    accounts = _run(lambda a: a.list())
    table = Table()
    for column in ("username", "name", "role", "state", "created"):
        table.add_column(column)
    for acc in accounts:
        state = "disabled" if acc.disabled else ("locked" if acc.locked_until else "active")
        table.add_row(
            acc.username, acc.display_name, acc.role.value, state, acc.created_at.date().isoformat()
        )
    Console().print(table)


@app.command("passwd")
def passwd(username: Annotated[str, typer.Argument()], password_file: PasswordFile = None) -> None:
    """Set a new password (also unlocks; ends the account's sessions)."""
    password = _password(password_file)
    _run(lambda a: a.change(username, password=password, by=cli_actor()))
    typer.echo(f"{username}: password changed")


@app.command("role")
def set_role(username: Annotated[str, typer.Argument()], role: Annotated[Role, typer.Argument()]) -> None:
    """Give an account another role (ends its sessions)."""
    _run(lambda a: a.change(username, role=role, by=cli_actor()))
    typer.echo(f"{username}: role {role.value}")


@app.command("disable")
def disable(username: Annotated[str, typer.Argument()]) -> None:
    """Stop an account from logging in; its sessions end at once."""
    _run(lambda a: a.change(username, disabled=True, by=cli_actor()))
    typer.echo(f"{username}: disabled")


@app.command("enable")
def enable(username: Annotated[str, typer.Argument()]) -> None:
    _run(lambda a: a.change(username, disabled=False, by=cli_actor()))
    typer.echo(f"{username}: enabled")
