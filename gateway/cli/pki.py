"""`pakn-gateway pki init DIR`: a development PKI (CA, national portal and ministry certificates)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import signing

app = typer.Typer(help="Keys and certificates.", no_args_is_help=True)


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write ca.pem, national.*, ministry.*")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing PKI")] = False,
    ministry_id: str = "000.00.00.G07",
    national_id: str = "000.00.00.G22",
) -> None:
    """Create a DEVELOPMENT PKI. Production keys come from the ministry's CA (PEM or PKCS#12)."""
    pki = signing.init_dev_pki(directory, ministry_id=ministry_id, national_id=national_id, force=force)
    typer.echo(f"Development PKI in {pki.directory}:")
    for path in (pki.ca_cert, pki.national_cert, pki.national_key, pki.ministry_cert, pki.ministry_key):
        typer.echo(f"  {path}")
