"""The national sender records its outcomes in group transactions (SQLite and PostgreSQL): outcomes
that arrive together share a commit, each is stored as it would have been alone, a bad one fails
only itself, and with the store down each delivery is told and its message is sent again later
with the same MessageId.

The portal here is an in-process stand-in that answers as scripted: what is under test is the
store side (the real client against the simulator is in test_national_client.py and tests/e2e)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_engine, make_sessions
from connectors.db.tables import NationalOutboxRow
from connectors.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from gateway.domain.exchange import NationalMessage, Receipt
from gateway.outbound.circuit_breaker import CircuitBreaker
from gateway.outbound.national_sender import NationalSender
from gateway.ports import NationalRefused, NationalUnavailable
from tests.support.national_outbox import fill

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = 300.0
NOT_RECORDED = "outcome not recorded, it will be sent again"


class Portal:
    """Accepts unless scripted per petition; `gate`: every call waits until that many are in flight,
    so their outcomes all arrive at once."""

    def __init__(self, *, gate: int = 0) -> None:
        self.calls: list[str] = []
        self.script: dict[str, Exception] = {}
        self.on_call: Callable[[], None] = lambda: None
        self._gate = gate
        self._open = asyncio.Event()

    async def send(self, message: NationalMessage) -> Receipt:
        self.calls.append(message.message_id)
        self.on_call()
        if self._gate and len(self.calls) >= self._gate:
            self._open.set()
        if self._gate:
            await self._open.wait()
        await asyncio.sleep(0)
        error = self.script.get(message.petition_id)
        if error is not None:
            raise error
        return Receipt(message.message_id, f"RC-{message.message_id[:8]}", True, False)


class Commits:
    """COMMITs the engine actually sent, whoever asked."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "commit", self._one)

    def _one(self, _connection: object) -> None:
        self.count += 1


class Switchable:
    """The real store, or (`down`) a real store that cannot be reached."""

    def __init__(self, up: SqlUnitOfWorkFactory, down: SqlUnitOfWorkFactory) -> None:
        self.up, self.unreachable, self.down = up, down, False

    def __call__(self) -> SqlUnitOfWork:
        return (self.unreachable if self.down else self.up)()


async def rows(db_uow: SqlUnitOfWorkFactory) -> dict[tuple[str, int], NationalOutboxRow]:
    """Every row by (petition, Seq), read in a transaction of its own: what is committed."""
    async with db_uow() as uow:
        found = (await uow.session.execute(select(NationalOutboxRow))).scalars().all()
    return {(r.petition_id, int(json.loads(r.payload)["Seq"])): r for r in found}


def sender(uow: object, portal: Portal, clock: Callable[[], datetime], *, concurrency: int) -> NationalSender:
    return NationalSender(
        uow,  # type: ignore[arg-type]  # a UnitOfWorkFactory
        portal,
        clock=clock,
        breaker=CircuitBreaker(threshold=1000, reset_seconds=30),  # never opens here
        concurrency=concurrency,
        base_backoff=1.0,
        max_backoff=300.0,
        lease_seconds=LEASE,
        rand=lambda: 1.0,  # the top of the jitter range: deterministic delays
        unexpected_delays=(10.0, 60.0),
    )


