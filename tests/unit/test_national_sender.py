"""The national sender: order per petition, dead letters, duplicates, backoff, breaker, store errors."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

import pytest

from gateway.domain.exchange import NationalMessage, Receipt
from gateway.outbound.circuit_breaker import BreakerState, CircuitBreaker
from gateway.outbound.national_sender import NationalSender, backoff_delay
from gateway.ports import NationalRefused, NationalUnavailable, StoreError
from tests.unit.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory, World
from tests.unit.samples import WHEN

pytestmark = pytest.mark.unit

PERSONAL = "Nguyễn Thị Hường, CCCD 001190012345"  # must never reach a log line


# --------------------------------------------------------------------------- fakes


class Clock:
    def __init__(self) -> None:
        self.now = WHEN

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Monotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TrackingUow(FakeUnitOfWork):
    """Counts open transactions, so the port can check none is open during a call."""

    def __init__(self, world: World, factory: Store) -> None:
        super().__init__(world)
        self._factory = factory

    async def __aenter__(self) -> Self:
        self._factory.open += 1
        if self._factory.fail_next:
            self._factory.fail_next -= 1
            self._factory.open -= 1
            raise StoreError("database is down")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._factory.open -= 1

    async def commit(self) -> None:
        if self._factory.fail_commits:
            self._factory.fail_commits -= 1
            raise StoreError("disk full")
        await super().commit()


class Store(FakeUnitOfWorkFactory):
    def __init__(self) -> None:
        super().__init__()
        self.open = 0
        self.fail_next = 0  # transactions that fail to start
        self.fail_commits = 0  # commits that fail

    def __call__(self) -> TrackingUow:
        return TrackingUow(self.world, self)

    def rows(self, petition_id: str | None = None) -> list[NationalMessage]:
        return [m for m in self.world.national if petition_id is None or m.petition_id == petition_id]

    def row(self, message_id: str) -> NationalMessage:
        return next(m for m in self.world.national if m.message_id == message_id)


class ScriptedPort:
    """Accepts everything unless scripted; records each call and checks no transaction is open."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[str] = []
        self.script: dict[str, list[Receipt | Exception]] = {}
        self.down = False
        self.in_flight = 0
        self.max_in_flight = 0
        self.on_call: Callable[[], None] = lambda: None

    def then(self, message_id: str, *outcomes: Receipt | Exception) -> None:
        self.script.setdefault(message_id, []).extend(outcomes)

    async def send(self, message: NationalMessage) -> Receipt:
        assert self.store.open == 0, "a transaction is open across a network call"
        self.calls.append(message.message_id)
        self.on_call()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            queued = self.script.get(message.message_id)
            if queued:
                outcome = queued.pop(0)
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            if self.down:
                raise NationalUnavailable("HTTP.503", "503 Service Unavailable")
            return accepted(message.message_id)
        finally:
            self.in_flight -= 1


def accepted(message_id: str, *, duplicate: bool = False) -> Receipt:
    return Receipt(message_id, f"RC-{message_id[:8]}", True, duplicate)


def unavailable() -> NationalUnavailable:
    return NationalUnavailable("Server.Unavailable", "Cổng quốc gia tạm thời không phục vụ được")


def refused() -> NationalRefused:
    return NationalRefused("Client.UnknownPetition", "Không tìm thấy / Petition not found")


async def queue(store: Store, petition_id: str, count: int) -> list[str]:
    """`count` statuses for a petition, in order; their MessageIds."""
    ids = []
    async with store() as uow:
        for seq in range(1, count + 1):
            message_id = str(uuid.uuid4())
            payload = {"PetitionId": petition_id, "Seq": seq, "Description": PERSONAL}
            await uow.national.add(NationalMessage(petition_id, "ReceiveStatus", message_id, payload, WHEN))
            ids.append(message_id)
        await uow.commit()
    return ids


class Setup:
    def __init__(
        self,
        *,
        threshold: int = 5,
        concurrency: int = 8,
        max_backoff: float = 300.0,
        poll: float = 0.01,
        unexpected_delays: tuple[float, ...] = (10.0, 60.0, 600.0, 3600.0),
    ) -> None:
        self.store = Store()
        self.port = ScriptedPort(self.store)
        self.clock = Clock()
        self.monotonic = Monotonic()
        self.breaker = CircuitBreaker(threshold=threshold, reset_seconds=30, clock=self.monotonic)
        self.sender = NationalSender(
            self.store,
            self.port,
            clock=self.clock,
            breaker=self.breaker,
            concurrency=concurrency,
            base_backoff=1.0,
            max_backoff=max_backoff,
            poll_seconds=poll,
            rand=lambda: 1.0,  # the top of the jitter range: deterministic delays
            unexpected_delays=unexpected_delays,
        )

    def states(self, ids: list[str]) -> list[str]:
        return [self.store.row(i).state for i in ids]


