"""The circuit breaker in front of the national portal: closed → open → half-open (one trial) → closed."""

from __future__ import annotations

import pytest

from gateway.outbound.circuit_breaker import BreakerState, CircuitBreaker

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(threshold=3, reset_seconds=30.0, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_closed_lets_everything_through(breaker: CircuitBreaker) -> None:
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(100))
    assert breaker.retry_after() == 0.0


def test_opens_after_threshold_consecutive_failures(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after(clock.now) == 30.0
    clock.now += 10
    assert breaker.retry_after() == pytest.approx(20.0)
    assert breaker.retry_after(clock.now + 25) == 0.0


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 2


def test_open_rejects_until_reset_then_half_open_allows_one_trial(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.retry_after() == 0.0
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # only one while it is out
    assert not breaker.allow()
    assert breaker.retry_after() > 0


def test_a_successful_trial_closes(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0
    assert breaker.allow() and breaker.allow()


def test_an_inconclusive_call_neither_counts_nor_keeps_the_trial(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 2)
    breaker.record_inconclusive()  # the gateway's own failure: proves nothing about the portal
    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.CLOSED, 2)
    fail(breaker, 1)
    clock.now += 30
    assert breaker.allow() and not breaker.allow()  # the trial is out
    breaker.record_inconclusive()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # another trial may decide
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_reopens_for_a_full_period(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 45
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after() == 30.0
    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_late_failures_of_calls_started_before_opening_do_not_extend_the_wait(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 20
    breaker.record_failure()  # a call that was already in flight
    assert breaker.retry_after() == pytest.approx(10.0)


def test_threshold_one_opens_on_the_first_failure(clock: Clock) -> None:
    breaker = CircuitBreaker(threshold=1, reset_seconds=5, clock=clock)
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=0)
    with pytest.raises(ValueError, match="reset_seconds"):
        CircuitBreaker(reset_seconds=-1)
