"""REST for units without an AMQP client: a unit lists and reads its own cases, never another's."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime,
# and UnitDep is local to cases_router.

import base64
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from gateway.domain.case import Status
from gateway.domain.routing import RoutingTable
from gateway.ports import UnitOfWorkFactory
from gateway.units.auth import unit_auth
from gateway.units.problems import Problem


class CaseItem(BaseModel):
    petition_id: str
    kind: str
    title: str
    unit_code: str
    status: str
    received_at: datetime
    updated_at: datetime


class CaseList(BaseModel):
    unit_code: str
    items: list[CaseItem]
    limit: int
    offset: int


def cases_router(uow: UnitOfWorkFactory, routing: RoutingTable) -> APIRouter:
    router = APIRouter(prefix="/api/units", tags=["units"])

    UnitDep = Annotated[str, Depends(unit_auth(uow, routing))]

    @router.get("/{unit}/cases", response_model=CaseList)
    async def list_cases(
        unit: UnitDep,
        status: Annotated[list[str] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> CaseList:
        known = {s.value for s in Status}
        if status and not set(status) <= known:
            raise Problem("InvalidQuery", f"status must be among {sorted(known)}")
        async with uow() as u:
            rows = await u.cases.list_for_unit(unit, statuses=status, limit=limit, offset=offset)
        items = [CaseItem(**row.__dict__) for row in rows]
        return CaseList(unit_code=unit, items=items, limit=limit, offset=offset)

    @router.get("/{unit}/cases/{petition_id}")
    async def read_case(unit: UnitDep, petition_id: str) -> dict[str, Any]:
        async with uow() as u:
            case = await u.cases.get(petition_id)
            petition = await u.cases.petition(petition_id) if case else None
        # A case held by another unit is reported as absent: a unit never learns of others' cases.
        if case is None or petition is None or case.unit_code != unit:
            raise Problem("UnknownCase", petition_id)
        doc = petition.to_json_dict(include_data=False)
        for n, attachment in enumerate(doc["attachments"]):
            attachment["href"] = f"/api/units/{unit}/cases/{petition_id}/attachments/{n}"
        return {
            "petition_id": case.petition_id,
            "unit_code": case.unit_code,
            "status": case.status.value,
            "history": [
                {
                    "seq": h.seq,
                    "status": h.status.value,
                    "unit_code": h.unit_code,
                    "description": h.description,
                    "changed_at": h.changed_at.isoformat(),
                }
                for h in case.history
            ],
            "petition": doc,
        }

    @router.get("/{unit}/cases/{petition_id}/attachments/{index}")
    async def attachment(unit: UnitDep, petition_id: str, index: int) -> Response:
        async with uow() as u:
            case = await u.cases.get(petition_id)
            petition = await u.cases.petition(petition_id) if case else None
        if case is None or petition is None or case.unit_code != unit:
            raise Problem("UnknownCase", petition_id)
        if not 0 <= index < len(petition.attachments):
            raise Problem("UnknownCase", f"{petition_id} has no attachment {index}")
        a = petition.attachments[index]
        return Response(
            a.data,
            media_type=a.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(a.file_name, safe='')}",
                "Digest": "sha-256=" + base64.b64encode(bytes.fromhex(a.sha256)).decode("ascii"),
            },
        )

    return router
