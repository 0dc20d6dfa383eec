"""The console, assembled: its pages, static files and fonts, and the sampler run in the app's lifespan.

``Console.mount(app)`` adds everything under ``/console`` (and the overview's JSON under
``/api/ops``); ``start()``/``stop()`` run the sampler. Store reads of the console use read-only
transactions (on SQLite they never take the write lock the intake needs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

import signing
from connectors.amqp.queue_stats import QueueStats
from connectors.db.engine import make_sessions, read_only
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.console.cases_page import cases_router
from gateway.console.dead_letters_page import dead_letters_router
from gateway.console.login_page import login_router
from gateway.console.overview import DeadLetterCounts, OverviewService
from gateway.console.overview_page import overview_router
from gateway.console.probe import StoreAndBrokerProbe
from gateway.console.rendering import Pages, package_dir
from gateway.console.reports_page import reports_router
from gateway.console.samples import Sampler, SampleRing
from gateway.console.units_page import units_router
from gateway.inbound.intake import utc_now
from gateway.ops.auth import OpsAuth
from gateway.ops.case_ops import CaseOps
from gateway.ops.dead_letters import DeadLetters
from gateway.outbound.national_sender import NationalSender
from gateway.reports.service import Reports
from gateway.routing_config import GatewayConfig

FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_CACHE = "public, max-age=604800, immutable"


@dataclass
class ConsoleParts:
    """What the console reads from the running gateway (built by ``gateway.app``)."""

    engine: AsyncEngine
    case_ops: CaseOps  # case search, case pages, units and tokens: the same objects as the REST API
    config: GatewayConfig
    auth: OpsAuth
    dead_letters: DeadLetters
    sender: NationalSender
    broker_connected: Callable[[], bool]
    queue_stats: QueueStats
    reports: Reports  # the same service as GET /api/ops/reports
    sample_seconds: float = 10.0
    queues_fresh_for: float = 5.0  # a shared queue reader's last read this young is used as is


class Console:
    def __init__(self, parts: ConsoleParts) -> None:
        routing = parts.config.routing
        reads = SqlUnitOfWorkFactory(make_sessions(read_only(parts.engine)))
        self.ring = SampleRing(interval=parts.sample_seconds)
        self.probe = StoreAndBrokerProbe(
            reads, parts.queue_stats, routing, utc_now, fresh_for=parts.queues_fresh_for
        )
        self.sampler = Sampler(self.ring, self.probe)
        self.counts = DeadLetterCounts(parts.dead_letters)
        self.overview = OverviewService(
            uow=reads,
            routing=routing,
            ring=self.ring,
            sender=parts.sender,
            dead_letters=self.counts,
            broker_connected=parts.broker_connected,
            clock=utc_now,
        )
        self.search = parts.case_ops.search
        self.case_pages = parts.case_ops.pages
        self.units = parts.case_ops.units
        self.pages = Pages(
            globals_={
                "ministry_name": parts.config.ministry.name,
                "routing": routing,
            }
        )
        self._parts = parts
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def mount(self, app: FastAPI) -> None:
        parts = self._parts
        app.mount("/console/static", StaticFiles(directory=package_dir("static")), name="console-static")

        @app.get("/console/fonts/{name}", include_in_schema=False)
        async def font(name: str) -> FileResponse:
            if name not in FONTS:
                raise HTTPException(status_code=404)
            return FileResponse(
                signing.font_path(name), media_type="font/ttf", headers={"Cache-Control": FONT_CACHE}
            )

        app.include_router(login_router(self.pages, parts.auth))
        app.include_router(overview_router(self.pages, parts.auth, self.overview))
        app.include_router(dead_letters_router(self.pages, parts.auth, parts.dead_letters, self.counts))
        app.include_router(
            cases_router(self.pages, parts.auth, self.search, self.case_pages, parts.config.routing)
        )
        app.include_router(units_router(self.pages, parts.auth, self.units))
        app.include_router(reports_router(self.pages, parts.auth, parts.reports, utc_now))

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.sampler.run(self._stop), name="console-sampler")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task  # a sample in flight is bounded in time (Sampler.take)
            self._task = None
        await self.probe.close()
