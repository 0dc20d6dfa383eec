"""``/console/login`` and ``/console/logout``: the console's session, opened by the accounts service.

The session and its cookie are ``gateway.ops.auth``'s (the same as ``POST /api/ops/session``).
A login form posted from another site is refused by its ``Origin`` (no login CSRF), and ``next``
only ever points inside the console (no open redirect).
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from gateway.console.rendering import Pages
from gateway.domain.operators import Principal, Role
from gateway.ops.accounts import LoginFailed
from gateway.ops.auth import COOKIE, OpsAuth

HOME = "/console"


def safe_next(value: str | None) -> str:
    """Where to go after the login: a path of the console, never another site (``//host``, ``\\``)."""
    if not value or not value.startswith(HOME) or value.startswith("//") or "\\" in value:
        return HOME
    rest = value[len(HOME) :]
    return value if rest == "" or rest[0] in "/?" else HOME


def same_origin(request: Request) -> bool:
    """A browser names the page a form was posted from; it must be this gateway (no Origin: a script)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def login_router(pages: Pages, auth: OpsAuth) -> APIRouter:
    router = APIRouter(prefix=HOME, include_in_schema=False)

    @router.get("/login")
    async def login_form(request: Request, next: str | None = None) -> Response:
        if await auth.current(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return pages.render(
            request, "login.html", principal=None, next_path=safe_next(next), failed=False, username=""
        )

    @router.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
        next: Annotated[str, Form()] = HOME,
    ) -> Response:
        if not same_origin(request):
            return pages.render(
                request,
                "login.html",
                principal=None,
                next_path=HOME,
                failed=True,
                username="",
                status_code=403,
            )
        try:
            opened = await auth.accounts.login(username, password)
        except LoginFailed:
            return pages.render(
                request,
                "login.html",
                principal=None,
                next_path=safe_next(next),
                failed=True,
                username=username,
                status_code=401,
            )
        response = RedirectResponse(safe_next(next), status_code=303)
        auth.set_cookie(request, response, opened)
        return response

    @router.post("/logout")
    async def logout(request: Request, _: Annotated[Principal, Depends(auth.page(Role.VIEWER))]) -> Response:
        await auth.accounts.logout(request.cookies.get(COOKIE, ""))
        response = RedirectResponse(f"{HOME}/login", status_code=303)
        auth.clear_cookie(response)
        return response

    return router
