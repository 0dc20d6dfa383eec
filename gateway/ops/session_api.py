"""REST login for operators' scripts and the console's fetch calls: ``/api/ops/session``, and the
record of operator actions: ``/api/ops/actions`` (admin)."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from gateway.domain.operators import Principal, Role
from gateway.ops.accounts import LoginFailed
from gateway.ops.auth import COOKIE, OpsAuth
from gateway.units.problems import Problem


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionInfo(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description="Send it back as header X-CSRF-Token on POST, PUT, PATCH, DELETE")


class ActionRecord(BaseModel):
    id: int
    username: str
    action: str
    target: str
    detail: str
    at: datetime


class ActionList(BaseModel):
    items: list[ActionRecord]
    next_before_id: int | None = Field(description="Pass as before_id for the next (older) page")


def session_router(auth: OpsAuth) -> APIRouter:
    router = APIRouter(prefix="/api/ops", tags=["operators"])
    AdminDep = Annotated[Principal, Depends(auth.require(Role.ADMIN))]

    @router.post("/session", response_model=SessionInfo, summary="Log in (sets the session cookie)")
    async def login(credentials: Credentials, request: Request, response: Response) -> SessionInfo:
        try:
            opened = await auth.accounts.login(credentials.username, credentials.password)
        except LoginFailed as exc:
            raise Problem("LoginFailed") from exc
        auth.set_cookie(request, response, opened)
        return SessionInfo(
            username=opened.principal.username,
            role=opened.principal.role.value,
            csrf_token=opened.session.csrf_token,
        )

    @router.get("/session", response_model=SessionInfo, summary="Who is logged in, and the CSRF token")
    async def whoami(request: Request) -> SessionInfo:
        found = await auth.current(request)
        if found is None:
            raise Problem("Unauthenticated", "No live operator session: log in first")
        session, principal = found
        return SessionInfo(
            username=principal.username, role=principal.role.value, csrf_token=session.csrf_token
        )

    @router.delete(
        "/session",
        status_code=204,
        summary="Log out",
        dependencies=[Depends(auth.require(Role.VIEWER))],  # CSRF-checked: no forced logout by a third site
    )
    async def logout(request: Request) -> Response:
        await auth.accounts.logout(request.cookies.get(COOKIE, ""))
        response = Response(status_code=204)
        auth.clear_cookie(response)
        return response

    @router.get("/actions", response_model=ActionList, summary="What operators did, newest first (admin)")
    async def actions(
        _: AdminDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        before_id: Annotated[int | None, Query(ge=1)] = None,
        username: Annotated[str | None, Query(max_length=64)] = None,
    ) -> ActionList:
        async with auth.accounts.uow() as uow:
            found = await uow.operators.actions(limit=limit, before_id=before_id, username=username)
        items = [
            ActionRecord(
                id=a.id or 0, username=a.username, action=a.action, target=a.target, detail=a.detail, at=a.at
            )
            for a in found
        ]
        return ActionList(items=items, next_before_id=items[-1].id if len(items) == limit else None)

    return router
