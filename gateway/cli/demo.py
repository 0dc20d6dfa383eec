"""`pakn-gateway demo`: the main job on embedded defaults, end to end on real parts.

SQLite, a development PKI, the gateway and the national portal simulator on local ports, a batch
of generated petitions pushed over signed SOAP and followed until every one sits in its unit's
RabbitMQ queue (status 04).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import signing
from connectors.amqp.connection import check_reachable, connect
from connectors.amqp.topology import unit_queue_name
from connectors.national_sim.push import push
from connectors.national_sim.server import create_sim_app
from gateway.app import create_app
from gateway.bootstrap import Runtime
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.domain.case import Status

console = Console()
FOLLOW_TIMEOUT_SECONDS = 120.0


def demo(
    count: Annotated[int, typer.Option("--count", min=1, max=5000, help="Petitions to push")] = 50,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible petitions")] = None,
) -> None:
    """Push COUNT petitions from the simulator through the gateway into the unit queues."""
    configure_logging("WARNING")
    settings = load_settings()
    reason = asyncio.run(check_reachable(settings.amqp_url, timeout=5))
    if reason is not None:
        console.print(f"[red]RabbitMQ is required and not reachable:[/red] {reason}")
        console.print(
            "Start it with [bold]rabbitmq-server -detached[/bold] (or your service manager), then retry."
        )
        raise typer.Exit(2)
    settings = settings.model_copy(update={"http_port": _free_port()})
    with startup_errors():
        app = create_app(settings)
    sim_port = _free_port()
    pki = settings.pki_dir
    sim = create_sim_app(
        trust=signing.TrustStore.from_pem_files(pki / "ca.pem"),
        ministry_id=settings.ministry_id,
        national_id=settings.national_id,
        signer=signing.load_pem_key(pki / "national.pem", pki / "national.key"),
    )
    runtime: Runtime = app.state.runtime
    console.print(
        f"Gateway  http://127.0.0.1:{settings.http_port}/soap/pakn  (database {settings.database_url})"
    )
    console.print(f"National portal simulator  http://127.0.0.1:{sim_port}/soap/national")
    exit_code = asyncio.run(
        _run(app, sim, settings.http_port, sim_port, runtime, pki, count, seed, settings.amqp_url)
    )
    raise typer.Exit(exit_code)


async def _run(
    app: Any,
    sim: Any,
    port: int,
    sim_port: int,
    runtime: Runtime,
    pki: Path,
    count: int,
    seed: int | None,
    amqp_url: str,
) -> int:
    servers = [_server(app, port), _server(sim, sim_port)]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        while not all(s.started for s in servers):  # uvicorn offers no started event to await
            if any(t.done() for t in tasks):
                raise RuntimeError("a server stopped during start-up (port taken?)")
            await asyncio.sleep(0.05)
        return await _push_and_follow(port, runtime, pki, count, seed, amqp_url)
    finally:
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def _push_and_follow(
    port: int, runtime: Runtime, pki: Path, count: int, seed: int | None, amqp_url: str
) -> int:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        sent = progress.add_task("Gửi / pushed (signed SOAP)", total=count)
        assigned = progress.add_task("Vào hàng đợi / in unit queues (04)", total=count)
        loop = asyncio.get_running_loop()

        def on_result(*_: Any) -> None:
            loop.call_soon_threadsafe(progress.advance, sent)

        report = await asyncio.to_thread(
            push, f"http://127.0.0.1:{port}/soap/pakn?wsdl", pki, count, seed=seed, on_result=on_result
        )
        progress.update(sent, completed=report.sent)
        ids = list(report.petition_ids)
        deadline = time.monotonic() + FOLLOW_TIMEOUT_SECONDS
        cases: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            cases = await _cases(runtime, ids)
            done = sum(1 for status, _ in cases.values() if status == Status.ASSIGNED.value)
            progress.update(assigned, completed=done)
            if done == len(ids):
                break
            await asyncio.sleep(0.2)
    statuses = {pid: status for pid, (status, _) in cases.items()}
    units = {pid: unit for pid, (_, unit) in cases.items()}
    depths = await _queue_depths(amqp_url, sorted(set(units.values())))
    _summary(runtime, report, statuses, units, depths)
    stuck = [pid for pid in ids if statuses.get(pid) != Status.ASSIGNED.value]
    if report.faults or stuck:
        console.print(
            f"[red]{len(stuck)} petition(s) did not reach their queue; faults: {dict(report.faults)}[/red]"
        )
        return 1
    console.print("[green]Every petition accepted, stored and delivered to its unit queue.[/green]")
    console.print("A unit reads its queue with: pakn-gateway unit listen CVL --out inbox/CVL")
    return 0


async def _cases(runtime: Runtime, ids: list[str]) -> dict[str, tuple[str, str]]:
    """PetitionId → (status, unit) as the store has it now."""
    out: dict[str, tuple[str, str]] = {}
    async with runtime.uow() as uow:
        for pid in ids:
            case = await uow.cases.get(pid)
            if case is not None:
                out[pid] = (case.status.value, case.unit_code)
    return out


async def _queue_depths(amqp_url: str, unit_codes: list[str]) -> dict[str, int]:
    connection = await connect(amqp_url, timeout=5)
    depths: dict[str, int] = {}
    try:
        channel = await connection.channel()
        for code in unit_codes:
            queue = await channel.declare_queue(unit_queue_name(code), passive=True)
            depths[code] = queue.declaration_result.message_count or 0
    finally:
        await connection.close()
    return depths


def _summary(
    runtime: Runtime, report: Any, statuses: dict[str, str], units: dict[str, str], depths: dict[str, int]
) -> None:
    per_unit = Counter(units.values())
    table = Table(title=f"PAKN demo — {report.sent} petitions in {report.elapsed:.1f}s")
    table.add_column("Đơn vị / unit")
    table.add_column("Tên / name")
    table.add_column("Hồ sơ / cases", justify="right")
    table.add_column("Hàng đợi / queue")
    table.add_column("Độ sâu / depth", justify="right")
    routing = runtime.config.routing
    for code, n in sorted(per_unit.items()):
        unit = routing.unit(code)
        table.add_row(
            code, unit.name if unit else "?", str(n), unit_queue_name(code), str(depths.get(code, "?"))
        )
    console.print(table)
    by_status = Counter(statuses.values())
    console.print(
        f"Receipts: accepted {report.accepted}, duplicates {report.duplicates}, "
        f"faults {dict(report.faults) or 0}; "
        f"statuses: {dict(sorted(by_status.items()))}"
    )


def _server(app: Any, port: int) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
