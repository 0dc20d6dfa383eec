"""The relaying instance woken across processes on real PostgreSQL: two instances (two engines on one
database, as two processes would have), each a `RelayLeadership` and an `OutboxNotifier`. The one
standing by NOTIFYs after its commits; the leader, LISTENing on its lock connection, wakes at once —
not at its poll. Also: a burst of wakes is a few notifies, the leader's own commits send none, the
listener goes with the lead, and a database that is down or restarted costs no exception."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_engine
from connectors.db.outbox_notify import OutboxNotifier
from connectors.db.relay_leadership import RelayLeadership
from tests.support.databases import PG_URL, fresh_pg_database
from tests.support.gateway import eventually
from tests.support.gateway_process import free_port

WAKE_WITHIN = 2.0  # the poll it replaces would be PAKN_OUTBOX_POLL_SECONDS; a leader here has none


@dataclass
class Instance:
    """One gateway instance's share of the relay: its lead, its notifier, the wakes it received."""

    engine: AsyncEngine
    leadership: RelayLeadership
    notifier: OutboxNotifier
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    wakes: list[float] = field(default_factory=list)  # monotonic times of each wake
    lost: asyncio.Event | None = None
    holding: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.wakes.append(time.monotonic())

    def start(self) -> None:
        self.holding = asyncio.create_task(self._hold())

    async def _hold(self) -> None:
        # as BrokerLink does: hold the lead until stopped, the wake wired to the relay
        async with self.leadership.hold(self.stop, wake=self.wake) as lost:
            self.lost = lost
            if lost is not None:
                await self.stop.wait()

    async def end(self) -> None:
        self.stop.set()
        if self.holding is not None:
            await asyncio.wait_for(self.holding, 10)
        await self.notifier.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_pg_database(PG_URL) as url:
        yield url


@contextlib.asynccontextmanager
async def instances(url: str, count: int = 2) -> AsyncIterator[list[Instance]]:
    made = []
    try:
        for _ in range(count):
            engine = make_engine(url)
            # quick checks and retries: the LISTEN must live beside the watch's SELECT 1s
            leadership = RelayLeadership(engine, retry_seconds=0.2, check_seconds=0.2)
            made.append(
                Instance(engine, leadership, OutboxNotifier(engine, relays_here=_leading(leadership)))
            )
        yield made
    finally:
        for instance in made:
            await instance.end()
            await instance.engine.dispose()


def _leading(leadership: RelayLeadership) -> Callable[[], bool]:
    return lambda: leadership.leading


async def leader_and_standby(pair: list[Instance]) -> tuple[Instance, Instance]:
    first, second = pair
    first.start()
    await eventually(_true(lambda: first.leadership.leading), 10, "the first instance never led")
    second.start()
    await asyncio.sleep(0.5)  # it tried the lock at least once: standing by
    assert not second.leadership.leading
    return first, second


def _woken_more(instance: Instance, than: int) -> Callable[[], bool]:
    return lambda: len(instance.wakes) > than


