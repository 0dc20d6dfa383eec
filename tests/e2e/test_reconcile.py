"""Reconciliation against the national portal simulator over real HTTP: signed ListQuery, verified
pages, the petitions the gateway lacks taken in through the intake and on to their units' queues
(real RabbitMQ), on SQLite and PostgreSQL; the in-process schedule; an outage in the middle of a run."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.db.tables import MessageLogRow
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import MOLISA
from gateway.bootstrap import Runtime, build_runtime, load_schema
from gateway.domain.exchange import PetitionPage
from gateway.inbound.pulled_petition import PulledPetitionDecoder
from gateway.inbound.reconcile import Reconciliation
from gateway.inbound.reconcile_schedule import VIETNAM
from tests.support.databases import sqlite_url
from tests.support.gateway import WAIT, LiveGateway, eventually, live_gateway


def petitions(count: int, seed: int) -> list[dict[str, Any]]:
    prefix = f"REC{secrets.token_hex(3).upper()}"  # ids of this test's own, on a shared PostgreSQL
    return generate_petitions(count, seed=seed, prefix=prefix, attachment_ratio=0.5)


@asynccontextmanager
async def gateway_runtime(gateway: LiveGateway) -> AsyncIterator[Runtime]:
    """The gateway's own wiring on its settings, as `pakn-gateway reconcile` builds it."""
    runtime = build_runtime(gateway.settings)
    try:
        yield runtime
    finally:
        runtime.national_client.close()
        await runtime.engine.dispose()


async def push(gateway: LiveGateway, batch: list[dict[str, Any]]) -> None:
    """The normal path: the portal's signed SubmitPetition, each under a MessageId of its own."""
    client = await asyncio.to_thread(gateway.client)
    for petition in batch:
        receipt = await asyncio.to_thread(client.submit_petition, petition)
        assert receipt.Accepted and not receipt.Duplicate


async def test_reconcile_takes_in_what_the_gateway_lacks_and_leaves_the_rest(gateway: LiveGateway) -> None:
    batch = petitions(6, seed=41)
    ids = [p["PetitionId"] for p in batch]
    gateway.portal.recorder.register_petitions(batch)
    await push(gateway, batch[:2])
    for petition_id in ids[:2]:
        await gateway.wait_status(petition_id, "04")
    known_before = {i: await gateway.case(i) for i in ids[:2]}

    async with gateway_runtime(gateway) as runtime:
        report = await runtime.reconciliation.run(limit=4)
        assert (report.pages, report.listed, report.known) == (2, 6, 2), report
        assert report.added == ids[2:] and report.ok and report.differing == []

        # processed like pushed ones: stored as listed, on to the unit's queue (04), statuses to the portal
        for original in batch[2:]:
            await gateway.wait_status(original["PetitionId"], "04")
            async with gateway.uow()() as uow:
                stored = await uow.cases.petition(original["PetitionId"])
            assert stored is not None and stored.content == original["Content"]
            assert stored.sender.full_name == original["Sender"]["FullName"]
            assert len(stored.attachments) == len(original.get("Attachments", {}).get("Attachment", []))
        for petition_id in ids[2:]:
            await eventually(
                lambda i=petition_id: _codes_reached(gateway, i, ["01", "03", "04"]),
                WAIT,
                f"the portal never heard 01, 03, 04 for {petition_id}",
            )
        for petition_id, before in known_before.items():
            assert await gateway.case(petition_id) == before  # the known ones untouched

        again = await runtime.reconciliation.run(limit=4)
        assert (again.listed, again.known, again.added, again.ok) == (6, 6, [], True)

    lists = [r for r in gateway.portal.recorder.received if r.operation == "ListPetitions"]
    assert len(lists) == 4  # two runs of two pages, signed by the ministry and verified by the portal
    assert {(r.verdict, r.outcome, r.sender) for r in lists} == {("valid", "listed", MOLISA)}
    async with gateway.engine.connect() as connection:
        logged = (
            await connection.execute(
                select(MessageLogRow.direction, MessageLogRow.signature_verdict, MessageLogRow.outcome)
                .where(MessageLogRow.operation.like("ListPetitions%"))
                .order_by(MessageLogRow.id)
            )
        ).all()
    # the message log keeps every query as sent and every page as received, with its verdict
    assert [tuple(row) for row in logged] == [
        ("out", "signed", "listed:4"),
        ("in", "valid", "listed:4"),
        ("out", "signed", "listed:2"),
        ("in", "valid", "listed:2"),
    ] * 2


