"""The operator bearer token (``PAKN_OPS_TOKEN``) until operator accounts and roles arrive (issue 5)."""

import hmac
from collections.abc import Callable

from fastapi import Request
from pydantic import SecretStr

from gateway.units.problems import Problem


def ops_auth(token: SecretStr | None) -> Callable[[Request], str]:
    """A FastAPI dependency giving who called (for the log) once the operator token is checked.

    503 ``OpsDisabled`` when no token is configured (no open door by default), 401
    ``Unauthenticated`` for a missing or wrong one (compared in constant time).
    """

    def operator(request: Request) -> str:
        if token is None or not token.get_secret_value():
            raise Problem("OpsDisabled")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8"), expected):
            raise Problem("Unauthenticated")
        client = request.client.host if request.client else "?"
        return f"ops-token holder from {client}"

    return operator
