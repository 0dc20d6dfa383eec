"""`pakn-gateway demo`: the main job on embedded defaults, end to end on real parts, both ways.

SQLite, a development PKI, the gateway and the national portal simulator on local ports. A batch of
generated petitions is pushed over signed SOAP; each reaches its unit's RabbitMQ queue (04); a demo
unit (`connectors.amqp.demo_unit`) claims and answers it over AMQP; the gateway renders and signs
the official letter (PAdES) and delivers statuses and answer to the simulator, which verifies every
signature and the per-petition order. The demo follows each petition until the portal holds its
answer and 06, then says where the signed PDFs are.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import signing
from connectors.amqp.connection import check_reachable, connect
from connectors.amqp.demo_unit import auto_answer
from connectors.amqp.topology import unit_queue_name
from connectors.national_sim.push import push
from connectors.national_sim.recorder import SimRecorder
from connectors.national_sim.server import create_sim_app
from gateway.app import create_app
from gateway.bootstrap import Runtime
from gateway.cli.common import configure_logging, load_settings, startup_errors
from gateway.domain.case import Status

console = Console()
FOLLOW_SECONDS_BASE = 60.0
FOLLOW_SECONDS_PER_PETITION = 0.5
TOPOLOGY_TIMEOUT_SECONDS = 30.0


@dataclass
class _Stage:
    """PetitionId → (status at the gateway, unit), and what the portal holds, at one moment."""

    cases: dict[str, tuple[str, str]]
    at_portal: set[str]

    def count(self, *statuses: str) -> int:
        return sum(1 for status, _ in self.cases.values() if status in statuses)


def demo(
    count: Annotated[int, typer.Option("--count", min=1, max=5000, help="Petitions to push")] = 50,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible petitions")] = None,
) -> None:
    """Push COUNT petitions through the gateway to the units, answer them, deliver the signed answers."""
    configure_logging("WARNING")
    settings = load_settings()
    reason = asyncio.run(check_reachable(settings.amqp_url, timeout=5))
    if reason is not None:
        console.print(f"[red]RabbitMQ is required and not reachable:[/red] {reason}")
        console.print(
            "Start it with [bold]rabbitmq-server -detached[/bold] (or your service manager), then retry."
        )
        raise typer.Exit(2)
    sim_port = _free_port()
    settings = settings.model_copy(
        update={
            "http_port": _free_port(),
            "national_url": f"http://127.0.0.1:{sim_port}/soap/national",
            # the demo's portal is ours and local: retry it at once rather than after minutes
            "national_max_backoff_seconds": 5.0,
            "national_breaker_reset_seconds": 2.0,
        }
    )
    with startup_errors():
        app = create_app(settings)
    pki = settings.pki_dir
    portal_dir = pki.parent / "portal"
    shutil.rmtree(portal_dir, ignore_errors=True)  # this run's letters only
    sim = create_sim_app(
        trust=signing.TrustStore.from_pem_files(pki / "ca.pem"),
        ministry_id=settings.ministry_id,
        national_id=settings.national_id,
        signer=signing.load_pem_key(pki / "national.pem", pki / "national.key"),
        record_dir=portal_dir,
    )
    runtime: Runtime = app.state.runtime
    console.print(
        f"Gateway  http://127.0.0.1:{settings.http_port}/soap/pakn  (database {settings.database_url})"
    )
    console.print(f"National portal simulator  {settings.national_url}")
    exit_code = asyncio.run(
        _run(app, sim, settings.http_port, sim_port, runtime, pki, count, seed, settings.amqp_url, portal_dir)
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
    portal_dir: Path,
) -> int:
    servers = [_server(app, port), _server(sim, sim_port)]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    stop_unit = asyncio.Event()
    unit: asyncio.Task[int] | None = None
    try:
        while not all(s.started for s in servers):  # uvicorn offers no started event to await
            if any(t.done() for t in tasks):
                raise RuntimeError("a server stopped during start-up (port taken?)")
            await asyncio.sleep(0.05)
        units = list(runtime.config.routing.units)
        await _await_topology(amqp_url, units)
        unit = asyncio.create_task(auto_answer(amqp_url, units, stop_unit), name="demo-unit")
        return await _push_and_follow(port, runtime, sim.state.recorder, pki, count, seed, portal_dir, unit)
    finally:
        stop_unit.set()
        if unit is not None:
            await asyncio.gather(unit, return_exceptions=True)
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def _push_and_follow(
    port: int,
    runtime: Runtime,
    recorder: SimRecorder,
    pki: Path,
    count: int,
    seed: int | None,
    portal_dir: Path,
    unit: asyncio.Task[int],
) -> int:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        sent = progress.add_task("Gửi / pushed (signed SOAP)        ", total=count)
        assigned = progress.add_task("Đến đơn vị / at their unit (04)  ", total=count)
        answered = progress.add_task("Đã trả lời / answered (06)       ", total=count)
        delivered = progress.add_task("Cổng quốc gia / answer at portal ", total=count)
        loop = asyncio.get_running_loop()

        def on_result(*_: Any) -> None:
            loop.call_soon_threadsafe(progress.advance, sent)

        report = await asyncio.to_thread(
            push, f"http://127.0.0.1:{port}/soap/pakn?wsdl", pki, count, seed=seed, on_result=on_result
        )
        progress.update(sent, completed=report.sent)
        ids = list(report.petition_ids)
        # generous for the count, but bounded: a stuck petition ends the demo with its report
        deadline = time.monotonic() + FOLLOW_SECONDS_BASE + FOLLOW_SECONDS_PER_PETITION * count
        stage = _Stage({}, set())
        while time.monotonic() < deadline and not unit.done():
            stage = await _stage(runtime, recorder, ids)
            progress.update(assigned, completed=stage.count("04", "05", "06"))
            progress.update(answered, completed=stage.count("06"))
            progress.update(delivered, completed=len(stage.at_portal))
            if len(stage.at_portal) == len(ids):
                break
            await asyncio.sleep(0.2)
    _summary(runtime, report, stage, recorder, portal_dir)
    if unit.done() and unit.exception() is not None:
        console.print(f"[red]The demo unit stopped: {unit.exception()}[/red]")
    missing = [pid for pid in ids if pid not in stage.at_portal]
    disorder = recorder.order_violations or recorder.answers_before_assignment
    if report.faults or missing or disorder:
        console.print(
            f"[red]{len(missing)} petition(s) have no signed answer at the portal; "
            f"faults: {dict(report.faults)}; order violations: {len(recorder.order_violations)}[/red]"
        )
        return 1
    console.print(
        "[green]Every petition accepted, delivered to its unit, answered, and the signed answer "
        "delivered to the national portal in order.[/green]"
    )
    return 0


async def _stage(runtime: Runtime, recorder: SimRecorder, ids: list[str]) -> _Stage:
    cases: dict[str, tuple[str, str]] = {}
    async with runtime.uow() as uow:
        for pid in ids:
            case = await uow.cases.get(pid)
            if case is not None:
                cases[pid] = (case.status.value, case.unit_code)
    at_portal = {
        pid
        for pid in ids
        if cases.get(pid, ("", ""))[0] == Status.COMPLETED.value
        and any(code == Status.COMPLETED.value for _, code in recorder.statuses(pid))
        and recorder.answers(pid)
    }
    return _Stage(cases, at_portal)


async def _await_topology(amqp_url: str, unit_codes: list[str]) -> None:
    """The gateway declares the queues once it has connected; the demo unit consumes them after."""
    deadline = time.monotonic() + TOPOLOGY_TIMEOUT_SECONDS
    while True:
        connection = await connect(amqp_url, timeout=5)
        try:
            channel = await connection.channel()
            await channel.declare_queue(unit_queue_name(unit_codes[-1]), passive=True)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
        finally:
            await connection.close()
        await asyncio.sleep(0.2)


def _summary(
    runtime: Runtime, report: Any, stage: _Stage, recorder: SimRecorder, portal_dir: Path
) -> None:
    per_unit = Counter(unit for _, unit in stage.cases.values())
    answered = Counter(unit for status, unit in stage.cases.values() if status == Status.COMPLETED.value)
    table = Table(title=f"PAKN demo — {report.sent} petitions in {report.elapsed:.1f}s (push)")
    table.add_column("Đơn vị / unit")
    table.add_column("Tên / name")
    table.add_column("Hồ sơ / cases", justify="right")
    table.add_column("Đã trả lời / answered", justify="right")
    routing = runtime.config.routing
    for code, n in sorted(per_unit.items()):
        unit = routing.unit(code)
        table.add_row(code, unit.name if unit else "?", str(n), str(answered.get(code, 0)))
    console.print(table)
    by_status = Counter(status for status, _ in stage.cases.values())
    console.print(
        f"Receipts: accepted {report.accepted}, duplicates {report.duplicates}, "
        f"faults {dict(report.faults) or 0}; "
        f"statuses: {dict(sorted(by_status.items()))}"
    )
    received = recorder.received
    verdicts = Counter(r.verdict for r in received if r.outcome == "accepted")
    console.print(
        f"National portal: {len(received)} messages received, signatures {dict(verdicts)}, "
        f"order violations {len(recorder.order_violations)}, "
        f"answers before 04 {len(recorder.answers_before_assignment)}"
    )
    letters = sorted((portal_dir / "answers").glob("*.pdf"))
    console.print(f"Signed answer letters (PAdES): {len(letters)} in {(portal_dir / 'answers').resolve()}")
    for letter in letters[:3]:
        console.print(f"  {letter.resolve()}", highlight=False)
    console.print(
        "Check one: pdfsig FILE  ·  pyhanko sign validate --trust var/pki/ca.pem --no-revocation-check FILE"
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
