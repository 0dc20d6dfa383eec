"""The Overview page (``/console``), its self-refreshing part, and the same figures as JSON
(``GET /api/ops/overview``, ``GET /api/ops/overview/samples``) for operators' scripts."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from gateway.console.overview import RATE_WINDOW, OverviewService
from gateway.console.overview_charts import WINDOWS, overview_charts, window_minutes
from gateway.console.rendering import Pages, translator
from gateway.domain.operators import Principal, Role
from gateway.ops.auth import OpsAuth

REFRESH_SECONDS = 10


def overview_router(pages: Pages, auth: OpsAuth, service: OverviewService) -> APIRouter:
    router = APIRouter()
    PageViewer = Annotated[Principal, Depends(auth.page(Role.VIEWER))]
    ApiViewer = Annotated[Principal, Depends(auth.require(Role.VIEWER))]

    async def context(request: Request, window: int | None) -> dict[str, Any]:
        overview = await service.overview()
        minutes = window_minutes(window)
        t = translator(request)
        samples = service.ring.since(overview.at - timedelta(minutes=minutes))
        return {
            "overview": overview,
            "charts": overview_charts(samples, overview.at, minutes, t, service.ring.interval),
            "window": minutes,
            "windows": WINDOWS,
            "refresh_seconds": REFRESH_SECONDS,
            "rate_minutes": int(RATE_WINDOW.total_seconds() // 60),
        }

    @router.get("/console", include_in_schema=False)
    async def overview_page(
        request: Request, principal: PageViewer, window: int | None = None
    ) -> HTMLResponse:
        return pages.render(request, "overview.html", principal=principal, **await context(request, window))

    @router.get("/console/overview/live", include_in_schema=False)
    async def overview_live(
        request: Request, principal: PageViewer, window: int | None = None
    ) -> HTMLResponse:
        return pages.render(
            request, "overview_body.html", principal=principal, **await context(request, window)
        )

    @router.get(
        "/api/ops/overview", tags=["operators"], summary="Queues, outboxes, portal link, dead letters, cases"
    )
    async def overview_json(_: ApiViewer) -> dict[str, Any]:
        return (await service.overview()).as_json()

    @router.get(
        "/api/ops/overview/samples",
        tags=["operators"],
        summary="The console's in-memory samples (traffic, queue depths) over the last minutes",
    )
    async def samples_json(_: ApiViewer, minutes: Annotated[int, Query(ge=1, le=360)] = 60) -> dict[str, Any]:
        latest = service.ring.latest()
        since = service.ring.since((latest.at if latest else service.now()) - timedelta(minutes=minutes))
        return {
            "interval_seconds": service.ring.interval,
            "samples": [
                {
                    "at": s.at.isoformat(),
                    "broker_ok": s.broker_ok,
                    "from_portal": s.from_portal,
                    "to_portal": s.to_portal,
                    "outbox_pending": s.outbox_pending,
                    "published": dict(s.published),
                    "queues": {
                        code: ({"messages": q.messages, "consumers": q.consumers} if q else None)
                        for code, q in s.queues.items()
                    },
                }
                for s in since
            ],
        }

    return router
