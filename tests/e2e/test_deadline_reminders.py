"""Deadlines end to end (real HTTP, real RabbitMQ, SQLite and PostgreSQL): a petition whose portal DueAt
is seconds away keeps that due date, and its unit's queue receives exactly one reminder per
threshold — "2 working days before" at once, "overdue" when DueAt passes — however many more times
the schedule runs, and when a second gateway instance watches the same store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from connectors.amqp.topology import unit_queue_name
from connectors.db.tables import CaseRow
from gateway.deadlines.config import load_policy
from gateway.deadlines.reminders import DeadlineWatch
from gateway.domain.deadlines import Threshold
from gateway.domain.working_days import VIETNAM
from gateway.routing_config import load_config
from schemas import schema_dir
from tests.e2e.unit_side import queue_depth, seeded_petition, take
from tests.support.gateway import LiveGateway, live_gateway

pytestmark = pytest.mark.e2e

ROUND = 0.3  # PAKN_DEADLINE_CHECK_SECONDS of the gateway under test
REMINDERS = Draft202012Validator(
    json.loads((schema_dir() / "case-reminder-1.schema.json").read_text(encoding="utf-8")),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


@pytest.fixture
async def fast_deadlines(any_db_url: str, tmp_path: Path) -> AsyncIterator[LiveGateway]:
    async with live_gateway(tmp_path, any_db_url, deadline_check_seconds=ROUND) as live:
        yield live


async def test_one_reminder_per_threshold_and_the_portals_due_at_wins(fast_deadlines: LiveGateway) -> None:
    gw = fast_deadlines
    near = seeded_petition(61)
    near["Kind"] = "KIEN_NGHI"  # its own limit would be 10 working days: the portal's DueAt must win
    due_at = (datetime.now(VIETNAM) + timedelta(seconds=6)).replace(microsecond=0)
    near["DueAt"] = due_at
    far = seeded_petition(62)
    far["Kind"] = "KIEN_NGHI"
    far.pop("DueAt", None)  # no DueAt: 10 working days from now, no reminder during this test
    client = await asyncio.to_thread(gw.client)
    for p in (near, far):
        receipt = await asyncio.to_thread(client.submit_petition, p)
        assert receipt.Accepted
    case = await gw.wait_status(near["PetitionId"], "04")
    queue = unit_queue_name(case.unit_code)

    async with gw.engine.connect() as c:
        rows = (
            await c.execute(
                sa.select(CaseRow.petition_id, CaseRow.due_at, CaseRow.due_source).where(
                    CaseRow.petition_id.in_([near["PetitionId"], far["PetitionId"]])
                )
            )
        ).all()
    stored = {pid: (due, source) for pid, due, source in rows}
    assert stored[near["PetitionId"]] == (due_at, "portal")
    far_due, far_source = stored[far["PetitionId"]]
    assert (
        far_source == "calendar"
        and far_due is not None
        and far_due - datetime.now(VIETNAM) > timedelta(days=9)
    )

    # both cases, then "before:2" for the near one at once, then "overdue" once its DueAt has passed
    messages = await take(gw.settings.amqp_url, queue, 4, within=30)
    bodies = [json.loads(m.body) for m in messages]
    assert sorted(b["type"] for b in bodies) == ["pakn.case.new"] * 2 + ["pakn.case.reminder"] * 2
    reminders = [(b, m) for b, m in zip(bodies, messages, strict=True) if b["type"] == "pakn.case.reminder"]
    assert [b["reminder"]["threshold"] for b, _ in reminders] == ["before:2", "overdue"]
    for body, message in reminders:
        REMINDERS.validate(body)
        assert body["petition_id"] == near["PetitionId"]
        assert body["reminder"]["due_at"] == due_at.isoformat() and body["reminder"]["due_source"] == "portal"
        assert (message.message_id, message.correlation_id, message.type) == (
            body["message_id"],
            near["PetitionId"],
            "pakn.case.reminder",
        )
        assert message.routing_key == f"unit.{case.unit_code}.case.reminder"
    assert reminders[1][0]["reminder"]["overdue"] is True
    assert datetime.fromisoformat(reminders[1][0]["issued_at"]) > due_at

    # a second instance on the same store, and the gateway's own schedule, run again: nothing more
    watch = DeadlineWatch(
        gw.uow(),
        load_policy(gw.settings.config_dir),
        load_config(gw.settings.config_dir).routing,
        [Threshold.before(2), Threshold.overdue()],
        lambda: datetime.now(VIETNAM),
    )
    for _ in range(3):
        assert (await watch.run_once()).reminded == 0
    await asyncio.sleep(ROUND * 8)
    assert await queue_depth(gw.settings.amqp_url, queue) == 0