# --------------------------------------------------------------------------- order and outcomes


async def test_everything_due_is_delivered_one_per_petition_per_round() -> None:
    s = Setup()
    a = await queue(s.store, "P-A", 3)
    b = await queue(s.store, "P-B", 2)
    assert await s.sender.run_once() == 2
    assert s.port.calls == [a[0], b[0]]
    assert await s.sender.run_once() == 2
    assert await s.sender.run_once() == 1
    assert await s.sender.run_once() == 0
    assert s.port.calls == [a[0], b[0], a[1], b[1], a[2]]
    assert s.states(a + b) == ["delivered"] * 5


async def test_a_transient_failure_holds_back_its_petition_only() -> None:
    s = Setup()
    a = await queue(s.store, "P-A", 2)
    b = await queue(s.store, "P-B", 2)
    s.port.then(a[0], unavailable())
    assert await s.sender.run_once() == 1
    head = s.store.row(a[0])
    assert (head.state, head.attempts) == ("pending", 1)
    assert head.last_error == "Server.Unavailable: Cổng quốc gia tạm thời không phục vụ được"
    assert head.next_attempt_at == s.clock.now + timedelta(seconds=1)

    assert await s.sender.run_once() == 1  # P-B goes on; P-A's second message does not overtake
    assert a[1] not in s.port.calls
    assert s.states(b) == ["delivered", "delivered"]

    s.clock.advance(1)
    assert await s.sender.run_once() == 1
    assert await s.sender.run_once() == 1
    assert [c for c in s.port.calls if c in a] == [a[0], a[0], a[1]]
    assert s.states(a) == ["delivered", "delivered"]


async def test_a_permanent_refusal_is_dead_with_its_reason_and_holds_back_the_petition() -> None:
    s = Setup()
    a = await queue(s.store, "P-A", 2)
    b = await queue(s.store, "P-B", 1)
    s.port.then(a[0], refused())
    assert await s.sender.run_once() == 1
    dead = s.store.row(a[0])
    assert dead.state == "dead"
    assert dead.last_error == "Client.UnknownPetition: Không tìm thấy / Petition not found"
    assert s.states(b) == ["delivered"]

    s.clock.advance(3600)
    assert await s.sender.run_once() == 0  # held: the later message must not overtake the dead one
    assert a[1] not in s.port.calls
    assert s.breaker.state is BreakerState.CLOSED  # a refusal is an answer: the portal is up

    async with s.store() as uow:  # the operator fixes the cause and replays
        assert await uow.national.replay(dead.id or 0, s.clock.now)
        await uow.commit()
    assert await s.sender.run_once() == 1
    assert await s.sender.run_once() == 1
    assert [c for c in s.port.calls if c in a] == [a[0], a[0], a[1]]


async def test_a_duplicate_receipt_counts_as_delivered() -> None:
    s = Setup()
    [m] = await queue(s.store, "P-A", 1)
    s.port.then(m, accepted(m, duplicate=True))
    assert await s.sender.run_once() == 1
    assert s.states([m]) == ["delivered"]


async def test_a_receipt_not_accepted_is_never_delivered() -> None:
    s = Setup()
    [m] = await queue(s.store, "P-A", 1)
    s.port.then(m, Receipt(m, "RC-1", False, False, "Client.Rejected", "Từ chối / rejected"))
    assert await s.sender.run_once() == 0
    row = s.store.row(m)
    assert (row.state, row.last_error) == ("dead", "Client.Rejected: Từ chối / rejected")


async def test_an_unexpected_error_of_the_port_is_retried_not_dead() -> None:
    s = Setup()
    [m] = await queue(s.store, "P-A", 1)
    s.port.then(m, RuntimeError("bug"))
    assert await s.sender.run_once() == 0
    row = s.store.row(m)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error is not None and row.last_error.startswith("Gateway.UnexpectedError")