def _true(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def check() -> bool | None:
        return True if condition() else None

    return check


async def test_the_standby_instances_commit_wakes_the_leader_at_once(pg_url: str) -> None:
    async with instances(pg_url) as pair:
        leader, standby = await leader_and_standby(pair)
        await asyncio.sleep(0.7)  # several of the watch's SELECT 1 on the listening connection
        for _ in range(3):  # each time, not only the first
            before = len(leader.wakes)
            sent_at = time.monotonic()
            standby.notifier.wake()
            await eventually(_true(_woken_more(leader, before)), WAKE_WITHIN, "not woken")
            assert leader.wakes[-1] - sent_at < WAKE_WITHIN
            await asyncio.sleep(0.5)  # watches in between
        assert leader.lost is not None and not leader.lost.is_set()  # the watch still holds the lead
        assert standby.wakes == []  # standing by: nothing listens there

        # the leader's own commits: its in-process wake suffices, no notify is sent
        quiet = len(leader.wakes)
        leader.notifier.wake()
        await asyncio.sleep(0.5)
        assert leader.notifier.sent == 0
        assert len(leader.wakes) == quiet


async def test_a_burst_of_wakes_is_a_few_notifies(pg_url: str) -> None:
    async with instances(pg_url) as pair:
        leader, standby = await leader_and_standby(pair)
        notifier = standby.notifier
        for _ in range(50):  # fifty commits before the notify goes: that one notify covers them all
            notifier.wake()
        await eventually(_true(lambda: len(leader.wakes) >= 1), WAKE_WITHIN, "not woken")
        await asyncio.sleep(0.5)  # any further notify would have arrived
        assert len(leader.wakes) == notifier.sent == 1

        notifier.wake()
        await asyncio.sleep(0)  # that notify is in flight now
        for _ in range(50):  # fifty commits meanwhile: exactly one notify more, after it
            notifier.wake()
        await eventually(_true(lambda: len(leader.wakes) >= 3), WAKE_WITHIN, "not woken twice more")
        await asyncio.sleep(0.5)
        assert len(leader.wakes) == notifier.sent == 3

        for _ in range(100):  # spread over the loop, as commits of concurrent requests come
            notifier.wake()
            await asyncio.sleep(0)
        await asyncio.sleep(0.5)
        assert len(leader.wakes) == notifier.sent
        assert 4 <= notifier.sent <= 3 + 20, notifier.sent


async def test_the_listener_goes_with_the_lead_and_the_next_leader_listens(pg_url: str) -> None:
    async with instances(pg_url) as pair:
        first, second = await leader_and_standby(pair)
        first.stop.set()  # the first instance stops relaying: its lock and its LISTEN go
        assert first.holding is not None
        await asyncio.wait_for(first.holding, 10)
        await eventually(_true(lambda: second.leadership.leading), 10, "the second instance never led")
        async with first.engine.connect() as connection:  # the lock connection, back in the pool
            assert (
                await connection.execute(text("SELECT count(*) FROM pg_listening_channels()"))
            ).scalar() == 0
        first.notifier.wake()  # standing by now: its commits wake the new leader
        await eventually(_true(lambda: len(second.wakes) == 1), WAKE_WITHIN, "the new leader was not woken")
        assert first.wakes == []


async def test_a_notifier_reconnects_after_its_connection_is_killed(pg_url: str) -> None:
    async with instances(pg_url) as pair:
        leader, standby = await leader_and_standby(pair)
        standby.notifier.wake()
        await eventually(_true(lambda: len(leader.wakes) == 1), WAKE_WITHIN, "not woken")
        async with leader.engine.connect() as admin:  # as a database restart would, for that session
            killed = await admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')"
                )
            )  # every session but this one and the leader's lock: the notifier's among them
            assert len(killed.scalars().all()) >= 1
            await admin.commit()
        standby.notifier.wake()  # the held connection is dead: sent at once on a fresh one
        await eventually(_true(lambda: len(leader.wakes) == 2), WAKE_WITHIN, "not woken after the kill")
        assert standby.notifier.sent == 2


async def test_a_notifier_on_an_unreachable_database_warns_once_and_raises_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing")  # nobody there
    notifier = OutboxNotifier(engine, send_timeout=2.0)
    try:
        with caplog.at_level(logging.WARNING, logger="connectors.db.outbox_notify"):
            for _ in range(5):  # five commits, each after the previous notify failed
                notifier.wake()
                notifier.wake()
                await asyncio.sleep(0.3)
            await notifier.close()  # nothing in flight left, no exception
        warnings = [r for r in caplog.records if r.name == "connectors.db.outbox_notify"]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "outbox notify failed" in warnings[0].getMessage()
        assert notifier.sent == 0
        notifier.wake()  # closed: ignored
    finally:
        await engine.dispose()


async def test_on_sqlite_nothing_is_sent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/store/gateway.db")
    notifier = OutboxNotifier(engine)
    try:
        notifier.wake()
        await asyncio.sleep(0.1)
        assert notifier.sent == 0
        await notifier.close()
    finally:
        await engine.dispose()
