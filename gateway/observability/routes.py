"""``/metrics`` (Prometheus text format), ``/healthz`` (the process answers) and ``/readyz`` (it can
do its work: 200, or 503 as an RFC 9457 problem ``NotReady`` naming the failing parts).

The older ``/health/live`` and ``/health/ready`` stay as they were (``gateway.app``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from gateway.observability.metrics import CONTENT_TYPE, GatewayMetrics
from gateway.observability.readiness import ReadinessProbes
from gateway.units.problems import Problem, problem_response

PARTS_VI = {
    "database": "cơ sở dữ liệu",
    "broker": "RabbitMQ",
    "signing_certificate": "chứng thư ký số của Bộ",
}


def observability_router(metrics: GatewayMetrics, probes: ReadinessProbes) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", response_class=Response, summary="Prometheus metrics (text exposition format)")
    async def scrape() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database, broker and signing certificate; the portal's breaker reported",
        responses={503: {"description": "Not ready: an RFC 9457 problem, `failing` names the parts"}},
    )
    async def readyz() -> Response:
        readiness = await probes.assess()
        document = readiness.document()
        if readiness.ready:
            return JSONResponse(document)
        failing = readiness.failing
        detail = "; ".join(f"{name}: {readiness.checks[name].detail}" for name in failing)
        detail_vi = "Không sẵn sàng: " + ", ".join(PARTS_VI.get(name, name) for name in failing)
        extensions = {key: value for key, value in document.items() if key != "status"}
        return problem_response(Problem("NotReady", detail, detail_vi=detail_vi, extensions=extensions))

    return router
