"""`pakn-gateway audit …`: prove the message log — sign a checkpoint, verify offline, export old segments.

`verify` needs only the database (or an exported file) and the trust store: no network, no keys,
no migration (an audit changes nothing). Exit codes: 0 intact, 1 broken, 2 could not check.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, NoReturn

import typer

import signing
from connectors.db.engine import make_engine, make_sessions
from connectors.db.log_audit import AuditReport
from connectors.db.log_audit_store import audit_store
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_export import ExportSummary, SegmentError, audit_segment, export_segment
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.bootstrap import build_checkpointer, load_signer
from gateway.cli.common import load_settings, startup_errors
from gateway.ports import StoreError

app = typer.Typer(
    help="The message log: signed checkpoints, offline verification, export.", no_args_is_help=True
)

VIETNAM = timezone(timedelta(hours=7), "ICT")
TrustOption = Annotated[
    list[Path] | None,
    typer.Option("--trust", help="CA file (PEM) trusted for checkpoint signatures; default PAKN_TRUST_STORE"),
]


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of the log's head now (timestamped when PAKN_TSA_URL is set)."""
    settings = load_settings()
    with startup_errors():
        signer = load_signer(settings)

    async def run() -> Checkpoint | None:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            uow = SqlUnitOfWorkFactory(make_sessions(engine))
            return await build_checkpointer(settings, uow, signer).checkpoint()
        finally:
            await engine.dispose()

    try:
        made = asyncio.run(run())
    except (StoreError, signing.SigningError) as exc:
        _fail(f"no checkpoint: {exc}")
    if made is None:
        typer.echo("nothing to checkpoint: the log is empty or its head is already checkpointed")
        return
    stamped = ", timestamped" if made.timestamp_token else ""
    typer.echo(
        f"checkpoint {made.id} at entry {made.last_entry_id} ({made.entry_count} entries){stamped}, "
        f"head {made.head_hash}"
    )


@app.command("verify")
def verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify an exported segment instead of the database")
    ] = None,
    trust: TrustOption = None,
) -> None:
    """Walk the whole chain and every checkpoint offline. Exit 0 intact, 1 broken, 2 could not check."""
    settings = load_settings()
    try:
        store = signing.TrustStore.from_pem_files(*(trust or settings.trust_paths))
    except signing.SigningError as exc:
        _fail(f"trust store: {exc}")

    async def from_database() -> AuditReport:
        engine = make_engine(settings.database_url)
        try:
            async with SqlUnitOfWorkFactory(make_sessions(engine))() as uow:
                return await audit_store(uow, store)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(audit_segment(file, store) if file is not None else from_database())
    except (StoreError, SegmentError, OSError) as exc:
        _fail(f"cannot verify: {exc}")
    _print_report(report, str(file) if file is not None else "database")
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write")],
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Date or date-time (Vietnam time unless an offset is given); default: now minus "
            "PAKN_AUDIT_RETENTION_DAYS",
        ),
    ] = None,
    after_checkpoint: Annotated[
        int | None,
        typer.Option("--after-checkpoint", help="Start after this checkpoint (the end of an earlier export)"),
    ] = None,
) -> None:
    """Write the rows up to the last checkpoint before DATE, with their checkpoints, to a file that
    `audit verify --file` checks on its own."""
    settings = load_settings()
    cutoff = _cutoff(before, settings.audit_retention_days)

    async def run() -> ExportSummary:
        engine = make_engine(settings.database_url)
        try:
            async with SqlUnitOfWorkFactory(make_sessions(engine))() as uow:
                return await export_segment(uow, out, before=cutoff, after_checkpoint=after_checkpoint)
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(run())
    except (StoreError, SegmentError, OSError) as exc:
        _fail(f"no export: {exc}")
    start = f"after checkpoint {summary.anchor_id}" if summary.anchor_id is not None else "from the genesis"
    typer.echo(
        f"exported {summary.rows} entries {start} up to entry {summary.last_entry_id} "
        f"(checkpoint {summary.checkpoint_id}) to {out}"
    )


def _print_report(report: AuditReport, source: str) -> None:
    span = f" (ids {report.first_id}–{report.last_id})" if report.rows else ""
    typer.echo(
        f"message log ({source}): {report.rows} entries{span}, {report.checkpoints} checkpoints "
        f"({report.timestamped} timestamped)"
    )
    first = report.first_break
    if first is None:
        typer.secho("INTACT: every link and every checkpoint verifies", fg=typer.colors.GREEN)
        return
    typer.secho(f"BROKEN at entry {first.entry_id}: {first.code}: {first.detail}", fg=typer.colors.RED)
    for other in report.breaks:
        if other is not first:
            typer.echo(f"  also at entry {other.entry_id}: {other.code}: {other.detail}")


def _cutoff(before: str | None, retention_days: int | None) -> datetime:
    if before is None:
        if retention_days is None:
            _fail("give --before DATE (or set PAKN_AUDIT_RETENTION_DAYS)")
        return datetime.now(UTC) - timedelta(days=retention_days)
    try:
        moment = datetime.fromisoformat(before)
    except ValueError:
        _fail(f"--before {before!r} is not an ISO date or date-time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=VIETNAM)


def _fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)