async def test_an_unexpected_error_climbs_the_retry_ladder_then_is_dead_and_never_opens_the_breaker() -> None:
    # A message only this gateway cannot send (a bug, a payload the client chokes on) is no outage:
    # it must neither be retried for ever nor open the breaker for every other petition.
    s = Setup(threshold=2, unexpected_delays=(10.0, 60.0))
    a = await queue(s.store, "P-A", 2)
    b = await queue(s.store, "P-B", 3)
    s.port.then(
        a[0],
        RuntimeError("bug"),
        NationalUnavailable("Gateway.UnexpectedError", "ValueError: All strings must be XML compatible"),
        RuntimeError("bug"),
    )
    assert await s.sender.run_once() == 1
    row = s.store.row(a[0])
    assert (row.state, row.unexpected_failures, row.next_attempt_at) == (
        "pending", 1, s.clock.now + timedelta(seconds=10)
    )
    s.clock.advance(10)
    assert await s.sender.run_once() == 1
    row = s.store.row(a[0])
    assert (row.state, row.unexpected_failures, row.next_attempt_at) == (
        "pending", 2, s.clock.now + timedelta(seconds=60)
    )
    assert s.breaker.state is BreakerState.CLOSED  # two failures at threshold 2: not counted
    s.clock.advance(60)
    assert await s.sender.run_once() == 1
    dead = s.store.row(a[0])
    assert dead.state == "dead" and dead.last_error is not None
    assert dead.last_error.startswith("Gateway.UnexpectedError: ") and "3 tries" in dead.last_error
    assert s.states(b) == ["delivered"] * 3 and s.breaker.state is BreakerState.CLOSED
    s.clock.advance(3600)
    assert await s.sender.run_once() == 0  # held back behind its dead head, like a refusal
    assert a[1] not in s.port.calls

    async with s.store() as uow:  # replayed: a fresh start on the ladder
        assert await uow.national.replay(dead.id or 0, s.clock.now)
        await uow.commit()
    s.port.then(a[0], RuntimeError("bug"))
    assert await s.sender.run_once() == 0
    row = s.store.row(a[0])
    assert (row.state, row.unexpected_failures) == ("pending", 1)


async def test_an_outage_after_unexpected_errors_still_only_backs_off() -> None:
    s = Setup(unexpected_delays=(10.0,))
    [m] = await queue(s.store, "P-A", 1)
    s.port.then(m, RuntimeError("bug"), *[unavailable() for _ in range(6)])
    assert await s.sender.run_once() == 0
    for _ in range(3):
        s.clock.advance(3600)
        assert await s.sender.run_once() == 0
    row = s.store.row(m)
    assert (row.state, row.unexpected_failures, row.attempts) == ("pending", 1, 4)


async def test_outcomes_that_arrive_together_share_one_short_transaction() -> None:
    s = Setup()
    [a] = await queue(s.store, "P-A", 1)
    [b] = await queue(s.store, "P-B", 1)
    [c] = await queue(s.store, "P-C", 1)
    s.port.then(c, unavailable())
    before = s.store.world.commits
    await s.sender.run_once()  # the port asserts no transaction is open while it is called
    assert s.store.world.commits - before == 1 + 1  # the claim, then one for the three outcomes
    assert s.states([a, b, c]) == ["delivered", "delivered", "pending"]
    assert s.store.row(c).attempts == 1


async def test_a_group_whose_commit_failed_is_recorded_one_by_one_and_a_failure_is_its_own() -> None:
    s = Setup()
    ids = [(await queue(s.store, f"P-{n}", 1))[0] for n in range(3)]

    def fail_two_commits() -> None:  # once claimed: the group's commit, then the first one's alone
        s.store.fail_commits = 2
        s.port.on_call = lambda: None

    s.port.on_call = fail_two_commits
    before = s.store.world.commits
    assert await s.sender.run_once() == 2
    assert s.store.world.commits - before == 1 + 2  # the claim, then the two that went through alone
    assert s.states(ids) == ["pending", "delivered", "delivered"]
    s.clock.advance(301)  # the one not recorded is sent again once its lease is over
    assert await s.sender.run_once() == 1
    assert s.port.calls == [*ids, ids[0]]


async def test_sends_concurrently_but_within_the_limit() -> None:
    s = Setup(concurrency=3)
    for n in range(10):
        await queue(s.store, f"P-{n}", 1)
    assert await s.sender.run_once() == 10
    assert s.port.max_in_flight == 3


async def test_a_delivery_whose_record_failed_is_resent_and_settled_by_the_duplicate() -> None:
    s = Setup()
    [m] = await queue(s.store, "P-A", 1)
    s.port.then(m, accepted(m), accepted(m, duplicate=True))

    def fail_the_record() -> None:  # the portal accepted, but the gateway could not record it
        s.store.fail_commits = 1
        s.port.on_call = lambda: None

    s.port.on_call = fail_the_record
    assert await s.sender.run_once() == 0
    assert s.store.row(m).state == "pending"
    assert await s.sender.run_once() == 0  # still claimed: nobody sends it while the lease runs
    s.clock.advance(301)  # the claim's lease (300 s by default) is over: due again
    assert await s.sender.run_once() == 1
    assert s.port.calls == [m, m]  # the same MessageId: the portal answers Duplicate
    assert s.store.row(m).state == "delivered"


# --------------------------------------------------------------------------- backoff


def test_backoff_grows_exponentially_and_is_capped() -> None:
    top = [backoff_delay(n, base=1.0, cap=60.0, rand=lambda: 1.0) for n in range(10)]
    assert top == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert backoff_delay(10_000, base=1.0, cap=300.0, rand=lambda: 1.0) == 300.0  # no overflow
    assert backoff_delay(5, base=1.0, cap=60.0, rand=lambda: 0.0) == 0.0  # full jitter: from 0
    assert 0 <= backoff_delay(3, base=1.0, cap=60.0) <= 8


