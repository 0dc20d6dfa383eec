"""`pakn-gateway reconcile`: one reconciliation run now (what the nightly schedule does), with its report.

It builds the gateway's own runtime (signing key, trust store, store, routing), so the ListQuery is
signed and the portal's pages verified exactly as the running gateway does. Petitions it adds wait
in the outbox: the running gateway's relay hands them to their units' queues, and its national
sender reports their statuses to the portal.

Exit codes: 0 every listed petition is in the store; 1 the portal (or the store) failed during the
run, or some petitions could not be added (what was added stays added); 2 the gateway cannot start.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from connectors.db.migrate import upgrade
from gateway.bootstrap import build_runtime
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.inbound.reconcile import ReconcileReport
from gateway.inbound.reconcile_schedule import VIETNAM


def reconcile(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="ISO date or date-time (no offset: Vietnam time); default: PAKN_RECONCILE_LOOKBACK_DAYS ago",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, max=1000, help="Petitions per page; default PAKN_RECONCILE_PAGE_SIZE"),
    ] = None,
) -> None:
    """Ask the portal (ListPetitions) for its petitions and take in those the gateway lacks."""
    configure_logging("WARNING")
    start = _since(since) if since is not None else None
    settings = load_settings()
    with startup_errors():
        runtime = build_runtime(settings)

    async def run() -> ReconcileReport:
        try:
            await upgrade(runtime.engine)
            return await runtime.reconciliation.run(since=start, limit=limit)
        finally:
            runtime.national_client.close()
            await runtime.engine.dispose()

    report = asyncio.run(run())
    _print(report, Console())
    if not report.ok:
        raise typer.Exit(1)


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)  # a date alone is its midnight
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time", param_hint="--since") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=VIETNAM)


def _print(report: ReconcileReport, console: Console) -> None:
    # Ids and reasons come from the portal: printed as text, never read as rich markup.
    def say(text: str, style: str | None = None) -> None:
        console.print(Text(text, style=style or ""), soft_wrap=True)

    say(
        f"reconciliation since {report.since.astimezone(VIETNAM).isoformat(timespec='seconds')}: "
        f"pages {report.pages}, listed {report.listed}, known {report.known}, "
        f"added {len(report.added)}, failed {len(report.failed)}, differing {len(report.differing)}"
    )
    if report.added:
        say("added: " + ", ".join(report.added))
    if report.differing:
        say(
            "listed with other content than the gateway holds (left as they are): "
            + ", ".join(report.differing),
            "yellow",
        )
    if report.failed:
        table = Table(title="not added")
        for column in ("petition", "code", "reason"):
            table.add_column(column, overflow="fold")  # ids are copied from here: never cut them short
        for problem in report.failed:
            table.add_row(Text(problem.petition_id or "?"), Text(problem.code), Text(problem.message))
        console.print(table)
    if report.error is not None:
        say(
            f"stopped early: {report.error.code}: {report.error.message} "
            "(what was added stays added; run again when the cause is fixed)",
            "red",
        )
    elif report.ok:
        say("every listed petition is in the gateway", "green")
