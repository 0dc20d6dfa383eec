"""`pakn-gateway report --period 2026-10 --format xlsx|csv --out FILE`: a report written to a file.

It reads the store named by PAKN_DATABASE_URL with the calendar and names of PAKN_CONFIG_DIR, as
the running gateway would; it writes nothing to the store but the calendar table, when the
working-day calendar changed since it was last copied there (connectors.db.calendar_table), and
needs no broker or signing key.
Exit codes: 0 written; 1 the store or the calendar could not give the report; 2 bad arguments or
configuration.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from connectors.db.engine import make_engine
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.ports import StoreError
from gateway.reports.errors import InvalidPeriod, ReportError
from gateway.reports.export import to_csv, to_xlsx
from gateway.reports.model import Report
from gateway.reports.period import Period, parse_period
from gateway.reports.wiring import build_reports
from gateway.routing_config import load_config


def report(
    period: Annotated[str, typer.Option("--period", help="2026-10, 2026-Q4, 2026 or 2026-10-01..2026-12-31")],
    format: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write; default bao-cao-pakn-PERIOD.EXT")
    ] = None,
) -> None:
    """Statistics of a period (received, answered on time and late, handling time in working days,
    backlog, transfers and withdrawals, satisfaction) as an XLSX or CSV file, Vietnamese headers."""
    configure_logging("WARNING")
    if format not in ("xlsx", "csv"):
        raise typer.BadParameter("xlsx or csv", param_hint="--format")
    try:
        chosen = parse_period(period)
    except InvalidPeriod as exc:
        raise typer.BadParameter(f"{exc.message_vi} / {exc.message_en}", param_hint="--period") from exc
    settings = load_settings()
    with startup_errors():
        config = load_config(settings.config_dir)
        engine = make_engine(settings.database_url)
        reports = build_reports(engine, settings, config)

    async def run(when: Period) -> Report:
        try:
            return await reports.build(when)
        finally:
            await engine.dispose()

    try:
        built = asyncio.run(run(chosen))
    except ReportError as exc:
        typer.secho(f"{exc.message_vi}\n{exc.message_en}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    except StoreError as exc:
        message = f"The store could not be read (run `pakn-gateway migrate`?): {exc}"
        typer.secho(message, fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    target = out or Path(f"bao-cao-pakn-{chosen.text}.{format}")
    target.write_bytes(to_xlsx(built) if format == "xlsx" else to_csv(built))
    typer.echo(
        f"{chosen.label}: {built.received_total} received, {built.answered_total.answered} answered "
        f"({built.answered_total.on_time} on time, {built.answered_total.late} late), "
        f"{built.backlog_total} open → {target}"
    )