async def _codes_reached(gateway: LiveGateway, petition_id: str, codes: list[str]) -> bool | None:
    reached = [code for _, code in gateway.portal.recorder.statuses(petition_id)]
    return True if reached == codes else None


class DownAfterFirstPage:
    """The real client; once the first page is in, the portal goes down (HTTP 503)."""

    def __init__(self, runtime: Runtime, faults: SimFaults) -> None:
        self._client = runtime.national_client
        self._faults = faults

    async def list_petitions(
        self, *, organ_id: str, since: datetime | None, cursor: str | None, limit: int
    ) -> PetitionPage:
        page = await self._client.list_petitions(organ_id=organ_id, since=since, cursor=cursor, limit=limit)
        self._faults.down = True
        return page


async def test_an_outage_mid_run_keeps_what_was_added_and_the_next_run_finishes(
    sqlite_gateway: LiveGateway,
) -> None:
    gateway = sqlite_gateway
    batch = petitions(5, seed=42)
    ids = [p["PetitionId"] for p in batch]
    gateway.portal.recorder.register_petitions(batch)
    async with gateway_runtime(gateway) as runtime:
        settings = gateway.settings
        interrupted = Reconciliation(
            listing=DownAfterFirstPage(runtime, gateway.portal.faults),
            intake=runtime.intake,
            uow=runtime.uow,
            decode=PulledPetitionDecoder(
                load_schema(), max_bytes=settings.max_body_bytes, max_depth=settings.max_xml_depth
            ),
            ministry_id=settings.ministry_id,
            national_id=settings.national_id,
            clock=lambda: datetime.now(VIETNAM),
        )
        try:
            report = await interrupted.run(limit=2)
        finally:
            gateway.portal.faults.down = False
        assert report.error is not None and report.error.code == "HTTP.503", report
        assert (report.pages, report.added, report.ok) == (1, ids[:2], False)
        for petition_id in ids[:2]:
            assert await gateway.case(petition_id) is not None
        for petition_id in ids[2:]:
            assert await gateway.case(petition_id) is None

        finished = await runtime.reconciliation.run(limit=2)
    assert (finished.known, finished.added, finished.ok) == (2, ids[2:], True)
    for petition_id in ids:
        await gateway.wait_status(petition_id, "04")


async def test_the_gateway_reconciles_by_itself_and_survives_a_failed_run(tmp_path: Path) -> None:
    async with live_gateway(tmp_path, sqlite_url(tmp_path), reconcile_interval_seconds=0.3) as gateway:
        portal = gateway.portal
        portal.faults.down = True
        await eventually(
            lambda: _list_refused(gateway), WAIT, "the schedule never asked the portal for its list"
        )
        batch = petitions(3, seed=43)
        portal.recorder.register_petitions(batch)
        portal.faults.down = False
        for petition in batch:  # the failed run was logged; a later one took the petitions in
            await gateway.wait_status(petition["PetitionId"], "04")
        async with gateway.uow()() as uow:
            counts = await uow.cases.count_by_status()
        assert sum(counts.values()) == 3


async def _list_refused(gateway: LiveGateway) -> bool | None:
    received = gateway.portal.recorder.received
    return True if any(r.operation == "ListPetitions" and r.outcome == "down" for r in received) else None


async def test_since_leaves_out_older_petitions(sqlite_gateway: LiveGateway) -> None:
    gateway = sqlite_gateway
    now = datetime.now(VIETNAM)
    older = generate_petitions(2, seed=44, prefix="RECOLD", now=now - timedelta(days=60))
    newer = petitions(2, seed=45)
    gateway.portal.recorder.register_petitions(older + newer)
    async with gateway_runtime(gateway) as runtime:
        report = await runtime.reconciliation.run()  # the default look-back: 30 days
    assert report.added == [p["PetitionId"] for p in newer] and report.listed == 2
    assert await gateway.case(older[0]["PetitionId"]) is None
