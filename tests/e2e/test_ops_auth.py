"""Operator authentication over real HTTP: accounts made by `pakn-gateway user add`, the session
cookie's flags, CSRF, role boundaries, unit tokens kept out of /api/ops, and the record of actions."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.e2e.test_cli import EXE
from tests.e2e.unit_side import issue_token
from tests.support.gateway import LiveGateway
from tests.support.operators import PASSWORD, login

pytestmark = pytest.mark.e2e


def add_user(
    gw: LiveGateway, name: str, role: str, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PAKN_DATABASE_URL": gw.settings.database_url,
        "PAKN_PKI_DIR": str(gw.settings.pki_dir),
    }
    args = [EXE, "user", "add", name, "--role", role, "--name", "Trần Văn Bình", "--password-file", "-"]
    return subprocess.run(args, input=password + "\n", env=env, capture_output=True, text=True, timeout=60)


def test_roles_csrf_cookie_and_the_record_of_actions(sqlite_gateway: LiveGateway) -> None:
    gw = sqlite_gateway
    for name, role in (("binh.xem", "viewer"), ("binh.vh", "operator"), ("binh.qt", "admin")):
        made = add_user(gw, name, role)
        assert made.returncode == 0, made.stderr
        assert f"{name}: created, role {role}" in made.stdout
    again = add_user(gw, "BINH.XEM", "admin")
    assert (
        again.returncode == 2 and "AccountExists" in again.stderr and "Tài khoản đã tồn tại" in again.stderr
    )
    short = add_user(gw, "ngan", "viewer", password="ngắn")
    assert short.returncode == 2 and "WeakPassword" in short.stderr

    with httpx.Client(base_url=gw.base_url, timeout=10) as anon:
        assert anon.get("/api/ops/session").status_code == 401
        assert anon.get("/api/ops/dead-letters").json()["code"] == "Unauthenticated"
        answer = anon.post("/api/ops/session", json={"username": "binh.xem", "password": "sai"})
        assert answer.status_code == 401 and answer.json()["code"] == "LoginFailed"
        assert "set-cookie" not in answer.headers
        spec = anon.get("/openapi.json").json()
        assert {
            "/api/ops/session",
            "/api/ops/actions",
            "/api/ops/dead-letters/{dead_letter_id}/replay",
        } <= set(spec["paths"])

    with httpx.Client(base_url=gw.base_url, timeout=10) as viewer:
        response = viewer.post("/api/ops/session", json={"username": "Binh.Xem", "password": PASSWORD})
        assert response.status_code == 200 and response.json()["role"] == "viewer"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("pakn_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain http on 127.0.0.1; https or PAKN_OPS_COOKIE_SECURE sets it
        viewer.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        assert viewer.get("/api/ops/session").json()["username"] == "binh.xem"
        refused = viewer.post("/api/ops/dead-letters/national:1/replay")
        assert refused.status_code == 403 and refused.json()["code"] == "Forbidden"
        assert "viewer" in refused.json()["detail"] and refused.json()["detail_vi"]
        assert viewer.get("/api/ops/actions").status_code == 403

    with httpx.Client(base_url=gw.base_url, timeout=10) as operator:
        token = login(operator, "binh.vh")
        del operator.headers["X-CSRF-Token"]
        assert operator.post("/api/ops/dead-letters/national:999/replay").json()["code"] == "CsrfRejected"
        assert operator.delete("/api/ops/session").json()["code"] == "CsrfRejected"  # no forced logout
        missing = operator.post("/api/ops/dead-letters/national:999/replay", headers={"X-CSRF-Token": token})
        assert missing.status_code == 404 and missing.json()["code"] == "DeadLetter.Unknown"
        operator.headers["X-CSRF-Token"] = token
        assert operator.delete("/api/ops/session").status_code == 204
        assert operator.get("/api/ops/session").status_code == 401

    # a unit's bearer token is no operator credential, and an operator session is no unit token
    unit = gw.units["BHXH"] if "BHXH" in gw.units else next(iter(gw.units.values()))
    unit_token = issue_token(gw, unit)
    with httpx.Client(
        base_url=gw.base_url, timeout=10, headers={"Authorization": f"Bearer {unit_token}"}
    ) as u:
        assert u.get(f"/api/units/{unit}/cases").status_code == 200
        assert u.get("/api/ops/dead-letters").status_code == 401
        assert u.get("/api/ops/session").status_code == 401
    with httpx.Client(base_url=gw.base_url, timeout=10) as admin:
        login(admin, "binh.qt")
        assert admin.get(f"/api/units/{unit}/cases").status_code == 401
        actions = admin.get("/api/ops/actions", params={"limit": 50}).json()["items"]
    seen = [(a["username"], a["action"], a["target"]) for a in actions]
    assert ("binh.vh", "session.logout", "binh.vh") in seen
    assert ("binh.xem", "session.login", "binh.xem") in seen
    created = {(who.split(":")[0], name) for who, action, name in seen if action == "account.create"}
    assert created == {("cli", "binh.xem"), ("cli", "binh.vh"), ("cli", "binh.qt")}  # by the CLI
    assert all(a["username"] for a in actions) and actions == sorted(actions, key=lambda a: -a["id"])
