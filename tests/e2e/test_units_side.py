"""What a ministry unit sees: its queue through `pakn-gateway unit listen`, its cases through the REST
API with its own token — and never another unit's. Petitions come from the simulator's `push`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from typer.testing import CliRunner

from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.push import push
from gateway.cli.main import app
from tests.support.gateway import LiveGateway


def cli(gw: LiveGateway, *args: str) -> Any:
    env = {
        "PAKN_DATABASE_URL": gw.settings.database_url,
        "PAKN_CONFIG_DIR": str(gw.settings.config_dir),
        "PAKN_AMQP_URL": gw.settings.amqp_url,
        "PAKN_PKI_DIR": str(gw.settings.pki_dir),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


async def test_pushed_petitions_reach_units_which_see_only_their_own(sqlite_gateway: LiveGateway) -> None:
    gw = sqlite_gateway
    petitions = generate_petitions(24, seed=41, attachment_ratio=0.3)
    report = await asyncio.to_thread(push, gw.base_url, gw.pki.directory, len(petitions), petitions=petitions)
    assert (report.sent, report.accepted, dict(report.faults)) == (24, 24, {})
    for p in petitions:
        await gw.wait_status(p["PetitionId"], "04")

    by_unit: dict[str, list[str]] = {}
    for p in petitions:
        case = await gw.case(p["PetitionId"])
        assert case is not None
        by_unit.setdefault(case.unit_code, []).append(p["PetitionId"])
    assert len(by_unit) >= 5  # the batch spreads over the ministry's units

    unit, own = max(by_unit.items(), key=lambda item: len(item[1]))
    other = next(code for code in gw.units.values() if code != unit)
    token = (await asyncio.to_thread(cli, gw, "unit", "token", unit)).output.strip().splitlines()[-1]
    other_token = (await asyncio.to_thread(cli, gw, "unit", "token", other)).output.strip().splitlines()[-1]
    assert token.startswith("pakn_") and token != other_token

    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as http:
        listed = await http.get(f"/api/units/{unit}/cases", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        assert sorted(item["petition_id"] for item in listed.json()["items"]) == sorted(own)
        assert {item["status"] for item in listed.json()["items"]} == {"04"}

        filtered = await http.get(
            f"/api/units/{unit}/cases", params={"status": "05"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert filtered.json()["items"] == []

        foreign = await http.get(
            f"/api/units/{unit}/cases", headers={"Authorization": f"Bearer {other_token}"}
        )
        assert foreign.status_code == 403
        assert foreign.headers["content-type"] == "application/problem+json"
        assert foreign.json()["code"] == "Forbidden" and foreign.json()["title_vi"]

        anonymous = await http.get(f"/api/units/{unit}/cases")
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "Unauthenticated"
        forged = await http.get(f"/api/units/{unit}/cases", headers={"Authorization": "Bearer pakn_forged"})
        assert forged.status_code == 401

        detail = await http.get(
            f"/api/units/{unit}/cases/{own[0]}", headers={"Authorization": f"Bearer {token}"}
        )
        assert detail.status_code == 200
        assert [h["status"] for h in detail.json()["history"]] == ["01", "03", "04"]
        # another unit asking for this case learns nothing about it
        hidden = await http.get(
            f"/api/units/{other}/cases/{own[0]}", headers={"Authorization": f"Bearer {other_token}"}
        )
        assert hidden.status_code == 404

        with_files = [p for p in petitions if p["PetitionId"] in own and p.get("Attachments")]
        for p in with_files[:1]:
            declared = p["Attachments"]["Attachment"][0]
            got = await http.get(
                f"/api/units/{unit}/cases/{p['PetitionId']}/attachments/0",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == declared["Sha256"]

    inbox = gw.pki.directory.parent / "inbox"
    await asyncio.to_thread(cli, gw, "unit", "listen", unit, "--out", str(inbox), "--max", str(len(own)))
    files = sorted(inbox.glob("*.json"))
    assert len(files) == len(own)
    received = sorted(json.loads(f.read_text(encoding="utf-8"))["petition_id"] for f in files)
    assert received == sorted(own)
    assert all(f.stem == json.loads(f.read_text(encoding="utf-8"))["message_id"] for f in files)


async def test_the_gateways_signed_receipt_verifies_with_xmlsec1(
    sqlite_gateway: LiveGateway, tmp_path: Path
) -> None:
    [petition] = generate_petitions(1, seed=42)
    client = await asyncio.to_thread(sqlite_gateway.client)
    receipt = await asyncio.to_thread(client.submit_petition, petition)
    assert receipt.Accepted and receipt.signature_verdict == "valid"
    raw = client.last_response.raw if client.last_response else b""
    element = etree.fromstring(raw).find(".//{urn:pakn:exchange:1}Receipt")
    assert element is not None
    signed = tmp_path / "receipt.xml"
    signed.write_bytes(etree.tostring(element))
    ca = str(sqlite_gateway.pki.ca_cert)
    command = ["xmlsec1", "--verify", "--enabled-reference-uris", "empty", "--trusted-pem", ca, str(signed)]
    assert (
        await asyncio.to_thread(subprocess.run, command, capture_output=True, check=False)
    ).returncode == 0
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace(b">true<", b">false<", 1))
    command[-1] = str(tampered)
    assert (
        await asyncio.to_thread(subprocess.run, command, capture_output=True, check=False)
    ).returncode != 0
