"""Observability end to end: the real gateway over HTTP, the portal simulator, real RabbitMQ, SQLite
and PostgreSQL. Petitions and a unit's replies go through, then `/metrics` is scraped and parsed
with prometheus_client's own text parser: each counter moved by exactly what went through, the
sampled gauges show the queue, the outbox, the cases and the overdue one. `/readyz` says 503 and
names the broker when the gateway's broker is a closed port.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.amqp.topology import REPLIES_QUEUE, unit_queue_name
from gateway.observability.json_logging import CorrelationFilter
from tests.e2e.unit_side import (
    SIGNER,
    national,
    petition_at_its_unit,
    publish_reply,
    reply_doc,
    seeded_petition,
)
from tests.support.amqp import own_vhost
from tests.support.databases import sqlite_url
from tests.support.gateway import WAIT, LiveGateway, eventually, live_gateway

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Kept(logging.Handler):
    """Keeps the gateway's records as its own handler would see them: stamped with the ids."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.addFilter(CorrelationFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def ids(self, logger: str, contains: str) -> set[tuple[str | None, str | None]]:
        return {
            (getattr(r, "petition_id", None), getattr(r, "message_id", None))
            for r in self.records
            if r.name == logger and contains in r.getMessage()
        }


@pytest.fixture
def kept() -> Iterator[Kept]:
    """The gateway (served in this process) logs through `gateway.*`: keep its INFO records."""
    handler, logger = Kept(), logging.getLogger("gateway")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
