"""The FastAPI application: routes of both sides and the background work, opened in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from connectors.amqp.queue_stats import QueueStats
from connectors.db.migrate import upgrade
from connectors.db.outbox_notify import OutboxNotifier
from connectors.db.ping import ping
from gateway.bootstrap import (
    Runtime,
    build_case_ops,
    build_runtime,
    build_sampler,
    checkpoint_schedule,
    deadline_schedule,
    prune_schedule,
    reconcile_schedule,
)
from gateway.broker_link import BrokerLink
from gateway.console.routes import Console, ConsoleParts
from gateway.inbound.intake import utc_now
from gateway.inbound.soap_route import soap_router
from gateway.observability.readiness import ReadinessProbes
from gateway.observability.routes import observability_router
from gateway.ops.api import ops_router
from gateway.ops.auth import LoginRedirect, OpsAuth, login_redirect_handler
from gateway.ops.cases_api import cases_ops_router
from gateway.ops.dead_letters import DeadLetters
from gateway.ops.session_api import session_router
from gateway.ops.units_api import units_ops_router
from gateway.outbound.reply_intake import ReplyIntake
from gateway.public.wiring import public_answers_router
from gateway.reports.api import reports_router
from gateway.reports.wiring import reports_of
from gateway.settings import Settings
from gateway.startup_heap import freeze_startup_heap, thaw
from gateway.units.cases_api import cases_router
from gateway.units.problems import Problem, problem_handler
from gateway.units.replies_api import replies_router

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    """Built synchronously so that configuration and key errors stop the start, before binding."""
    settings.warn_if_unsafe()
    rt = runtime or build_runtime(settings)
    link = BrokerLink(
        settings=settings,
        routing=rt.config.routing,
        source=rt.outbox_source,
        reply_handler=ReplyIntake(rt.replies),
        leadership=rt.relay_leadership,
    )
    # new cases, and a transfer's case message for the new unit, go out at once
    rt.committed.listen(link.wake)
    # ...and reach the relaying instance when that is another process (PostgreSQL NOTIFY)
    notifier = OutboxNotifier(rt.engine, relays_here=lambda: rt.relay_leadership.leading)
    rt.committed.listen(notifier.wake)
    queue_stats = QueueStats(settings.amqp_url)  # one reader for the metrics and the console samplers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await upgrade(rt.engine)
        await reports.prepare()  # the calendar table, rewritten if config/calendar.yaml changed
        link.start()
        stop_sending = asyncio.Event()
        sending = asyncio.create_task(rt.national_sender.run(stop_sending), name="national-sender")
        metrics_sampler = build_sampler(rt, queue_stats)
        sampling = asyncio.create_task(metrics_sampler.run(stop_sending), name="metrics-sampler")
        console.start()
        schedule = reconcile_schedule(settings, rt.reconciliation)
        reconciling = (
            asyncio.create_task(schedule.run(stop_sending), name="reconcile-schedule") if schedule else None
        )
        app.state.reconcile_schedule = schedule
        checkpoints = checkpoint_schedule(settings, rt.log_checkpointer)
        checkpointing = (
            asyncio.create_task(checkpoints.run(stop_sending), name="log-checkpoints")
            if checkpoints
            else None
        )
        app.state.checkpoint_schedule = checkpoints
        prunes = prune_schedule(settings, rt.log_pruner)
        pruning = asyncio.create_task(prunes.run(stop_sending), name="log-prune") if prunes else None
        app.state.prune_schedule = prunes
        deadlines = deadline_schedule(settings, rt.deadline_watch)
        dating = asyncio.create_task(deadlines.run(stop_sending), name="deadlines") if deadlines else None
        app.state.deadline_schedule = deadlines
        freeze_startup_heap()  # last: everything the start built is there to be frozen
        try:
            yield
        finally:
            try:
                stop_sending.set()
                await sampling  # a sample in flight finishes: each part is bounded in time
                await console.stop()
                if reconciling is not None:
                    await reconciling  # a run in flight is cancelled: each petition commits on its own
                if checkpointing is not None:
                    await checkpointing  # a checkpoint in flight finishes: one read, one signature
                if pruning is not None:
                    await pruning  # a prune in flight is cancelled: the next run finishes it
                if dating is not None:
                    await dating  # a round in flight finishes: short transactions, each reminder whole
                await link.stop()
                await sending  # a round in flight finishes: its outcomes are recorded, none is lost
                rt.national_client.close()
                await notifier.close()  # after everything that commits outbox rows has stopped
                await rt.engine.dispose()
            finally:
                thaw()  # even if a part failed to stop: this heap must be collectable again

    app = FastAPI(
        title="PAKN Gateway",
        version="0.1.0",
        description="Cổng kết nối phản ánh, kiến nghị — ministry side of the national exchange.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.broker = link
    app.add_exception_handler(Problem, problem_handler)
    app.add_exception_handler(LoginRedirect, login_redirect_handler)
    auth = OpsAuth(
        rt.accounts,
        max_age=timedelta(hours=settings.ops_session_max_hours),
        secure=settings.ops_cookie_secure
        if settings.ops_cookie_secure is not None
        else (settings.base_url.startswith("https://") or None),
    )
    app.state.ops_auth = auth
    app.include_router(soap_router(rt.endpoint, rt.contract, settings.max_body_bytes))
    app.include_router(_observability(rt, link))
    app.include_router(cases_router(rt.uow, rt.config.routing))
    app.include_router(replies_router(rt.uow, rt.config.routing, rt.replies))
    dead_letters = DeadLetters(rt.uow, settings.amqp_url, utc_now)
    app.state.dead_letters = dead_letters
    app.include_router(session_router(auth))
    app.include_router(ops_router(auth, dead_letters))
    app.include_router(public_answers_router(rt))  # no login: published answers only
    reports = reports_of(rt)
    app.include_router(reports_router(auth, reports))
    case_ops = build_case_ops(rt)
    app.state.case_ops = case_ops  # the console renders from the same services
    app.include_router(cases_ops_router(auth, case_ops.search, case_ops.pages))
    app.include_router(units_ops_router(auth, case_ops.units))
    console = Console(
        ConsoleParts(
            engine=rt.engine,
            case_ops=case_ops,
            config=rt.config,
            auth=auth,
            dead_letters=dead_letters,
            sender=rt.national_sender,
            broker_connected=lambda: link.connected,
            queue_stats=queue_stats,
            reports=reports,
            sample_seconds=settings.console_sample_seconds,
            queues_fresh_for=settings.metrics_sample_seconds + 1,
        )
    )
    console.mount(app)

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"])
    async def ready() -> dict[str, object]:
        async with rt.uow() as uow:
            pending, oldest = await uow.outbox.lag()
            national = await uow.national.counts()
        sender = rt.national_sender
        return {
            "database": "ok",
            "broker": "connected" if link.connected else "disconnected",
            "outbox_relay": "leading" if rt.relay_leadership.leading else "standing by",
            "outbox_pending": pending,
            "outbox_oldest": oldest.isoformat() if oldest else None,
            "national_portal": sender.breaker.state.value,
            "national_outbox": national,
        }

    return app


def _observability(rt: Runtime, link: BrokerLink) -> APIRouter:
    """`/metrics`, `/healthz`, `/readyz`: what is read from memory at each scrape, the real probes."""

    def breaker_state() -> str:
        return rt.national_sender.breaker.state.value

    rt.metrics.watch(
        broker_connected=lambda: link.connected,
        breaker_state=breaker_state,
        relay_leading=lambda: rt.relay_leadership.leading,
        certificate_expires=rt.signer.certificate.not_valid_after_utc,
    )
    probes = ReadinessProbes(
        ping_database=lambda: ping(rt.engine),
        broker=lambda: (link.connected, link.last_error),
        certificate=rt.signer.certificate,
        breaker_state=breaker_state,
        clock=utc_now,
    )
    return observability_router(rt.metrics, probes)
