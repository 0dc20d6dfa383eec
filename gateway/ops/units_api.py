"""REST for operators: units and their queue bindings, the routing in force (any role, read-only),
and the units' REST tokens (admin: list, create — the secret is in that answer only — revoke)."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from gateway.domain.case_views import UnitToken
from gateway.domain.operators import Principal, Role
from gateway.ops.auth import OpsAuth
from gateway.ops.cases_api import as_problems
from gateway.ops.units_admin import MAX_LABEL, UnitsAdmin

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Problem `Unauthenticated`: no live operator session"},
    403: {"description": "Problem `Forbidden` (role too low) or `CsrfRejected`"},
    404: {"description": "Problem `UnknownUnit` or `Token.Unknown`"},
}


class UnitOut(BaseModel):
    code: str
    name: str
    queue: str = Field(description="The unit's quorum queue")
    exchange: str
    binding_key: str = Field(description="Its binding to the cases exchange")
    error_queue: str = Field(description="Where refusals of the unit's replies go")
    triage: bool = Field(description="Unmatched cases go to this unit")
    fields: list[str] = Field(description="Fields (lĩnh vực) a routing rule sends to this unit")


class RuleOut(BaseModel):
    position: int
    unit: str
    fields: list[str]
    kinds: list[str]
    sender_types: list[str]
    specificity: int = Field(description="The most specific matching rule wins; ties: the first")


class FieldOut(BaseModel):
    code: str
    name: str


class RoutingOut(BaseModel):
    triage: str
    fields: list[FieldOut]
    rules: list[RuleOut]


class TokenOut(BaseModel):
    id: int
    unit_code: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class NewToken(BaseModel):
    label: str = Field("", max_length=MAX_LABEL, description="Who holds it (default: unit CODE)")


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The bearer token: shown this once, only its hash is kept")


def _token_out(t: UnitToken) -> TokenOut:
    return TokenOut(**vars(t))


def units_ops_router(auth: OpsAuth, units: UnitsAdmin) -> APIRouter:
    router = APIRouter(prefix="/api/ops", tags=["operators: units"], responses=ERRORS)
    ViewerDep = Annotated[Principal, Depends(auth.require(Role.VIEWER))]
    AdminDep = Annotated[Principal, Depends(auth.require(Role.ADMIN))]

    @router.get("/units", response_model=list[UnitOut], summary="Units with their queue bindings")
    async def list_units(_: ViewerDep) -> list[UnitOut]:
        return [UnitOut(**{**vars(u), "fields": list(u.fields)}) for u in units.units()]

    @router.get("/routing", response_model=RoutingOut, summary="The routing configuration in force")
    async def routing(_: ViewerDep) -> RoutingOut:
        view = units.routing()
        return RoutingOut(
            triage=view.triage,
            fields=[FieldOut(code=c, name=n) for c, n in view.fields],
            rules=[RuleOut(**vars(r)) for r in view.rules],
        )

    @router.get("/tokens", response_model=list[TokenOut], summary="Unit tokens, newest first (admin)")
    async def list_tokens(
        who: AdminDep, unit: Annotated[str | None, Query(max_length=64)] = None
    ) -> list[TokenOut]:
        with as_problems():
            return [_token_out(t) for t in await units.tokens(who, unit)]

    @router.post(
        "/units/{unit}/tokens",
        status_code=201,
        response_model=IssuedTokenOut,
        summary="Issue a REST token for a unit (admin); the secret is in this answer only",
    )
    async def create_token(
        who: AdminDep, unit: Annotated[str, Path(max_length=64)], body: NewToken | None = None
    ) -> IssuedTokenOut:
        with as_problems():
            issued = await units.create_token(who, unit, body.label if body else "")
        return IssuedTokenOut(**vars(issued.token), token=issued.secret)

    @router.post(
        "/tokens/{token_id}/revoke",
        response_model=TokenOut,
        summary="Revoke a unit token (admin); revoking it again changes nothing",
    )
    async def revoke_token(who: AdminDep, token_id: int) -> TokenOut:
        with as_problems():
            return _token_out(await units.revoke_token(who, token_id))

    return router