async def observed(any_db_url: str, tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """A gateway on each backend and a vhost of its own, sampling its gauges every 0.3 s."""
    async with (
        own_vhost() as url,
        live_gateway(tmp_path, any_db_url, amqp_url=url, metrics_sample_seconds=0.3) as live,
    ):
        yield live


async def scrape(gw: LiveGateway) -> Samples:
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")  # the exposition format
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """0 when the series is absent: a counter that never moved has no series yet."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    return sum(
        v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls)
    )


async def gauges_settle(gw: LiveGateway, check: Samples) -> Samples:
    """Scrape until every sampled gauge in `check` shows its expected value (the sampler's round)."""

    async def ok() -> Samples | None:
        got = await scrape(gw)
        return got if all(got.get(key, None) == want for key, want in check.items()) else None

    try:
        return await eventually(ok, WAIT, "the sampled gauges never settled")
    except AssertionError:
        got = await scrape(gw)
        wrong = {key: (got.get(key), want) for key, want in check.items() if got.get(key) != want}
        raise AssertionError(f"gauges (got, wanted): {wrong}") from None


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


async def test_metrics_count_what_went_through_and_the_gauges_show_where_it_stands(
    observed: LiveGateway, kept: Kept
) -> None:
    gw = observed
    before = await scrape(gw)
    assert total(before, "pakn_messages_in_total") == 0 and total(before, "pakn_messages_out_total") == 0

    # in from the portal: one petition (to its unit, 04), one overdue petition pushed twice, one refused
    pid, holder = await petition_at_its_unit(gw, seed=91)
    late = seeded_petition(92)
    now = datetime.now(UTC)
    late["ReceivedAt"], late["DueAt"] = now - timedelta(days=20), now - timedelta(days=1)
    client = await asyncio.to_thread(gw.client)
    message_id = str(uuid.uuid4())
    first = await asyncio.to_thread(client.submit_petition, late, message_id=message_id)
    again = await asyncio.to_thread(client.submit_petition, late, message_id=message_id)
    assert first.Accepted and not first.Duplicate and again.Duplicate
    await gw.wait_status(late["PetitionId"], "04")
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as http:
        refused = await http.post(gw.soap_url, content=b"<not-xml", headers={"content-type": "text/xml"})
    assert refused.status_code == 500
    fault_code = refused.text.split("<faultcode>")[1].split("</faultcode>")[0].removeprefix("soap:")

    # in from the unit, over AMQP: a claim, then the answer (a letter rendered and PAdES-signed)
    url = gw.settings.amqp_url
    claim = reply_doc("claim", pid, holder)
    await publish_reply(url, claim)
    await gw.wait_status(pid, "05")
    content = "Bộ trả lời: Ông/Bà đủ điều kiện hưởng chế độ."
    answer = reply_doc("answer", pid, holder, content=content, publish=True, **SIGNER)
    await publish_reply(url, answer)
    await gw.wait_status(pid, "06")

    async def all_delivered() -> bool | None:
        messages = await national(gw, pid) + await national(gw, late["PetitionId"])
        return True if messages and all(m.state == "delivered" for m in messages) else None

    await eventually(all_delivered, WAIT, "the national outbox did not drain")
    sent = await national(gw, pid) + await national(gw, late["PetitionId"])
    statuses = sum(1 for m in sent if m.operation == "ReceiveStatus")
    assert statuses == 5 + 3 and sum(1 for m in sent if m.operation == "ReceiveAnswer") == 1
    assert len(gw.portal.recorder.received) == len(sent)  # no retry: every attempt was accepted at once

    got = await gauges_settle(
        gw,
        {
            key("pakn_outbox_pending"): 0,
            key("pakn_national_outbox_messages", state="delivered"): len(sent),
            key("pakn_national_outbox_messages", state="pending"): 0,
            key("pakn_dead_letters", source="national"): 0,
            key("pakn_dead_letters", source="amqp"): 0,
            key("pakn_cases", status="06"): 1,
            key("pakn_cases", status="04"): 1,
            key("pakn_cases_overdue"): 1,
            key("pakn_cases_open_with_due_date"): 1,
            # both case messages wait in the unit's queue (this test consumes none); the gateway
            # consumes the replies queue
            key("pakn_queue_messages", queue=unit_queue_name(holder)): 2,
            key("pakn_queue_consumers", queue=unit_queue_name(holder)): 0,
            key("pakn_queue_consumers", queue=REPLIES_QUEUE): 1,
            key("pakn_broker_connected"): 1,
            key("pakn_portal_breaker_state", pakn_portal_breaker_state="closed"): 1,
        },
    )
    messages_in, messages_out = "pakn_messages_in_total", "pakn_messages_out_total"
    national_in = {"peer": "national", "type": "SubmitPetition"}
    assert value(got, messages_in, **national_in, result="accepted") == 2
    assert value(got, messages_in, **national_in, result="duplicate") == 1
    assert value(got, messages_in, peer="national", type="unknown", result=fault_code) == 1
    assert total(got, messages_in, peer="national") == 4
    assert value(got, messages_in, peer="unit", type="claim", result="applied") == 1
    assert value(got, messages_in, peer="unit", type="answer", result="applied") == 1
    assert total(got, messages_in, peer="unit") == 2
    assert value(got, messages_out, peer="unit", type="pakn.case.new", result="confirmed") == 2
    assert value(got, messages_out, peer="national", type="ReceiveStatus", result="accepted") == statuses
    assert value(got, messages_out, peer="national", type="ReceiveAnswer", result="accepted") == 1
    assert total(got, messages_out, peer="national") == len(sent)
    assert value(got, "pakn_portal_call_seconds_count", operation="ReceiveStatus") == statuses
    assert value(got, "pakn_portal_call_seconds_count", operation="ReceiveAnswer") == 1
    # XML-DSig: the three receipts (the duplicate gets one too), and every request to the portal
    assert value(got, "pakn_signing_seconds_count", kind="xml") == 3 + len(sent)
    assert value(got, "pakn_signing_seconds_count", kind="pdf") == 1
    assert value(got, "pakn_signing_seconds_sum", kind="pdf") > 0
    assert value(got, "pakn_outbox_relay_leading") == 1

    # each message handled logged with its own ids: the push, the reply, every delivery to the portal
    assert (late["PetitionId"], message_id) in kept.ids("gateway.inbound.soap_route", "SubmitPetition")
    assert kept.ids("gateway.outbound.reply_intake", "reply claim") == {(pid, claim["message_id"])}
    delivered = kept.ids("gateway.outbound.national_sender", "delivered")
    assert delivered == {(m.petition_id, m.message_id) for m in sent}

    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["broker"] == {"ok": True, "detail": "connected"}
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/health/live")).status_code == 200  # the older endpoints stay
        assert (await http.get("/health/ready")).json()["broker"] == "connected"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_readyz_is_503_naming_the_broker_when_the_broker_cannot_be_reached(tmp_path: Path) -> None:
    dead_broker = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
    async with live_gateway(
        tmp_path, sqlite_url(tmp_path), amqp_url=dead_broker, metrics_sample_seconds=0.2
    ) as gw:
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200  # the process is alive
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "NotReady" and body["status"] == 503 and body["title_vi"]
        assert body["failing"] == ["broker"]
        assert body["checks"]["broker"]["ok"] is False
        assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
        assert body["checks"]["signing_certificate"]["ok"] is True
        assert body["national_portal"] == "closed"

        async def queues_failed() -> Samples | None:
            got = await scrape(gw)
            return got if value(got, "pakn_metrics_sample_errors_total", part="queues") >= 1 else None

        got = await eventually(queues_failed, WAIT, "the sampler never tried the broker")
        assert value(got, "pakn_broker_connected") == 0
        assert value(got, "pakn_metrics_sample_errors_total", part="store") == 0  # the store part went on
        assert value(got, "pakn_outbox_pending") == 0
