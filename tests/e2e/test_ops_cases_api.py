"""The operators' case and unit API over real HTTP, on SQLite and PostgreSQL: every role boundary
(anonymous, unit token, viewer, operator, admin), masking, downloads, tokens, paging, and the
timeline of a petition really pushed by the national portal simulator."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.unit_side import issue_token, national, petition_at_its_unit, problem
from tests.support.case_samples import PDF, SCAN, SPECS, T0, add_case_page_material, final_status, seed
from tests.support.gateway import LiveGateway, eventually
from tests.support.operators import add_operator, alogin

pytestmark = pytest.mark.e2e

PID = "PAKN-2026-000001"


async def prepared(gw: LiveGateway) -> None:
    """Seeded cases (on this gateway's own unit codes), their page material, three operators."""
    specs = tuple(dataclasses.replace(s, unit=gw.units[s.unit]) for s in SPECS)
    await seed(gw.uow(), specs)
    await add_case_page_material(gw.uow(), PID, gw.units["CNCC"])
    for name in ("viewer", "operator", "admin"):
        await add_operator(gw.settings.database_url, f"an.{name}", role=name)


@asynccontextmanager
async def client(gw: LiveGateway, name: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as http:
        if name is not None:
            await alogin(http, f"an.{name}")
        yield http


async def test_anonymous_callers_and_unit_tokens_get_nothing(gateway: LiveGateway) -> None:
    gw = gateway
    await prepared(gw)
    cncc, cvl = gw.units["CNCC"], gw.units["CVL"]
    unit_token = await asyncio.to_thread(issue_token, gw, cncc)
    reads = ("/api/ops/cases", f"/api/ops/cases/{PID}", f"/api/ops/cases/{PID}/messages/1/raw",
             "/api/ops/units", "/api/ops/routing", "/api/ops/tokens")
    async with client(gw) as anon:
        for path in reads:
            problem(await anon.get(path), 401, "Unauthenticated")
            # a unit's bearer token is no operator session
            as_unit = await anon.get(path, headers={"Authorization": f"Bearer {unit_token}"})
            problem(as_unit, 401, "Unauthenticated")
        problem(await anon.post(f"/api/ops/units/{cncc}/tokens", json={}), 401, "Unauthenticated")
        problem(await anon.post("/api/ops/tokens/1/revoke"), 401, "Unauthenticated")
        # and under /api/units a unit token reads its own unit's cases only
        bearer = {"Authorization": f"Bearer {unit_token}"}
        own = await anon.get(f"/api/units/{cncc}/cases", headers=bearer)
        assert own.status_code == 200
        assert {i["petition_id"] for i in own.json()["items"]} == {"PAKN-2026-000001", "PAKN-2026-000004"}
        problem(await anon.get(f"/api/units/{cvl}/cases", headers=bearer), 403, "Forbidden")
        other = "PAKN-2026-000002"  # CVL's case
        problem(await anon.get(f"/api/units/{cvl}/cases/{other}", headers=bearer), 403, "Forbidden")
        problem(await anon.get(f"/api/units/{cncc}/cases/{other}", headers=bearer), 404, "UnknownCase")


async def test_viewers_read_masked_and_touch_nothing(gateway: LiveGateway) -> None:
    gw = gateway
    await prepared(gw)
    async with client(gw, "viewer") as viewer:
        found = await viewer.get("/api/ops/cases", params={"q": "nguoi co cong"})
        assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
        body = found.json()
        assert body["masked"] is True
        assert [i["petition_id"] for i in body["items"]] == ["PAKN-2026-000004", "PAKN-2026-000003", PID]
        first = body["items"][-1]
        assert (first["phone"], first["id_number"], first["email"]) == (
            "•••••••678", "•••••••••345", "p•••@example.vn",
        )
        assert first["sender_name"] == "Nguyễn Thị Hường" and first["overdue"] is True
        page = (await viewer.get(f"/api/ops/cases/{PID}")).json()
        assert page["masked"] is True and page["documents"] is False
        assert page["petition"]["sender"]["phone"] == "•••••••678"
        assert page["feedback"][0]["comment"] == "Cảm ơn, liên hệ •••••••333"
        assert all(m["raw_href"] is None for m in page["messages"])
        text = str(page) + str(body)
        for secret in ("0912345678", "001190012345", "0911222333", "pakn-2026-000001@example.vn"):
            assert secret not in text
        entry = page["messages"][0]["id"]
        base = f"/api/ops/cases/{PID}"
        for path in (f"{base}/messages/{entry}/raw", f"{base}/answers/ANS-1/document",
                     f"{base}/attachments/{page['attachments'][0]['id']}"):
            refused = problem(await viewer.get(path), 403, "PersonalData.Hidden")
            assert refused["detail_vi"]
        # viewers see units and routing, not tokens
        assert len((await viewer.get("/api/ops/units")).json()) == 11
        assert (await viewer.get("/api/ops/routing")).json()["triage"] == gw.units["VPB"]
        problem(await viewer.get("/api/ops/tokens"), 403, "Forbidden")
        problem(await viewer.post(f"/api/ops/units/{gw.units['CNCC']}/tokens", json={}), 403, "Forbidden")
        problem(await viewer.post("/api/ops/tokens/1/revoke"), 403, "Forbidden")


async def test_operators_read_in_full_and_download_but_do_not_manage_tokens(gateway: LiveGateway) -> None:
    gw = gateway
    await prepared(gw)
    async with client(gw, "operator") as operator:
        body = (await operator.get("/api/ops/cases", params={"phone": "+84 912 345 678"})).json()
        assert body["masked"] is False
        assert [(i["petition_id"], i["phone"]) for i in body["items"]] == [
            ("PAKN-2026-000006", "0912345678"), (PID, "0912345678"),
        ]
        page = (await operator.get(f"/api/ops/cases/{PID}")).json()
        assert page["petition"]["sender"]["id_number"] == "001190012345"
        # the seeded SubmitPetition (the gateway may meanwhile have logged its status messages to the portal)
        seeded = ("in", "SubmitPetition")
        [submitted] = [m for m in page["messages"] if (m["direction"], m["operation"]) == seeded]
        raw = await operator.get(submitted["raw_href"])
        assert raw.status_code == 200 and raw.content == f"<PetitionMessage>{PID}</PetitionMessage>".encode()
        pdf = await operator.get(page["answers"][0]["document_href"])
        assert pdf.content == PDF and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["cache-control"] == "no-store"
        assert pdf.headers["digest"].startswith("sha-256=")
        scan = await operator.get(page["attachments"][0]["href"])
        assert hashlib.sha256(scan.content).hexdigest() == hashlib.sha256(SCAN).hexdigest()
        problem(await operator.get(f"/api/ops/cases/{PID}/messages/999999/raw"), 404, "Case.UnknownMessage")
        problem(await operator.get("/api/ops/cases/PAKN-NONE"), 404, "UnknownCase")
        problem(await operator.get("/api/ops/tokens"), 403, "Forbidden")
        problem(await operator.post(f"/api/ops/units/{gw.units['CNCC']}/tokens", json={}), 403, "Forbidden")


async def test_admins_manage_unit_tokens_each_action_recorded(gateway: LiveGateway) -> None:
    gw = gateway
    await prepared(gw)
    cncc = gw.units["CNCC"]
    async with client(gw, "admin") as admin:
        csrf = admin.headers.pop("X-CSRF-Token")
        problem(await admin.post(f"/api/ops/units/{cncc}/tokens", json={}), 403, "CsrfRejected")
        admin.headers["X-CSRF-Token"] = csrf
        made = await admin.post(f"/api/ops/units/{cncc}/tokens", json={"label": "Phần mềm một cửa của Cục"})
        assert made.status_code == 201, made.text
        issued: dict[str, Any] = made.json()
        assert issued["token"].startswith("pakn_") and issued["label"] == "Phần mềm một cửa của Cục"
        problem(await admin.post("/api/ops/units/NOPE/tokens", json={}), 404, "UnknownUnit")
        listed = (await admin.get("/api/ops/tokens", params={"unit": cncc})).json()
        assert [t["id"] for t in listed] == [issued["id"]]
        assert issued["token"] not in str(listed)  # the secret is in the create answer only
        bearer = {"Authorization": f"Bearer {issued['token']}"}
        assert (await admin.get(f"/api/units/{cncc}/cases", headers=bearer)).status_code == 200
        revoked = await admin.post(f"/api/ops/tokens/{issued['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        problem(await admin.get(f"/api/units/{cncc}/cases", headers=bearer), 401, "Unauthenticated")
        problem(await admin.post("/api/ops/tokens/999999/revoke"), 404, "Token.Unknown")
        actions = (await admin.get("/api/ops/actions")).json()["items"]
        mine = [(a["username"], a["action"], a["target"]) for a in actions if a["action"][:6] == "token."]
        target = f"unit:{cncc}"
        assert mine == [("an.admin", "token.revoke", target), ("an.admin", "token.create", target)]


async def test_search_over_http_pages_filters_and_refuses_bad_input(gateway: LiveGateway) -> None:
    gw = gateway
    await prepared(gw)
    newest_first = [s.petition_id for s in sorted(SPECS, key=lambda s: s.minutes, reverse=True)]
    async with client(gw, "viewer") as viewer:
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 3}
        for _ in range(5):
            body = (await viewer.get("/api/ops/cases", params=params)).json()
            seen += [i["petition_id"] for i in body["items"]]
            if body["next_cursor"] is None:
                break
            params = {"limit": 3, "cursor": body["next_cursor"]}
        assert seen == newest_first
        both = await viewer.get("/api/ops/cases", params=[("status", "04"), ("unit", gw.units["CVL"])])
        assert [i["petition_id"] for i in both.json()["items"]] == ["PAKN-2026-000007"]
        overdue = await viewer.get("/api/ops/cases", params={"overdue": "true"})
        now = datetime.now(UTC)  # the live gateway's clock is the real one
        expected = [
            s.petition_id for s in sorted(SPECS, key=lambda s: s.minutes, reverse=True)
            if s.due_days is not None and T0 + timedelta(days=s.due_days) < now
            and final_status(s) not in ("02", "06", "07", "08")
        ]
        assert expected and [i["petition_id"] for i in overdue.json()["items"]] == expected
        bad = problem(await viewer.get("/api/ops/cases", params={"status": "99"}), 400, "Search.Invalid")
        assert "99" in bad["detail"] and "99" in bad["detail_vi"]
        problem(await viewer.get("/api/ops/cases", params={"cursor": "xyz"}), 400, "Search.InvalidCursor")
        spec = (await viewer.get("/openapi.json")).json()
    mine = {
        "/api/ops/cases", "/api/ops/cases/{petition_id}",
        "/api/ops/cases/{petition_id}/messages/{entry_id}/raw",
        "/api/ops/cases/{petition_id}/answers/{answer_id}/document",
        "/api/ops/cases/{petition_id}/attachments/{attachment_id}", "/api/ops/units", "/api/ops/routing",
        "/api/ops/tokens", "/api/ops/units/{unit}/tokens", "/api/ops/tokens/{token_id}/revoke",
    }
    assert mine <= set(spec["paths"])
    for path, item in ((p, spec["paths"][p]) for p in mine):
        for method, operation in item.items():
            assert operation.get("summary"), (method, path)
            documented = set(operation["responses"])
            assert "401" in documented and documented & {"200", "201"}, (method, path)


async def test_a_pushed_petition_shows_every_message_in_and_out(gateway: LiveGateway) -> None:
    gw = gateway
    await add_operator(gw.settings.database_url, "an.operator", role="operator")
    petition_id, _ = await petition_at_its_unit(gw, seed=5105)

    async def delivered() -> bool | None:
        sent = await national(gw, petition_id)
        return True if len(sent) >= 3 and all(m.state == "delivered" for m in sent) else None

    await eventually(delivered, 60, "the statuses 01, 03, 04 never reached the portal")
    async with client(gw, "operator") as operator:
        found = (await operator.get("/api/ops/cases", params={"petition_id": petition_id})).json()["items"]
        assert [i["petition_id"] for i in found] == [petition_id]
        page = (await operator.get(f"/api/ops/cases/{petition_id}")).json()
        timeline = [(m["direction"], m["operation"], m["signature_verdict"]) for m in page["messages"]]
        assert timeline[:2] == [("in", "SubmitPetition", "valid"), ("out", "SubmitPetition", "signed")]
        statuses = [t for t in timeline if t[1].startswith("ReceiveStatus")]
        assert statuses.count(("out", "ReceiveStatus", "signed")) == 3  # 01, 03, 04 to the portal
        assert statuses.count(("in", "ReceiveStatusResponse", "valid")) == 3  # their signed receipts
        raw = await operator.get(page["messages"][0]["raw_href"])
        assert petition_id.encode() in raw.content and b"Signature" in raw.content
        assert hashlib.sha256(raw.content).hexdigest() == page["messages"][0]["raw_sha256"]
        assert [h["status"] for h in page["history"]] == ["01", "03", "04"]
