"""Operator accounts for tests: written straight into the store, then logged in over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.operators import Role
from gateway.inbound.intake import utc_now
from gateway.ops.accounts import Accounts, SessionPolicy

POLICY = SessionPolicy(
    idle=timedelta(minutes=30), max_age=timedelta(hours=12), max_failures=5, lockout=timedelta(minutes=15)
)
PASSWORD = "mật-khẩu-đủ-dài-2026"  # non-ASCII on purpose: UTF-8 end to end


async def add_operator(
    database_url: str, username: str, password: str = PASSWORD, role: str = "viewer"
) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        accounts = Accounts(SqlUnitOfWorkFactory(make_sessions(engine)), POLICY, utc_now)
        await accounts.create(username, password, Role(role), display_name=username.title(), by="test")
    finally:
        await engine.dispose()


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> str:
    """Log in on `client` (it keeps the cookie); returns the CSRF token for unsafe requests."""
    response = client.post("/api/ops/session", json={"username": username, "password": password})
    response.raise_for_status()
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


async def alogin(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/ops/session", json={"username": username, "password": password})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return str(body["csrf_token"])
