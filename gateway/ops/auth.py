"""Who may call the operator routes and the console: a session cookie, its CSRF token, a role.

- `auth.require(Role.X)`: a FastAPI dependency giving the `Principal`. 401 ``Unauthenticated`` with no
  live session, 403 ``Forbidden`` when the role is too low, and for unsafe methods 403
  ``CsrfRejected`` unless header ``X-CSRF-Token`` (scripts, the console's fetch calls) or form field
  ``csrf_token`` (HTML forms) equals the session's token.
- `auth.page(Role.X)`: the same for console pages, except that an anonymous visitor is sent to the
  login page (`LoginRedirect`, turned into a 303 by the app).

The cookie is HttpOnly and SameSite=Strict; Secure when the gateway is reached over https.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from gateway.domain.operators import OperatorSession, Principal, Role
from gateway.ops.accounts import Accounts, OpenSession
from gateway.units.problems import Problem

COOKIE = "pakn_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LoginRedirect(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def login_redirect_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRedirect)
    return RedirectResponse(f"/console/login?next={quote(exc.next_path, safe='/')}", status_code=303)


class OpsAuth:
    def __init__(self, accounts: Accounts, *, max_age: timedelta, secure: bool | None) -> None:
        self.accounts = accounts
        self._max_age = max_age
        self._secure = secure

    def require(self, needed: Role) -> Callable[[Request], Awaitable[Principal]]:
        async def principal(request: Request) -> Principal:
            return await self._authorise(request, needed, page=False)

        return principal

    def page(self, needed: Role) -> Callable[[Request], Awaitable[Principal]]:
        async def principal(request: Request) -> Principal:
            return await self._authorise(request, needed, page=True)

        return principal

    async def current(self, request: Request) -> tuple[OperatorSession, Principal] | None:
        """The request's live session, if any (no role or CSRF check: for login pages and `GET session`)."""
        return await self.accounts.resolve(request.cookies.get(COOKIE, ""))

    async def _authorise(self, request: Request, needed: Role, *, page: bool) -> Principal:
        found = await self.current(request)
        if found is None:
            if page and request.method in SAFE_METHODS:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise LoginRedirect(target)
            raise Problem("Unauthenticated", "No live operator session: log in first")
        session, principal = found
        if request.method not in SAFE_METHODS:
            await self._check_csrf(request, session)
        if not principal.can(needed):
            raise Problem(
                "Forbidden",
                f"role {principal.role.value} may not do this; {needed.value} needed",
                detail_vi=f"vai trò {principal.role.value} không được làm việc này; cần {needed.value}",
            )
        request.state.principal = principal
        request.state.ops_session = session
        return principal

    async def _check_csrf(self, request: Request, session: OperatorSession) -> None:
        given = request.headers.get(CSRF_HEADER, "")
        if not given and request.headers.get("content-type", "").startswith(FORM_TYPES):
            form = await request.form()  # Starlette keeps it: the route reads the same form
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else ""
        if not given or not hmac.compare_digest(given.encode("utf-8"), session.csrf_token.encode("utf-8")):
            raise Problem("CsrfRejected")

    def set_cookie(self, request: Request, response: Response, opened: OpenSession) -> None:
        secure = self._secure if self._secure is not None else request.url.scheme == "https"
        response.set_cookie(
            COOKIE,
            opened.secret,
            max_age=int(self._max_age.total_seconds()),
            path="/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
