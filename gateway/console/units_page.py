"""Units in the console: queue bindings and the routing configuration in force (read-only), and the
units' REST tokens for admins — created (the secret shown once, on the answer to the POST, never
again) and revoked, each recorded with who did it by ``gateway.ops.units_admin``."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from gateway.console.rendering import Pages, translator
from gateway.domain.operators import Principal, Role
from gateway.ops.auth import OpsAuth
from gateway.ops.errors import OpsError
from gateway.ops.units_admin import IssuedToken, UnitsAdmin
from gateway.ports import StoreError

BASE = "/console/units"


def units_router(pages: Pages, auth: OpsAuth, units: UnitsAdmin) -> APIRouter:
    router = APIRouter(prefix=BASE, include_in_schema=False)
    PageViewer = Annotated[Principal, Depends(auth.page(Role.VIEWER))]

    async def show(
        request: Request,
        principal: Principal,
        *,
        issued: IssuedToken | None = None,
        flashes: list[tuple[str, str]] | None = None,
        status_code: int = 200,
    ) -> Response:
        admin = principal.can(Role.ADMIN)
        tokens = await units.tokens(principal) if admin else []
        return pages.render(
            request,
            "units.html",
            principal=principal,
            units=sorted(units.units(), key=lambda u: (not u.triage, u.code)),
            routing_view=units.routing(),
            tokens=tokens,
            admin=admin,
            issued=issued,
            flashes=flashes or [],
            status_code=status_code,
        )

    def problem(request: Request, principal: Principal, exc: OpsError | StoreError) -> Response:
        lang = translator(request).lang
        if isinstance(exc, OpsError):
            message = exc.message_vi if lang == "vi" else exc.message_en
            status = 403 if exc.code == "Forbidden" else 404 if "Unknown" in exc.code else 400
        else:
            message, status = str(exc), 503
        return pages.render(
            request,
            "error.html",
            principal=principal,
            code=exc.code,
            message=message,
            back_href=BASE,
            status_code=status,
        )

    @router.get("")
    async def listing(request: Request, principal: PageViewer, revoked: int | None = None) -> Response:
        t = translator(request)
        flashes = [("ok", t("units.token_revoked_done"))] if revoked else []
        try:
            return await show(request, principal, flashes=flashes)
        except (OpsError, StoreError) as exc:
            return problem(request, principal, exc)

    @router.post("/tokens")
    async def create_token(
        request: Request,
        principal: PageViewer,
        unit: Annotated[str, Form(max_length=64)],
        label: Annotated[str, Form(max_length=255)] = "",
    ) -> Response:
        try:
            issued = await units.create_token(principal, unit, label)  # admin only: the service checks
            return await show(request, principal, issued=issued)
        except (OpsError, StoreError) as exc:
            return problem(request, principal, exc)

    @router.post("/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, principal: PageViewer, token_id: int) -> Response:
        try:
            await units.revoke_token(principal, token_id)
        except (OpsError, StoreError) as exc:
            return problem(request, principal, exc)
        return RedirectResponse(f"{BASE}?revoked={token_id}", status_code=303)

    return router
