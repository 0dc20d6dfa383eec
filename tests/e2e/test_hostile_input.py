"""Every kind of bad input gets its SOAP Fault over real HTTP, nothing is stored, and the refusal
is in the message log."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import text

import signing
from connectors.national_sim.generator import generate_petitions
from tests.e2e.messages import NS, envelope, foreign_signer, replace_text, signed_with_expired_certificate
from tests.support.databases import sqlite_url
from tests.support.gateway import LiveGateway, live_gateway

LIMIT = 200_000


@pytest.fixture
async def small_gateway(tmp_path: Path) -> AsyncIterator[LiveGateway]:
    async with live_gateway(tmp_path, sqlite_url(tmp_path), max_body_bytes=LIMIT) as live:
        yield live


def petition(seed: int = 21, **changes: Any) -> dict[str, Any]:
    p = generate_petitions(1, seed=seed, attachment_ratio=1.0)[0]
    p.update(changes)
    return p


async def post(
    gateway: LiveGateway, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, str, str]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            gateway.soap_url,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
        )
    root = etree.fromstring(response.content)
    code = root.findtext("soap:Body/soap:Fault/faultcode", namespaces=NS) or ""
    message = root.findtext("soap:Body/soap:Fault/faultstring", namespaces=NS) or ""
    return response.status_code, code, message


async def nothing_stored(gateway: LiveGateway) -> None:
    async with gateway.engine.connect() as connection:
        cases = (await connection.execute(text("SELECT count(*) FROM cases"))).scalar_one()
        outbox = (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
        receipts = (await connection.execute(text("SELECT count(*) FROM seen_messages"))).scalar_one()
    assert (cases, outbox, receipts) == (0, 0, 0)


async def logged_refusals(gateway: LiveGateway) -> list[tuple[str, str]]:
    async with gateway.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT outcome, signature_verdict FROM message_log WHERE direction = 'in' ORDER BY id")
        )
        return [(r[0], r[1]) for r in rows]


def deep_body(depth: int) -> bytes:
    inner = "<x>" * depth + "</x>" * depth
    return (
        f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<PetitionMessage xmlns="urn:pakn:exchange:1">{inner}</PetitionMessage></soap:Body></soap:Envelope>'
    ).encode()


def swap_signature_onto_other_message(national: signing.SigningKey) -> Callable[[etree._Element], None]:
    """Signature wrapping: a genuine signature of another petition moved onto this one."""
    other = etree.fromstring(envelope(petition(99), key=national)).find("soap:Body/p:PetitionMessage", NS)
    assert other is not None
    stolen = other.find("ds:Signature", NS)

    def mutate(element: etree._Element) -> None:
        element.append(copy.deepcopy(stolen))

    return mutate


def bad_attachment(field: str, value: Any) -> dict[str, Any]:
    p = petition(23)
    p["Attachments"]["Attachment"][0][field] = value
    return p


async def test_each_hostile_input_gets_its_fault_and_nothing_is_stored(sqlite_gateway: LiveGateway) -> None:
    gw = sqlite_gateway
    national = gw.national_key()
    ministry = signing.load_pem_key(gw.pki.ministry_cert, gw.pki.ministry_key)
    good = envelope(petition(), key=national)
    cases: list[tuple[str, bytes]] = [
        (
            "Client.ForbiddenDtd",
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "y">]>' + good.split(b"?>", 1)[1],
        ),
        ("Client.ForbiddenDtd", b'<!DOCTYPE e SYSTEM "http://127.0.0.1:9/x.dtd">' + good.split(b"?>", 1)[1]),
        ("Client.MalformedXml", good[:-40]),
        ("Client.TooDeep", deep_body(100)),
        ("Client.WrongNamespace", good.replace(b"urn:pakn:exchange:1", b"urn:pakn:exchange:9")),
        (
            "Client.NotSoap",
            good.replace(
                b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.w3.org/2003/05/soap-envelope"
            ),
        ),
        ("Client.SchemaInvalid", envelope(petition(Priority=7), key=national)),
        ("Client.SchemaInvalid", envelope(petition(PetitionId="X" * 41), key=national)),
        ("Client.SignatureMissing", envelope(petition(), key=None)),
        (
            "Client.SignatureInvalid",
            envelope(
                petition(), key=national, after_signing=replace_text("p:Petition/p:Title", "Tiêu đề bị sửa")
            ),
        ),
        (
            "Client.SignatureInvalid",
            envelope(petition(24), key=None, after_signing=swap_signature_onto_other_message(national)),
        ),
        ("Client.CertificateUntrusted", envelope(petition(), key=foreign_signer())),
        (
            "Client.CertificateExpired",
            envelope(petition(), key=None, signer=signed_with_expired_certificate(gw.pki)),
        ),
        (
            "Client.SenderMismatch",
            envelope(petition(), key=ministry),
        ),  # the ministry's own key, From = portal
        ("Client.WrongRecipient", envelope(petition(), key=national, recipient="000.00.00.G08")),
        ("Client.AttachmentMismatch", envelope(bad_attachment("Size", 7), key=national)),
        ("Client.AttachmentMismatch", envelope(bad_attachment("Sha256", "0" * 64), key=national)),
    ]
    for expected, body in cases:
        status, code, message = await post(gw, body)
        assert (status, code) == (500, f"soap:{expected}"), (expected, code, message)
        vi, _, en = message.partition(" / ")
        assert vi and en, message
    await nothing_stored(gw)
    outcomes = [outcome for outcome, _ in await logged_refusals(gw)]
    assert outcomes == [expected for expected, _ in cases]
    verdicts = dict(await logged_refusals(gw))
    assert verdicts["Client.CertificateUntrusted"] == "invalid:Client.CertificateUntrusted"


async def test_oversized_bodies_are_refused_without_reading_them(small_gateway: LiveGateway) -> None:
    big = envelope(petition(25), key=small_gateway.national_key()) + b" " * LIMIT
    status, code, _ = await post(small_gateway, big)
    assert (status, code) == (500, "soap:Client.TooLarge")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream is cut at the limit
        for _ in range(50):
            yield b" " * 10_000

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(small_gateway.soap_url, content=chunks())
    assert b"Client.TooLarge" in response.content
    await nothing_stored(small_gateway)


async def test_signature_verification_off_is_explicit_and_still_checks_the_rest(tmp_path: Path) -> None:
    async with live_gateway(tmp_path, sqlite_url(tmp_path), verify_signatures=False) as gw:
        unsigned = envelope(petition(26), key=None)
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(gw.soap_url, content=unsigned)
        assert response.status_code == 200 and b"<pakn:Accepted>true</pakn:Accepted>" in response.content
        _, code, _ = await post(gw, envelope(petition(27, Priority=9), key=None))
        assert code == "soap:Client.SchemaInvalid"
        verdicts = [v for _, v in await logged_refusals(gw)]
        assert verdicts[0] == "not-checked"


def test_production_refuses_to_turn_verification_off() -> None:
    from pydantic import ValidationError

    from gateway.settings import Settings

    with pytest.raises(ValidationError):
        Settings(environment="production", verify_signatures=False)


async def test_large_attachment_within_the_limit_is_accepted(sqlite_gateway: LiveGateway) -> None:
    """A 12 MB attachment (16 MB as base64) fits the 20 MiB default and must not trip libxml2's limits."""
    import hashlib

    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)
    p = petition(28)
    p["Attachments"] = {
        "Attachment": [
            {
                "FileName": "Biên bản lớn.pdf",
                "ContentType": "application/pdf",
                "Size": len(data),
                "Sha256": hashlib.sha256(data).hexdigest(),
                "Data": data,
            }
        ]
    }
    client = await asyncio.to_thread(sqlite_gateway.client)
    receipt = await asyncio.to_thread(client.submit_petition, p)
    assert receipt.Accepted
    async with sqlite_gateway.uow()() as uow:
        stored = await uow.cases.petition(p["PetitionId"])
    assert stored is not None and stored.attachments[0].data == data
