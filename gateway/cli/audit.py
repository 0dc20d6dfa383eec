"""`pakn-gateway audit …`: prove the message log — sign a checkpoint, verify offline, export old
segments, prune them from the store.

`verify` needs only the database (or an exported file), the export files of pruned segments and
the trust store: no network, no keys, no migration (an audit changes nothing). Exit codes: 0 intact,
1 broken, 2 could not check. `prune`: 0 pruned or nothing due, 1 refused (nothing deleted), 2 could
not run.
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
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_export import ExportSummary, SegmentError, audit_segment, export_segment
from connectors.db.log_prune import PruneOutcome
from connectors.db.log_segment_audit import audit_log
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.bootstrap import build_checkpointer, build_pruner, load_signer
from gateway.cli.common import load_settings, startup_errors
from gateway.ports import StoreError

app = typer.Typer(
    help="The message log: signed checkpoints, offline verification, export, retention.",
    no_args_is_help=True,
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
    segments_dir: Annotated[
        Path | None,
        typer.Option("--segments-dir", help="Where the pruned segments' export files are now, if moved"),
    ] = None,
) -> None:
    """Walk the whole chain and every checkpoint offline, and the export file of every pruned segment.
    Exit 0 intact, 1 broken, 2 could not check."""
    settings = load_settings()
    try:
        store = signing.TrustStore.from_pem_files(*(trust or settings.trust_paths))
    except signing.SigningError as exc:
        _fail(f"trust store: {exc}")

    async def from_database() -> AuditReport:
        engine = make_engine(settings.database_url)
        try:
            async with SqlUnitOfWorkFactory(make_sessions(engine))() as uow:
                return await audit_log(uow, store, segments_dir=segments_dir)
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


@app.command("prune")
def prune(
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Date or date-time (Vietnam time unless an offset is given); default: now minus "
            "PAKN_AUDIT_RETENTION_DAYS",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be exported and deleted; change nothing")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Directory of the export files; default PAKN_AUDIT_EXPORT_DIR"),
    ] = None,
    trust: TrustOption = None,
) -> None:
    """Export the rows up to the last checkpoint made before DATE, verify the file, record its path
    and sha256, then delete those rows from the store. Nothing is deleted unless the file verifies."""
    settings = load_settings()
    cutoff = _cutoff(before, settings.audit_retention_days)

    async def run() -> PruneOutcome:
        engine = make_engine(settings.database_url)
        try:
            if not dry_run:
                await upgrade(engine)
            uow = SqlUnitOfWorkFactory(make_sessions(engine))
            pruner = build_pruner(settings, uow, export_dir=out_dir, trust_paths=trust)
            return await pruner.prune(cutoff, dry_run=dry_run)
        finally:
            await engine.dispose()

    with startup_errors():
        try:
            outcome = asyncio.run(run())
        except SegmentError as exc:
            typer.secho(f"REFUSED, nothing deleted: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from exc
        except (StoreError, OSError) as exc:
            _fail(f"no prune: {exc}")
    _print_prune(outcome, cutoff, dry_run=dry_run)


def _print_prune(outcome: PruneOutcome, cutoff: datetime, *, dry_run: bool) -> None:
    if outcome.deleted and (outcome.segment is None or outcome.deleted > outcome.segment.row_count):
        typer.echo("finished deleting the rows of an earlier prune that was interrupted")
    plan, segment = outcome.planned, outcome.segment
    if plan is None:
        waiting = (
            f"; {outcome.waiting} entries logged before then wait for a checkpoint made before the cut-off"
            if outcome.waiting
            else ""
        )
        typer.echo(f"nothing to prune before {cutoff.isoformat()}{waiting}")
        return
    span = f"{outcome.rows} entries (ids {outcome.first_entry_id}–{plan.covering.last_entry_id})"
    made = plan.covering.created_at.isoformat()
    if dry_run:
        typer.echo(f"would export and delete {span}, up to checkpoint {plan.covering.id} made {made}")
    elif segment is None:
        typer.echo("another process pruned this segment meanwhile: nothing more to do")
    else:
        typer.echo(
            f"pruned {span} into {segment.path} (sha256 {segment.sha256}), vouched for by checkpoint "
            f"{segment.checkpoint_id} made {made}; the file verified before any row was deleted"
        )


def _print_report(report: AuditReport, source: str) -> None:
    span = f" (ids {report.first_id}–{report.last_id})" if report.rows else ""
    typer.echo(
        f"message log ({source}): {report.rows} entries{span}, {report.checkpoints} checkpoints "
        f"({report.timestamped} timestamped)"
    )
    if report.archived_through is not None:
        typer.echo(
            f"entries up to {report.archived_through} pruned into {report.segments} export files"
            " (each checked: present, sha256 as recorded, verifying on its own)"
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
