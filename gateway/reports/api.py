"""`GET /api/ops/reports?period=2026-10[&format=json|csv|xlsx]`: a report, for viewers and above."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from gateway.domain.operators import Principal, Role
from gateway.ops.auth import OpsAuth
from gateway.ports import StoreError
from gateway.reports.errors import ReportError
from gateway.reports.export import to_csv, to_json, to_xlsx
from gateway.reports.period import parse_period
from gateway.reports.service import Reports
from gateway.units.problems import Problem

PERIODS = "2026-10 (month), 2026-Q4 (quarter), 2026 (year), 2026-10-01..2026-12-31 (days)"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def reports_router(auth: OpsAuth, reports: Reports) -> APIRouter:
    router = APIRouter(prefix="/api/ops", tags=["operators"])
    ViewerDep = Annotated[Principal, Depends(auth.require(Role.VIEWER))]

    @router.get(
        "/reports", summary="A period's statistics: received, answered on time, backlog, satisfaction"
    )
    async def report(
        _: ViewerDep,
        period: Annotated[str, Query(max_length=40, description=PERIODS)],
        format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    ) -> Response:
        try:
            built = await reports.build(parse_period(period))
        except ReportError as exc:
            raise Problem(exc.code, exc.message_en, detail_vi=exc.message_vi) from exc
        except StoreError as exc:
            raise Problem("StoreUnavailable") from exc
        if format == "json":
            return JSONResponse(to_json(built), headers={"Cache-Control": "no-store"})
        name = f"bao-cao-pakn-{built.period.text}.{format}"
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        }
        if format == "csv":
            return Response(to_csv(built), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(to_xlsx(built), media_type=XLSX, headers=headers)

    return router