@pytest.fixture
async def unreachable(db_url: str, tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A store that refuses every connection: nothing listens on port 1; a directory is no database."""
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/test" if db_url.startswith("postgresql") else (
        f"sqlite+aiosqlite:///{tmp_path}"
    )
    engine = make_engine(url)
    try:
        yield SqlUnitOfWorkFactory(make_sessions(engine))
    finally:
        await engine.dispose()


async def test_outcomes_arriving_together_share_a_commit_and_each_is_stored_as_alone(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    n = 24
    await fill(db_uow, n)
    portal = Portal(gate=n)  # all the round's calls in flight, then all their outcomes at once
    for k in range(0, n, 6):  # 4 of each kind besides the deliveries
        portal.script[f"P-{k + 1}"] = NationalRefused("Client.UnknownPetition", "Không tìm thấy / not found")
        portal.script[f"P-{k + 2}"] = NationalUnavailable("Server.Unavailable", "tạm ngừng / down")
        portal.script[f"P-{k + 3}"] = RuntimeError("bug")
    commits = Commits(db_migrated)
    report = await sender(db_uow, portal, lambda: NOW, concurrency=n)._round()
    assert commits.count - 1 < n // 4  # the claim, then the outcomes in a group or two, not 24
    assert (report.taken, report.delivered, report.dead, report.rescheduled) == (n, 12, 4, 8)

    stored = await rows(db_uow)
    for k in range(n):
        head, behind = stored[(f"P-{k}", 1)], stored[(f"P-{k}", 2)]
        kind = k % 6
        if kind == 1:
            assert (head.state, head.attempts, head.last_error) == (
                "dead", 1, "Client.UnknownPetition: Không tìm thấy / not found"
            )
        elif kind == 2:
            assert (head.state, head.attempts, head.unexpected_failures) == ("pending", 1, 0)
            assert head.last_error == "Server.Unavailable: tạm ngừng / down"
            assert head.next_attempt_at == NOW + timedelta(seconds=1)  # backoff, not the lease
        elif kind == 3:
            assert (head.state, head.attempts, head.unexpected_failures) == ("pending", 1, 1)
            assert head.last_error == "Gateway.UnexpectedError: RuntimeError: bug"
            assert head.next_attempt_at == NOW + timedelta(seconds=10)  # the ladder's first step
        else:
            assert (head.state, head.delivered_at, head.last_error) == ("delivered", NOW, None)
        # behind its head, untouched: never claimed, never tried
        assert (behind.state, behind.attempts, behind.next_attempt_at) == ("pending", 0, NOW)


async def test_a_steady_flow_of_outcomes_takes_fewer_commits_than_outcomes(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    n = 40
    await fill(db_uow, n)
    portal = Portal()  # answers at once: outcomes arrive while the previous group is being written
    commits = Commits(db_migrated)
    assert await sender(db_uow, portal, lambda: NOW, concurrency=8).run_once() == n
    assert commits.count - 1 < n // 2
    stored = await rows(db_uow)
    assert [stored[(f"P-{k}", 1)].state for k in range(n)] == ["delivered"] * n


async def test_a_bad_outcome_in_a_group_fails_only_itself_and_is_sent_again_later(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    n = 8
    await fill(db_uow, n)
    stored = await rows(db_uow)
    bad = stored[("P-5", 1)].id
    # a forced error on one row's outcome write (not on its claim, which changes neither column)
    async with db_uow() as uow:
        if db_url.startswith("postgresql"):
            await uow.session.execute(text(
                "CREATE FUNCTION forced_failure() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'forced failure'; END $$"
            ))
            await uow.session.execute(text(
                f"CREATE TRIGGER fail_one BEFORE UPDATE ON national_outbox FOR EACH ROW WHEN "
                f"(OLD.id = {bad} AND (NEW.state <> OLD.state OR NEW.attempts <> OLD.attempts)) "
                "EXECUTE FUNCTION forced_failure()"
            ))
        else:
            await uow.session.execute(text(
                f"CREATE TRIGGER fail_one BEFORE UPDATE ON national_outbox WHEN OLD.id = {bad} AND "
                "(NEW.state <> OLD.state OR NEW.attempts <> OLD.attempts) "
                "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
            ))
        await uow.commit()
    portal = Portal(gate=n)
    portal.script["P-6"] = NationalUnavailable("Server.Unavailable", "down")  # a reschedule too
    clock = [NOW]
    worker = sender(db_uow, portal, lambda: clock[0], concurrency=n)
    commits = Commits(db_migrated)
    with caplog.at_level(logging.INFO, logger="gateway"):
        report = await worker._round()
    # the claim; the group failed (rolled back); then each outcome alone, the bad one failing
    assert commits.count == 1 + (n - 1)
    assert (report.delivered, report.rescheduled) == (n - 2, 1)
    not_recorded = [r for r in caplog.records if NOT_RECORDED in r.getMessage()]
    assert [r.getMessage().split("(outbox ")[1].split(")")[0] for r in not_recorded] == [str(bad)]
    assert any("a batch of 8 failed" in r.getMessage() for r in caplog.records)

    stored = await rows(db_uow)
    head = stored[("P-5", 1)]
    assert (head.state, head.attempts, head.delivered_at) == ("pending", 0, None)
    assert head.next_attempt_at == NOW + timedelta(seconds=LEASE)  # still claimed: nobody sends it now
    assert stored[("P-6", 1)].attempts == 1 and stored[("P-6", 1)].state == "pending"
    assert [stored[(f"P-{k}", 1)].state for k in (0, 1, 2, 3, 4, 7)] == ["delivered"] * 6

    async with db_uow() as uow:
        on_table = " ON national_outbox" if db_url.startswith("postgresql") else ""
        await uow.session.execute(text(f"DROP TRIGGER fail_one{on_table}"))
        await uow.commit()
    clock[0] = NOW + timedelta(seconds=LEASE)  # its lease is over: due again, with its MessageId
    portal.script.clear()
    assert portal.calls.count(head.message_id) == 1
    await worker.run_once()
    assert portal.calls.count(head.message_id) == 2  # the same MessageId: the portal says Duplicate
    assert (await rows(db_uow))[("P-5", 1)].state == "delivered"


async def test_with_the_store_down_each_delivery_is_told_and_sent_again_with_its_message_id(
    db_uow: SqlUnitOfWorkFactory, unreachable: SqlUnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    n = 6
    await fill(db_uow, n)
    store = Switchable(db_uow, unreachable)
    portal = Portal(gate=n)
    portal.script["P-2"] = NationalUnavailable("Server.Unavailable", "down")
    portal.on_call = lambda: setattr(store, "down", True)  # claimed, then the store goes away
    clock = [NOW]
    worker = sender(store, portal, lambda: clock[0], concurrency=n)
    with caplog.at_level(logging.INFO, logger="gateway"):
        report = await worker._round()
    assert (report.taken, report.delivered) == (n, 0)
    not_recorded = [r for r in caplog.records if NOT_RECORDED in r.getMessage()]
    assert len(not_recorded) == n  # each delivery told, each with its own error
    assert all(r.exc_info and "store unavailable" in str(r.exc_info[1]) for r in not_recorded)

    store.down = False
    stored = await rows(db_uow)
    heads = [stored[(f"P-{k}", 1)] for k in range(n)]
    assert [(h.state, h.attempts) for h in heads] == [("pending", 0)] * n  # nothing was recorded
    first = list(portal.calls)

    clock[0] = NOW + timedelta(seconds=LEASE)  # the claims lapse: the same messages are due again
    portal.on_call = lambda: None
    portal.script.clear()
    assert await worker.run_once() == n
    assert sorted(portal.calls[n:]) == sorted(first)  # the same MessageIds: the portal says Duplicate
    stored = await rows(db_uow)
    assert [stored[(f"P-{k}", 1)].state for k in range(n)] == ["delivered"] * n
