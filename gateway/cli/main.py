"""`pakn-gateway`: the one console script. Each command group lives in its own module."""

from __future__ import annotations

import typer

from gateway.cli import audit, demo, dlq, outbound, pki, reconcile, report, serve, sim, units, users

app = typer.Typer(
    name="pakn-gateway",
    help="PAKN Gateway — cổng kết nối phản ánh, kiến nghị giữa Bộ và Hệ thống thông tin Chính phủ.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve", help="Run the gateway (applies migrations first).")(serve.serve)
app.command("migrate", help="Apply database migrations and exit.")(serve.migrate)
app.command("reconcile", help="Reconcile now: take in the petitions the portal lists and the gateway lacks.")(
    reconcile.reconcile
)
app.command("demo", help="The main job on embedded defaults, both ways: portal → units → signed answers.")(
    demo.demo
)
app.command("report", help="Statistics of a period as XLSX or CSV (Vietnamese headers).")(report.report)
app.add_typer(pki.app, name="pki")
app.add_typer(units.app, name="unit")
app.add_typer(sim.app, name="national-sim")
app.add_typer(outbound.app, name="outbound")
app.add_typer(audit.app, name="audit")
app.add_typer(dlq.app, name="dlq")
app.add_typer(users.app, name="user")

if __name__ == "__main__":  # pragma: no cover
    app()
