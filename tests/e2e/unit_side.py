"""What units do in end-to-end tests: push a petition to its unit, issue a token, publish a reply,
read a queue, read what the gateway holds for the national portal. Shared by the e2e test files."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from connectors.amqp.topology import REPLIES_EXCHANGE
from connectors.national_sim.generator import generate_petitions
from gateway.cli.main import app as cli_app
from gateway.domain.exchange import NationalMessage
from schemas import schema_dir
from tests.support.gateway import WAIT, LiveGateway

ERRORS = Draft202012Validator(
    json.loads((schema_dir() / "unit-error-1.schema.json").read_text(encoding="utf-8")),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)
REPLIES = Draft202012Validator(
    json.loads((schema_dir() / "unit-reply-1.schema.json").read_text(encoding="utf-8")),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


def issue_token(gw: LiveGateway, unit: str) -> str:
    env = {
        "PAKN_DATABASE_URL": gw.settings.database_url,
        "PAKN_CONFIG_DIR": str(gw.settings.config_dir),
        "PAKN_AMQP_URL": gw.settings.amqp_url,
        "PAKN_PKI_DIR": str(gw.settings.pki_dir),
    }
    result = CliRunner().invoke(cli_app, ["unit", "token", unit], env=env)
    assert result.exit_code == 0, result.output
    token: str = result.output.strip().splitlines()[-1]
    return token


def seeded_petition(seed: int) -> dict[str, Any]:
    """The petition `petition_at_its_unit(gw, seed)` pushes (the generator is deterministic)."""
    [petition] = generate_petitions(1, seed=seed, field_codes=["BAO_HIEM_XA_HOI"])
    return petition


async def petition_at_its_unit(gw: LiveGateway, seed: int) -> tuple[str, str]:
    """Push one petition as the national portal does; (PetitionId, unit holding it at 04)."""
    petition = seeded_petition(seed)
    client = await asyncio.to_thread(gw.client)
    receipt = await asyncio.to_thread(client.submit_petition, petition)
    assert receipt.Accepted
    case = await gw.wait_status(petition["PetitionId"], "04")
    return petition["PetitionId"], case.unit_code


async def take(url: str, queue_name: str, count: int, within: float = WAIT) -> list[AbstractIncomingMessage]:
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        got: list[AbstractIncomingMessage] = []
        try:
            async with asyncio.timeout(within):
                while len(got) < count:
                    message = await queue.get(no_ack=False, fail=False)
                    if message is None:
                        await asyncio.sleep(0.1)
                        continue
                    await message.ack()
                    got.append(message)
        except TimeoutError:
            pytest.fail(f"only {len(got)} of {count} messages arrived in {queue_name} within {within} s")
        return got


async def national(gw: LiveGateway, petition_id: str) -> list[NationalMessage]:
    """What the gateway holds for the national portal about one petition, in sending order.

    The three states are read one after another while the sender goes on, so a message it delivers
    between two reads is seen in both: states only move forward (pending, then delivered or dead),
    so keeping each id's last sighting gives every message once, in its newest state.
    """
    latest: dict[int, NationalMessage] = {}
    async with gw.uow()() as uow:
        for state in ("pending", "delivered", "dead"):
            for m in await uow.national.list(state, 10_000):
                if m.petition_id == petition_id and m.id is not None:
                    latest[m.id] = m
    return [latest[i] for i in sorted(latest)]


def reply_doc(type_: str, petition_id: str, unit: str, **fields: Any) -> dict[str, Any]:
    doc = {
        "schema": "urn:pakn:unit-reply:1",
        "version": 1,
        "message_id": str(uuid.uuid4()),
        "type": type_,
        "petition_id": petition_id,
        "unit_code": unit,
        **fields,
    }
    REPLIES.validate(doc)  # what the test sends is what the contract allows
    return doc


async def publish_reply(url: str, doc: dict[str, Any], *, key: str | None = None) -> str:
    """Publish as a unit would: persistent, confirmed, message_id = the body's."""
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(REPLIES_EXCHANGE)
        message = aio_pika.Message(
            json.dumps(doc, ensure_ascii=False).encode(),
            message_id=doc.get("message_id"),
            correlation_id=doc.get("petition_id"),
            content_type="application/json",
            type=f"pakn.reply.{doc.get('type')}",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await asyncio.wait_for(
            exchange.publish(message, key or f"unit.{doc['unit_code']}.reply.{doc['type']}"), 10
        )
    return str(doc.get("message_id"))


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["title"] and body["title_vi"]
    return body


async def queue_depth(url: str, name: str) -> int:
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        count = queue.declaration_result.message_count
        assert count is not None
        return count


def minimal_pdf(text: str = "Cong van tra loi") -> bytes:
    """A one-page PDF as a unit's own document system would send (valid xref, no signature)."""
    content = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


SIGNER = {"signer_name": "Nguyễn Văn An", "signer_position": "Vụ trưởng Vụ Bảo hiểm xã hội"}
