"""Dead letters end to end on the real broker and store: the retry ladder fills ``pakn.dead``, the
broker dead-letters a unit's case, the national outbox keeps a dead row; then ``pakn-gateway dlq``
(list, show, replay, discard) and the REST routes with their operator-token boundary.

Each test has a virtual host of its own (see ``test_amqp_replies``) and a SQLite store of its own.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from connectors.amqp.connection import connect
from connectors.amqp.reply_consumer import ReplyRefusal
from connectors.amqp.topology import (
    CASES_EXCHANGE,
    DEAD_QUEUE,
    declare_topology,
    routing_key_for,
    unit_queue_name,
)
from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.cli.main import app as cli
from gateway.domain.case import Case
from gateway.domain.routing import make_unit
from gateway.inbound.intake import utc_now
from gateway.ops.accounts import Accounts
from gateway.ops.api import ops_router
from gateway.ops.auth import OpsAuth
from gateway.ops.dead_letters import DeadLetters
from gateway.ops.session_api import session_router
from gateway.ports import StoreConflict
from gateway.settings import Settings
from gateway.units.problems import Problem, problem_handler
from tests.integration.test_amqp_replies import TEST_DELAYS, Bench, Handler, own_vhost, settled
from tests.support.databases import sqlite_url
from tests.support.operators import POLICY, add_operator, alogin
from tests.unit.samples import petition

pytestmark = pytest.mark.integration


class Idempotent(Handler):
    """Applies each message_id once, as the real reply service does; counts the duplicates."""

    def __init__(self, failures: int) -> None:
        super().__init__(script=[StoreConflict("lost a race")] * failures)
        self.applied: list[str | None] = []
        self.duplicates = 0

    async def __call__(self, body: bytes, *, message_id: str | None, routing_key: str) -> None:
        await super().__call__(body, message_id=message_id, routing_key=routing_key)
        if message_id in self.applied:
            self.duplicates += 1
        else:
            self.applied.append(message_id)


async def national_dead_row(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        uow = SqlUnitOfWorkFactory(make_sessions(engine))
        now = datetime.now(UTC)
        sample = petition("PAKN-DLQ-1")
        async with uow() as u:  # a case that arrived puts its statuses 01 and 03 in the outbox
            await u.cases.add(Case.arrive("PAKN-DLQ-1", "CVL", sample.fingerprint(), now), sample)
            await u.commit()
        async with uow() as u:
            row = (await u.national.list("pending"))[0]
            assert row.id is not None
            await u.national.mark_dead(row.id, "Client.UnknownPetition: no such petition", now)
            await u.commit()
        return row.id
    finally:
        await engine.dispose()


async def national_state(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with SqlUnitOfWorkFactory(make_sessions(engine))() as u:
            return await u.national.counts()
    finally:
        await engine.dispose()


async def dlq(env: dict[str, str], *args: str) -> Result:
    # in a thread: the command runs its own event loop (asyncio.run)
    return await asyncio.to_thread(CliRunner().invoke, cli, ["dlq", *args], env=env)


async def test_dlq_lists_shows_replays_and_discards_real_dead_letters(tmp_path: Path) -> None:
    async with own_vhost() as url:
        unit = "TDLQ" + uuid.uuid4().hex[:6].upper()
        database_url = sqlite_url(tmp_path)
        env = {"PAKN_AMQP_URL": url, "PAKN_DATABASE_URL": database_url, "COLUMNS": "400"}
        connection = await connect(url, timeout=5)
        try:
            await declare_topology(
                await connection.channel(), [make_unit(unit, "Đơn vị thử nghiệm")], retry_delays=TEST_DELAYS
            )
            bench = Bench(url, unit, connection)
            # 1. a reply that fails through the whole ladder: pakn.dead, by the consumer
            handler = Idempotent(failures=1 + len(TEST_DELAYS))
            async with bench.consuming(handler) as consumer:
                reply_id = await bench.publish(b'{"type":"claim"}', key=f"unit.{unit}.reply.claim")
                await settled(consumer, "dead_lettered")
            # 2. a case the unit rejected: pakn.dead, by the broker (x-death)
            channel = await connection.channel(publisher_confirms=True)
            cases = await channel.get_exchange(CASES_EXCHANGE)
            case_id = str(uuid.uuid4())
            await cases.publish(
                aio_pika.Message(b'{"petition_id":"PAKN-DLQ-1"}', message_id=case_id),
                routing_key_for(unit, "case.new"),
            )
            unit_queue = await channel.declare_queue(unit_queue_name(unit), passive=True)
            async with asyncio.timeout(10):
                while (case := await unit_queue.get(no_ack=False, fail=False)) is None:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            await case.reject(requeue=False)
            # 3. a national outbox row the portal refused for good
            row_id = await national_dead_row(database_url)
            async with asyncio.timeout(10):
                while await bench.count(DEAD_QUEUE) < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

            listed = await dlq(env, "list")
            assert listed.exit_code == 0, listed.output
            for expected in (f"amqp:{reply_id}", f"amqp:{case_id}", f"national:{row_id}"):
                assert expected in listed.output
            assert "RetriesExhausted" in listed.output and "rejected" in listed.output
            only = await dlq(env, "list", "--stage", "sender")
            assert f"national:{row_id}" in only.output and f"amqp:{reply_id}" not in only.output
            assert await bench.count(DEAD_QUEUE) == 2  # reading took nothing away

            shown = await dlq(env, "show", f"amqp:{reply_id}")
            assert shown.exit_code == 0, shown.output
            head, body = shown.output.split("--- body ---")
            detail = json.loads(head)
            assert (detail["stage"], detail["reason"], detail["attempts"]) == (
                "replies",
                "RetriesExhausted",
                3,
            )
            assert "StoreConflict" in detail["last_error"]
            assert detail["headers"]["x-pakn-original-routing-key"] == f"unit.{unit}.reply.claim"
            assert json.loads(body) == {"type": "claim"}
            case_detail = json.loads(
                (await dlq(env, "show", f"amqp:{case_id}")).output.split("--- body ---")[0]
            )
            assert (case_detail["stage"], case_detail["reason"]) == ("unit", "rejected")
            assert case_detail["where"] == f"{CASES_EXCHANGE} unit.{unit}.case.new"
            assert (await dlq(env, "show", "amqp:nope")).exit_code == 1
            assert (await dlq(env, "show", "bogus")).exit_code == 2

            # replay: the reply goes through the normal path (handler applies it now) ...
            async with bench.consuming(handler) as consumer:
                replayed = await dlq(
                    env, "replay", f"amqp:{reply_id}", f"amqp:{case_id}", f"national:{row_id}"
                )
                assert replayed.exit_code == 0, replayed.output
                await settled(consumer, "applied")
                # ... and a second copy of an applied reply is a duplicate, applied once
                await bench.publish(b'{"type":"claim"}', key=f"unit.{unit}.reply.claim", message_id=reply_id)
                await settled(consumer, "applied", 2)
            assert handler.applied == [reply_id] and handler.duplicates == 1
            # the case is back in its unit's queue, with its routing key; the national row is pending
            [back] = await bench.take(unit_queue_name(unit), 1)
            assert back.message_id == case_id and back.routing_key == f"unit.{unit}.case.new"
            assert "x-death" not in back.headers and "x-pakn-replayed-at" in back.headers
            assert (await national_state(database_url)).get("pending") == 2
            assert await bench.count(DEAD_QUEUE) == 0
            assert (await dlq(env, "replay", f"amqp:{reply_id}")).exit_code == 1  # gone now

            # discard: needs --yes; national rows are refused; AMQP ones are gone for good
            refusing = Handler(script=[ReplyRefusal("InvalidReply", "không đọc được", "unreadable")])
            async with bench.consuming(refusing) as consumer:
                poison_id = await bench.publish(b"\x00", key="garbage")  # nobody to tell → pakn.dead
                await settled(consumer, "dead_lettered")
            letter = f"amqp:{poison_id}"
            assert (await dlq(env, "discard", letter)).exit_code == 2
            assert (await dlq(env, "discard", f"national:{row_id}", "--yes")).exit_code == 2
            discarded = await dlq(env, "discard", letter, "--yes")
            assert discarded.exit_code == 0, discarded.output
            assert await bench.count(DEAD_QUEUE) == 0
        finally:
            await asyncio.wait_for(connection.close(), 10)


def ops_app(settings: Settings, database_url: str) -> FastAPI:
    engine = make_engine(database_url)
    app = FastAPI()
    app.add_exception_handler(Problem, problem_handler)
    uow = SqlUnitOfWorkFactory(make_sessions(engine))
    auth = OpsAuth(Accounts(uow, POLICY, utc_now), max_age=timedelta(hours=1), secure=None)
    app.include_router(session_router(auth))
    app.include_router(ops_router(auth, DeadLetters(uow, settings.amqp_url, lambda: datetime.now(UTC))))
    return app


async def test_rest_dead_letters_by_role(tmp_path: Path) -> None:
    async with own_vhost() as url:
        connection = await connect(url, timeout=5)
        try:
            await declare_topology(await connection.channel(), [], retry_delays=TEST_DELAYS)
        finally:
            await asyncio.wait_for(connection.close(), 10)
        database_url = sqlite_url(tmp_path)
        row_id = await national_dead_row(database_url)
        await add_operator(database_url, "xem", role="viewer")
        await add_operator(database_url, "vanhanh", role="operator")
        settings = Settings(amqp_url=url, database_url=database_url)
        app = ops_app(settings, database_url)
        one_path = f"/api/ops/dead-letters/national:{row_id}"
        routes = (
            ("GET", "/api/ops/dead-letters"),
            ("GET", one_path),
            ("POST", f"{one_path}/replay"),
            ("POST", f"{one_path}/discard"),
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as anon:
            for method, path in routes:
                answer = await anon.request(method, path, headers={"Authorization": "Bearer anything"})
                assert answer.status_code == 401, (method, path)
                assert answer.json()["code"] == "Unauthenticated"
                assert answer.headers["content-type"] == "application/problem+json"
            wrong = await anon.post(
                "/api/ops/session", json={"username": "xem", "password": "sai-mat-khau-roi"}
            )
            assert wrong.status_code == 401 and wrong.json()["code"] == "LoginFailed"
            assert wrong.json()["title_vi"].startswith("Sai tên đăng nhập")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as viewer:
            await alogin(viewer, "xem")
            listed = (await viewer.get("/api/ops/dead-letters")).json()
            assert [d["id"] for d in listed["items"]] == [f"national:{row_id}"]
            one = await viewer.get(one_path)
            assert one.status_code == 200 and one.json()["stage"] == "sender"
            for path in (f"{one_path}/replay", f"{one_path}/discard"):
                refused = await viewer.post(path)
                assert refused.status_code == 403 and refused.json()["code"] == "Forbidden", path
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as op:
            token = await alogin(op, "vanhanh")
            del op.headers["X-CSRF-Token"]
            forged = await op.post(f"{one_path}/replay")
            assert forged.status_code == 403 and forged.json()["code"] == "CsrfRejected"
            forged = await op.post(f"{one_path}/replay", headers={"X-CSRF-Token": token[:-1] + "x"})
            assert forged.status_code == 403 and forged.json()["code"] == "CsrfRejected"
            op.headers["X-CSRF-Token"] = token
            assert json.loads((await op.get(one_path)).json()["body"])["petition_id"] == "PAKN-DLQ-1"
            assert (await op.get("/api/ops/dead-letters/amqp:none")).status_code == 404
            assert (await op.get("/api/ops/dead-letters/what")).status_code == 400
            refused = await op.post(f"{one_path}/discard")
            assert refused.status_code == 409 and refused.json()["detail_vi"]
            replayed = await op.post(f"{one_path}/replay")
            assert replayed.status_code == 200 and replayed.json()["replayed"] == 1
            again = await op.post(f"{one_path}/replay")
            assert again.status_code == 404
            many = await op.post("/api/ops/dead-letters/replay", json={"ids": [f"national:{row_id}"]})
            assert many.status_code == 200 and many.json() == {"replayed": {f"national:{row_id}": 0}}
        assert (await national_state(database_url)).get("pending") == 2
        engine = make_engine(database_url)
        try:
            async with SqlUnitOfWorkFactory(make_sessions(engine))() as u:
                actions = await u.operators.actions()
        finally:
            await engine.dispose()
        replays = [(a.username, a.target) for a in actions if a.action == "dead_letter.replay"]
        assert replays == [("vanhanh", f"national:{row_id}")]