async def test_a_message_that_keeps_failing_backs_off_more_each_time_up_to_the_cap() -> None:
    s = Setup(threshold=100, max_backoff=10.0)
    [m] = await queue(s.store, "P-A", 1)
    s.port.down = True
    waits = []
    for _ in range(6):
        assert await s.sender.run_once() == 0
        row = s.store.row(m)
        assert row.next_attempt_at is not None
        waits.append((row.next_attempt_at - s.clock.now).total_seconds())
        s.clock.now = row.next_attempt_at
    assert waits == [1, 2, 4, 8, 10, 10]
    assert s.store.row(m).attempts == 6


# --------------------------------------------------------------------------- circuit breaker


async def test_the_breaker_opens_after_n_transient_failures_and_stops_calls() -> None:
    s = Setup(threshold=3, concurrency=1)  # one at a time: the breaker sees each failure before the next call
    ids = [(await queue(s.store, f"P-{n}", 1))[0] for n in range(5)]
    s.port.down = True
    assert await s.sender.run_once() == 0
    assert len(s.port.calls) == 3  # the 4th and 5th were not even tried
    assert s.breaker.state is BreakerState.OPEN
    assert [s.store.row(i).attempts for i in ids] == [1, 1, 1, 0, 0]
    assert s.sender.last_report.skipped == 2

    s.clock.advance(3600)  # every message due again, but the breaker is open
    assert await s.sender.run_once() == 0
    assert len(s.port.calls) == 3

    s.port.down = False
    s.monotonic.now += 30  # half-open: the trial succeeds and closes it, the rest follow
    assert await s.sender.run_once() == 5
    assert s.breaker.state is BreakerState.CLOSED


async def test_half_open_lets_one_trial_through_and_its_success_closes() -> None:
    s = Setup(threshold=1, concurrency=8)
    for n in range(4):
        await queue(s.store, f"P-{n}", 1)
    s.port.down = True
    await s.sender.run_once()
    assert s.breaker.state is BreakerState.OPEN
    s.port.down = False
    s.monotonic.now += 30
    s.clock.advance(3600)
    assert await s.sender.run_once() == 1  # the trial only, though 8 could go at once
    assert s.sender.last_report.skipped == 3
    assert s.breaker.state is BreakerState.CLOSED
    assert await s.sender.run_once() == 3


async def test_a_failed_trial_reopens_the_breaker() -> None:
    s = Setup(threshold=1, concurrency=4)
    for n in range(3):
        await queue(s.store, f"P-{n}", 1)
    s.port.down = True
    await s.sender.run_once()
    assert s.breaker.state is BreakerState.OPEN
    s.monotonic.now += 30
    s.clock.advance(3600)
    await s.sender.run_once()
    assert s.sender.last_report.taken == 3
    assert s.sender.last_report.skipped == 2
    assert s.breaker.state is BreakerState.OPEN


# --------------------------------------------------------------------------- the loop


async def test_run_survives_store_errors_and_stops_when_told() -> None:
    s = Setup()
    [m] = await queue(s.store, "P-A", 1)
    s.store.fail_next = 2  # the first two rounds cannot even read the outbox
    stop = asyncio.Event()
    task = asyncio.create_task(s.sender.run(stop))
    await _until(lambda: s.store.row(m).state == "delivered")
    stop.set()
    await asyncio.wait_for(task, 2)
    assert s.port.calls == [m]


async def test_wake_starts_a_round_at_once() -> None:
    s = Setup(poll=60)  # only a wake can make it look again soon
    stop = asyncio.Event()
    task = asyncio.create_task(s.sender.run(stop))
    await asyncio.sleep(0.05)
    [m] = await queue(s.store, "P-A", 1)
    s.sender.wake()
    await _until(lambda: s.store.row(m).state == "delivered", timeout=2)
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_logs_name_petition_and_operation_but_never_payload(caplog: pytest.LogCaptureFixture) -> None:
    s = Setup()
    [a] = await queue(s.store, "P-A", 1)
    [b] = await queue(s.store, "P-B", 1)
    await queue(s.store, "P-C", 1)
    s.port.then(a, refused())
    s.port.then(b, unavailable())
    with caplog.at_level(logging.DEBUG, logger="gateway.outbound.national_sender"):
        await s.sender.run_once()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "P-A" in text and "P-B" in text and "P-C" in text
    assert "ReceiveStatus" in text and "Client.UnknownPetition" in text
    assert "Nguyễn" not in text and "001190012345" not in text


async def _until(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        await asyncio.sleep(0.01)
