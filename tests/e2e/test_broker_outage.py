"""Petitions accepted while RabbitMQ is unreachable are stored, and reach their unit queue once the
broker is back — each exactly once. The link is cut with a TCP proxy, not by stopping the shared broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from connectors.amqp.topology import unit_queue_name
from connectors.national_sim.generator import generate_petitions
from gateway.domain.petition import Kind, SenderType
from gateway.routing_config import load_config
from tests.e2e.test_inbound_flow import take_from_queue
from tests.support.amqp import AMQP_URL
from tests.support.databases import sqlite_url
from tests.support.gateway import live_gateway
from tests.support.tcp_proxy import TcpProxy


async def pending_outbox(engine: object) -> int:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(
            (await connection.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one()
        )


async def test_petitions_accepted_during_an_outage_are_delivered_after_it(tmp_path: Path) -> None:
    host_port = AMQP_URL.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    async with (
        TcpProxy(host, int(port)) as proxy,
        live_gateway(tmp_path, sqlite_url(tmp_path), amqp_url=proxy.proxied(AMQP_URL)) as gw,
    ):
        petitions = generate_petitions(3, seed=31, field_codes=["TRE_EM"])
        client = await asyncio.to_thread(gw.client)
        # first one goes through while the link is up: topology is declared, the relay runs
        await asyncio.to_thread(client.submit_petition, petitions[0])
        await gw.wait_status(petitions[0]["PetitionId"], "04")

        proxy.pause()
        for petition in petitions[1:]:
            receipt = await asyncio.to_thread(client.submit_petition, petition)
            assert receipt.Accepted and not receipt.Duplicate
        await asyncio.sleep(2)
        for petition in petitions[1:]:
            case = await gw.case(petition["PetitionId"])
            assert case is not None and case.status.value == "03"  # stored, not yet in a queue
        assert await pending_outbox(gw.engine) == 2

        proxy.resume()
        for petition in petitions:
            await gw.wait_status(petition["PetitionId"], "04", timeout=60)
        assert await pending_outbox(gw.engine) == 0

        routing = load_config(gw.settings.config_dir).routing
        queues: dict[str, int] = {}
        for p in petitions:
            unit = routing.route(p.get("FieldCode"), Kind(p["Kind"]), SenderType(p["Sender"]["Type"])).code
            queues[unit] = queues.get(unit, 0) + 1
        delivered = []
        for unit, count in queues.items():
            delivered += await take_from_queue(unit_queue_name(unit), count)
        assert sorted(m.correlation_id or "" for m in delivered) == sorted(p["PetitionId"] for p in petitions)


async def test_gateway_started_while_the_broker_is_down_accepts_and_delivers_later(tmp_path: Path) -> None:
    host_port = AMQP_URL.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    async with TcpProxy(host, int(port)) as proxy:
        proxy.pause()
        async with live_gateway(tmp_path, sqlite_url(tmp_path), amqp_url=proxy.proxied(AMQP_URL)) as gw:
            [petition] = generate_petitions(1, seed=32, field_codes=["VIEC_LAM"])
            client = await asyncio.to_thread(gw.client)
            receipt = await asyncio.to_thread(client.submit_petition, petition)
            assert receipt.Accepted
            await asyncio.sleep(1)
            case = await gw.case(petition["PetitionId"])
            assert case is not None and case.status.value == "03"
            proxy.resume()
            await gw.wait_status(petition["PetitionId"], "04", timeout=60)
            routing = load_config(gw.settings.config_dir).routing
            unit = routing.route(
                petition.get("FieldCode"), Kind(petition["Kind"]), SenderType(petition["Sender"]["Type"])
            )
            [message] = await take_from_queue(unit.queue, 1)
            assert message.correlation_id == petition["PetitionId"]
