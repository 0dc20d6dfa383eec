"""The console over real HTTP, without a browser: who gets which page, CSRF on every change, the
security headers, languages, static assets shipped in the package, the overview as JSON; on SQLite
and PostgreSQL (the overview's figures are read from the store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx
import pytest

from tests.e2e.unit_side import petition_at_its_unit, problem
from tests.support.amqp import own_vhost
from tests.support.gateway import LiveGateway, eventually, live_gateway
from tests.support.operators import PASSWORD, add_operator, alogin

pytestmark = pytest.mark.e2e

ROLES = ("viewer", "operator", "admin")


@pytest.fixture
async def cgw(any_db_url: str, tmp_path: Path) -> AsyncIterator[LiveGateway]:
    for role in ROLES:
        await add_operator(any_db_url, role, PASSWORD, role)
    async with (
        own_vhost() as url,
        live_gateway(
            tmp_path, any_db_url, amqp_url=url, console_sample_seconds=1.0, metrics_sample_seconds=1.0
        ) as live,
    ):
        yield live


def client(gw: LiveGateway) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=gw.base_url, timeout=30, follow_redirects=False)


async def test_anonymous_visitors_are_sent_to_the_login_and_assets_are_served(cgw: LiveGateway) -> None:
    async with client(cgw) as http:
        page = await http.get("/console/cases", params={"q": "người có công"})
        assert page.status_code == 303
        location = urlsplit(page.headers["location"])
        assert location.path == "/console/login"
        [back] = parse_qs(location.query)["next"]
        assert unquote_plus(back) == "/console/cases?q=người có công"  # where the login sends them back
        login = await http.get("/console/login", params={"next": back})
        assert f'name="next" value="{back}"' in login.text
        assert login.status_code == 200 and '<html lang="vi">' in login.text and "Đăng nhập" in login.text
        assert "default-src 'self'" in login.headers["content-security-policy"]
        assert "<script>" not in login.text  # no inline script: the CSP forbids it
        for path, kind in (
            ("/console/static/console.css", "text/css"),
            ("/console/static/console.js", "javascript"),
            ("/console/static/favicon.svg", "image/svg+xml"),
            ("/console/fonts/DejaVuSans.ttf", "font/ttf"),
        ):
            asset = await http.get(path)
            assert asset.status_code == 200 and kind in asset.headers["content-type"], path
            assert len(asset.content) > 100
        assert (await http.get("/console/fonts/../../etc/passwd")).status_code == 404
        assert (await http.get("/console/fonts/Other.ttf")).status_code == 404
        problem(await http.get("/api/ops/overview"), 401, "Unauthenticated")
        problem(
            await http.post("/console/dead-letters/replay", data={"ids": "national:1"}),
            401,
            "Unauthenticated",
        )


async def test_the_login_form_opens_a_session_and_logout_ends_it(cgw: LiveGateway) -> None:
    async with client(cgw) as http:
        wrong = await http.post("/console/login", data={"username": "operator", "password": "sai"})
        assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in wrong.text
        forged = await http.post(
            "/console/login",
            data={"username": "operator", "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403 and "pakn_session" not in forged.headers.get("set-cookie", "")
        opened = await http.post(
            "/console/login",
            data={"username": "operator", "password": PASSWORD, "next": "https://evil.example/console"},
        )
        assert opened.status_code == 303 and opened.headers["location"] == "/console"
        cookie = opened.headers["set-cookie"].lower()
        assert "pakn_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        home = await http.get("/console")
        assert home.status_code == 200 and "Tổng quan" in home.text
        assert home.headers["cache-control"] == "no-store" and home.headers["x-frame-options"] == "DENY"
        token = (await http.get("/api/ops/session")).json()["csrf_token"]
        assert f'name="csrf_token" value="{token}"' in home.text  # the logout form carries it

        refused = await http.post("/console/logout")  # no CSRF token: a forged logout
        problem(refused, 403, "CsrfRejected")
        out = await http.post("/console/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        http.cookies.clear()
        assert (await http.get("/console")).status_code == 303


@pytest.mark.parametrize("role", ROLES)
async def test_every_page_renders_for_every_role_in_both_languages(cgw: LiveGateway, role: str) -> None:
    petition_id, unit = await petition_at_its_unit(cgw, seed=540)
    async with client(cgw) as http:
        await alogin(http, role)
        pages = [
            "/console",
            "/console/overview/live",
            "/console/dead-letters",
            "/console/cases",
            f"/console/cases?q=&status=04&unit={unit}",
            f"/console/cases/{petition_id}",
            "/console/units",
        ]
        for path in pages:
            for lang, word in (("vi", "Đăng xuất"), ("en", "Log out")):
                got = await http.get(path, params={"lang": lang} if "?" not in path else None)
                if "?" in path:
                    got = await http.get(f"{path}&lang={lang}")
                assert got.status_code == 200, (path, lang, got.text[:500])
                if path != "/console/overview/live":  # a fragment: no layout around it
                    assert f'<html lang="{lang}">' in got.text and word in got.text, (path, lang)
        case_page = await http.get(f"/console/cases/{petition_id}", params={"lang": "vi"})
        assert ("XML gốc" in case_page.text) == (role != "viewer"), role
        units = await http.get("/console/units", params={"lang": "vi"})
        assert ('action="/console/units/tokens"' in units.text) == (role == "admin"), role
        missing = await http.get("/console/cases/NO-SUCH-CASE")
        assert missing.status_code == 404 and "NO-SUCH-CASE" in missing.text


async def test_the_language_choice_is_kept_in_a_cookie(cgw: LiveGateway) -> None:
    async with client(cgw) as http:
        await alogin(http, "viewer")
        english = await http.get("/console/dead-letters", params={"lang": "en"})
        assert "pakn_lang=en" in english.headers["set-cookie"] and "Dead letters" in english.text
        assert '<html lang="en">' in (await http.get("/console/units")).text
        assert '<html lang="vi">' in (await http.get("/console/units", params={"lang": "vi"})).text


async def test_changes_need_the_csrf_token_and_the_role(cgw: LiveGateway) -> None:
    async with client(cgw) as viewer_http, client(cgw) as operator_http, client(cgw) as admin_http:
        viewer = await alogin(viewer_http, "viewer")
        operator = await alogin(operator_http, "operator")
        admin = await alogin(admin_http, "admin")
        for http in (viewer_http, operator_http, admin_http):
            http.headers.pop("X-CSRF-Token")  # forms carry the token as a field, as a browser does

        problem(
            await operator_http.post("/console/dead-letters/replay", data={"ids": "national:999"}),
            403,
            "CsrfRejected",
        )
        as_viewer = await viewer_http.post(
            "/console/dead-letters/replay", data={"ids": "national:999", "csrf_token": viewer}
        )
        assert as_viewer.status_code == 403 and "Vai trò của bạn chỉ được xem" in as_viewer.text
        confirm = await viewer_http.get(
            "/console/dead-letters/confirm", params={"action": "replay", "ids": "national:1"}
        )
        assert confirm.status_code == 403

        done = await operator_http.post(
            "/console/dead-letters/replay", data={"ids": "national:999", "csrf_token": operator}
        )
        assert done.status_code == 303 and "missing=national%3A999" in done.headers["location"]
        bad = await operator_http.post(
            "/console/dead-letters/replay", data={"ids": "nonsense", "csrf_token": operator}
        )
        assert bad.status_code == 400 and "DeadLetter.BadId" in bad.text

        unit = cgw.units["CVL"]
        by_operator = await operator_http.post(
            "/console/units/tokens", data={"unit": unit, "csrf_token": operator}
        )
        assert by_operator.status_code == 403
        by_admin = await admin_http.post(
            "/console/units/tokens", data={"unit": unit, "label": "Cổng một cửa", "csrf_token": admin}
        )
        assert by_admin.status_code == 200 and 'data-testid="issued-token"' in by_admin.text
        listed = (await admin_http.get("/api/ops/actions", headers={"X-CSRF-Token": admin})).json()["items"]
        assert [
            (a["username"], a["action"], a["target"]) for a in listed if a["action"] == "token.create"
        ] == [("admin", "token.create", f"unit:{unit}")]


async def test_the_overview_as_json_follows_a_pushed_petition(cgw: LiveGateway) -> None:
    async with client(cgw) as http:
        await alogin(http, "viewer")

        async def sampled() -> bool | None:
            return True if (await http.get("/api/ops/overview/samples")).json()["samples"] else None

        # traffic is counted from the first sample on (its baseline): push after it
        await eventually(sampled, 30, "the console's sampler took no sample")
        _, unit = await petition_at_its_unit(cgw, seed=541)

        async def queue_holds_it() -> dict[str, object] | None:
            got = (await http.get("/api/ops/overview")).json()
            row = next(q for q in got["queues"] if q["unit_code"] == unit)
            return got if row["messages"] == 1 else None

        overview = await eventually(queue_holds_it, 30, "the overview never showed the case in its queue")
        assert overview["cases_by_status"].get("04", 0) >= 1
        assert overview["portal"]["breaker"] == "closed" and overview["portal"]["last_success_at"]
        assert overview["dead_letters"]["total"] == 0 and overview["broker_connected"] is True
        samples = (await http.get("/api/ops/overview/samples", params={"minutes": 5})).json()
        assert samples["samples"] and sum(s["from_portal"] for s in samples["samples"]) >= 1
        assert sum(s["published"].get(unit, 0) for s in samples["samples"]) >= 1
