"""`pakn-gateway national-sim`: the national portal simulator, and `push` to send it petitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

import signing
from connectors.national_sim.push import push as push_petitions
from connectors.national_sim.server import create_sim_app
from gateway.cli.common import configure_logging, load_settings

app = typer.Typer(help="National portal simulator (NationalExchange).", invoke_without_command=True)


@app.callback()
def serve_sim(
    ctx: typer.Context,
    host: str = "127.0.0.1",
    port: int = 8090,
    record_dir: Annotated[Path | None, typer.Option(help="Keep every received message here")] = None,
) -> None:
    """Serve NationalExchange over HTTP; every received message is verified and recorded."""
    if ctx.invoked_subcommand is not None:
        return
    configure_logging()
    settings = load_settings()
    signing.init_dev_pki(settings.pki_dir, ministry_id=settings.ministry_id, national_id=settings.national_id)
    pki = settings.pki_dir
    sim = create_sim_app(
        trust=signing.TrustStore.from_pem_files(pki / "ca.pem"),
        ministry_id=settings.ministry_id,
        national_id=settings.national_id,
        record_dir=record_dir,
        signer=signing.load_pem_key(pki / "national.pem", pki / "national.key"),
    )
    typer.echo(f"NationalExchange simulator on http://{host}:{port}/soap/national (WSDL: ?wsdl)")
    uvicorn.run(sim, host=host, port=port)


@app.command("push")
def push(
    count: Annotated[int, typer.Option("--count", min=1, help="How many petitions to send")] = 20,
    gateway: Annotated[str | None, typer.Option(help="Gateway base URL")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible petitions")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=32)] = 4,
) -> None:
    """Send COUNT generated Vietnamese petitions to the gateway, signed with the national key."""
    settings = load_settings()
    base = (gateway or settings.base_url).rstrip("/")
    report = push_petitions(
        f"{base}/soap/pakn?wsdl", settings.pki_dir, count, seed=seed, concurrency=concurrency
    )
    typer.echo(
        f"sent {report.sent}: accepted {report.accepted}, duplicates {report.duplicates}, "
        f"faults {dict(report.faults) or 0} in {report.elapsed:.1f}s"
    )
    if report.faults:
        raise typer.Exit(1)
