"""Deliver the national outbox to the portal: in order per petition, exactly once in effect, through outages.

Each round takes the heads of the petitions' queues (`NationalOutbox.due`: at most one message per
petition, the oldest not delivered), sends them concurrently through the `NationalPort`, and records
each outcome in a short transaction — no transaction ever waits on a network call:

- Receipt `Accepted` (a `Duplicate=true` one too: the portal already had it) → delivered;
- `NationalRefused` → dead, with "<code>: <message>" as the reason, visible and replayable
  (`pakn-gateway outbound list/replay`); it holds back its petition's later messages on purpose:
  they must not overtake it;
- `NationalUnavailable` → rescheduled after a full-jitter exponential backoff on its attempts,
  capped; a failure for the circuit breaker, which stops all calls for a while after a run of them.
  An outage never dead-letters anything: the backlog drains when the portal is back;
- `Gateway.UnexpectedError` (a bug, or a message the client cannot build or send: neither an answer
  nor an outage) → the retry ladder (`PAKN_RETRY_DELAYS_SECONDS`: 10 s, 1 min, 10 min, 1 h), then
  dead with the error as its reason, like a refusal; it does not count for the breaker either way
  (one poisoned message must not stop every petition's calls), nor is it retried for ever.

Outcomes that arrive while one such transaction is being written go together in the next one
(group commit, `gateway/group_commit.py`; the deliveries of a group in one UPDATE), so a burst of
statuses costs a few disk flushes, not one each. A delivery still returns only once its own outcome
is committed, and the round ends only once all of them are; a group that fails is written again one
outcome per transaction, so a bad one fails only itself.

A message whose outcome could not be recorded stays pending (and claimed until its lease ends) and
is sent again with the same MessageId: the portal answers Duplicate, so the effect is still once.
Logs name the petition, the operation and the outbox id, never anything of the payload (personal
data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from gateway.domain.exchange import NationalMessage, Receipt
from gateway.group_commit import GroupCommit
from gateway.observability.json_logging import correlation
from gateway.outbound.circuit_breaker import BreakerState, CircuitBreaker
from gateway.ports import NationalPort, NationalRefused, NationalUnavailable, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_STORE_BACKOFF = 30.0
"""Seconds, the longest wait between rounds while the store itself fails."""
UNEXPECTED = "Gateway.UnexpectedError"
DEFAULT_UNEXPECTED_DELAYS = (10.0, 60.0, 600.0, 3600.0)


def backoff_delay(
    attempts: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Full jitter: uniform in [0, min(cap, base · 2^attempts)); `attempts` failures before this one."""
    ceiling: float = min(cap, base * float(2 ** min(max(attempts, 0), 62)))
    return ceiling * rand()


@dataclass(frozen=True)
class RoundReport:
    """What one round did: messages taken, delivered, dead, rescheduled, skipped (breaker open)."""

    taken: int = 0
    delivered: int = 0
    dead: int = 0
    rescheduled: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class _Outcome:
    message: NationalMessage
    receipt: Receipt | None = None
    error: Exception | None = None
    skipped: bool = False
    recorded: bool = True


@dataclass(frozen=True)
class _Change:
    """What one outcome writes to the outbox, decided before it joins a group transaction, and the
    log line that tells it once committed (level, format, arguments)."""

    message_id: int
    kind: Literal["delivered", "dead", "rescheduled"]
    at: datetime
    note: tuple[int, str, tuple[object, ...]]
    reason: str = ""
    retry_at: datetime | None = None
    unexpected: bool = False


class NationalSender:
    """The outbound worker: `run(stop)` until stopped; `run_once()` one round; `wake()` to hurry it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        port: NationalPort,
        *,
        clock: Callable[[], datetime],
        breaker: CircuitBreaker,
        concurrency: int = 8,
        batch: int = 100,
        poll_seconds: float = 0.5,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        lease_seconds: float = 300.0,
        rand: Callable[[], float] = random.random,
        unexpected_delays: Sequence[float] = DEFAULT_UNEXPECTED_DELAYS,
    ) -> None:
        if concurrency < 1 or batch < 1:
            raise ValueError("concurrency and batch must be at least 1")
        if not unexpected_delays or any(d <= 0 for d in unexpected_delays):
            raise ValueError("unexpected_delays must be a non-empty list of positive seconds")
        self._unexpected_delays = tuple(unexpected_delays)
        self._uow = uow
        self._port = port
        self._clock = clock
        self._breaker = breaker
        self._concurrency = concurrency
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._rand = rand
        self._lease = lease_seconds
        # a round has at most `batch` outcomes in flight: one group can take them all
        self._outcomes: GroupCommit[_Change, None] = GroupCommit(
            uow, self._write_changes, max_batch=batch, name="national outcomes"
        )
        self._wake = asyncio.Event()
        self.last_report = RoundReport()
        # what the console shows of the link: the last delivery, and the last thing that went wrong
        self.last_success_at: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    def wake(self) -> None:
        """Something was just committed to the national outbox: start the next round now."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop` is set. Store errors are logged and waited out; nothing ends the loop."""
        log.info("national sender started")
        store_failures = 0
        portal_down = False
        while not stop.is_set():
            self._wake.clear()
            try:
                report = await self._round()
            except Exception:
                store_failures += 1
                delay = min(MAX_STORE_BACKOFF, self._poll_seconds * 2**store_failures)
                log.exception("national sender: round failed (store?); next try in %.1f s", delay)
                await self._pause(stop, delay)
                continue
            store_failures = 0
            if self._breaker.state is BreakerState.OPEN:
                delay = self._breaker.retry_after()
                if not portal_down:  # once per outage, not once per trial
                    log.warning("national portal unavailable: circuit open, trial calls every %.1f s", delay)
                portal_down = True
                await self._pause(stop, delay, wakeable=False)
                continue
            if portal_down and self._breaker.state is BreakerState.CLOSED:
                log.warning("national portal reachable again: circuit closed, the backlog drains")
                portal_down = False
            if report.taken < self._batch or report.skipped:
                await self._pause(stop, self._poll_seconds)
            # a full batch: more may be due at once
        log.info("national sender stopped")

    async def run_once(self) -> int:
        """One round; how many messages were delivered (0 at once if the breaker is open)."""
        return (await self._round()).delivered

    async def _round(self) -> RoundReport:
        if self._breaker.state is BreakerState.OPEN:
            self.last_report = RoundReport()
            return self.last_report
        now = self._clock()
        async with self._uow() as uow:
            # claimed for a lease: another instance of the gateway skips them meanwhile
            claimed = await uow.national.claim(now, self._batch, now + timedelta(seconds=self._lease))
            await uow.commit()
        due = _one_per_petition(claimed)
        slots = asyncio.Semaphore(self._concurrency)

        async def deliver(message: NationalMessage) -> _Outcome:
            # each delivery is a task of its own (gather): the ids stay on its log lines only
            with correlation(petition_id=message.petition_id, message_id=message.message_id):
                async with slots:
                    if not self._breaker.allow():
                        return _Outcome(message, skipped=True)
                    outcome = self._observe(await self._send(message))
                # a slot is a call in flight: the next call need not wait for this one's commit
                return await self._record(outcome)

        # The round ends (and the next claim starts) only once every outcome is committed: each
        # delivery awaits its own. Order per petition would hold even if it did not: a head's
        # successor is not due while the head is not delivered (`due` skips a message with an
        # earlier one not delivered), and the head itself is not due again before its lease ends;
        # so an outcome written late, or never, can only mean the head is sent again with its
        # MessageId (Duplicate), never that a later message of its petition overtakes it.
        outcomes = await asyncio.gather(*(deliver(m) for m in due))
        skipped = [o.message.id for o in outcomes if o.skipped and o.message.id is not None]
        if skipped:  # claimed but never tried (the breaker said no): back in line now, not after the lease
            async with self._uow() as uow:
                for message_id in skipped:
                    await uow.national.release(message_id, now)
                await uow.commit()
        self.last_report = _report(outcomes)
        return self.last_report

    async def _send(self, message: NationalMessage) -> _Outcome:
        try:
            receipt = await self._port.send(message)
        except (NationalRefused, NationalUnavailable) as exc:
            return _Outcome(message, error=exc)
        except Exception as exc:  # the port should map everything; a bug must not stop the others
            log.exception(
                "national %s for petition %s (outbox %s): unexpected error",
                message.operation,
                message.petition_id,
                message.id,
            )
            return _Outcome(message, error=exc)
        if not receipt.accepted:  # the port should have raised; never count it as delivered
            code = receipt.error_code or "Client.NotAccepted"
            return _Outcome(message, error=NationalRefused(code, receipt.error_text or "not accepted"))
        return _Outcome(message, receipt=receipt)

    def _observe(self, outcome: _Outcome) -> _Outcome:
        """The breaker and the link's last success or error: at once, before the next call, no store."""
        error = outcome.error
        if error is None or isinstance(error, NationalRefused):
            self._breaker.record_success()  # the portal answered, even if it said no
        elif _unexpected(error):
            self._breaker.record_inconclusive()  # the gateway's failure, not the portal's
        else:
            self._breaker.record_failure()
        if error is None:
            self.last_success_at = self._clock()
        elif isinstance(error, NationalRefused | NationalUnavailable):
            self.last_error, self.last_error_at = f"{error.code}: {error.message}"[:300], self._clock()
        else:
            self.last_error, self.last_error_at = f"Gateway.UnexpectedError: {error!r}"[:300], self._clock()
        return outcome

    async def _record(self, outcome: _Outcome) -> _Outcome:
        """The outcome in the outbox, in a group transaction: returns once that has committed."""
        message = outcome.message
        try:
            change = self._change(outcome)
            await self._outcomes.submit(change)
        except Exception:
            log.exception(
                "national %s for petition %s (outbox %s): outcome not recorded, it will be sent again",
                message.operation,
                message.petition_id,
                message.id,
            )
            return replace(outcome, recorded=False)
        level, text, args = change.note
        log.log(level, text, *args)
        return outcome

    def _change(self, outcome: _Outcome) -> _Change:
        """Delivered, dead (refused), rescheduled (unavailable: backoff) or the unexpected ladder."""
        message, error, message_id = outcome.message, outcome.error, outcome.message.id
        if message_id is None:
            raise ValueError("a national message from the outbox has an id")
        where = (message.operation, message.petition_id, message_id)
        now = self._clock()
        if outcome.receipt is not None:
            kind = "duplicate" if outcome.receipt.duplicate else "accepted"
            note = "national %s for petition %s (outbox %s) delivered (%s)"
            return _Change(message_id, "delivered", now, note=(logging.INFO, note, (*where, kind)))
        if isinstance(error, NationalRefused):
            note = (
                "national %s for petition %s (outbox %s) refused for good (%s): dead-lettered; "
                "the petition's later messages wait for a replay"
            )
            reason, args = f"{error.code}: {error.message}", (*where, error.code)
            return _Change(message_id, "dead", now, reason=reason, note=(logging.WARNING, note, args))
        if error is not None and _unexpected(error):
            return self._ladder(message, message_id, error, now)
        code = error.code if isinstance(error, NationalUnavailable) else UNEXPECTED
        text = error.message if isinstance(error, NationalUnavailable) else repr(error)
        delay = backoff_delay(
            message.attempts, base=self._base_backoff, cap=self._max_backoff, rand=self._rand
        )
        note = "national %s for petition %s (outbox %s) not delivered (%s), attempt %d; retry in %.1f s"
        return _Change(
            message_id,
            "rescheduled",
            now,
            reason=f"{code}: {text}",
            retry_at=now + timedelta(seconds=delay),
            note=(logging.WARNING, note, (*where, code, message.attempts + 1, delay)),
        )

    def _ladder(self, message: NationalMessage, message_id: int, error: Exception, now: datetime) -> _Change:
        """Next step of the retry ladder, or dead once it is climbed (tries = steps + 1)."""
        where = (message.operation, message.petition_id, message_id)
        text = error.message if isinstance(error, NationalUnavailable) else f"{type(error).__name__}: {error}"
        tries = message.unexpected_failures + 1
        if message.unexpected_failures >= len(self._unexpected_delays):
            note = (
                "national %s for petition %s (outbox %s) failed unexpectedly %d times: dead-lettered; "
                "the petition's later messages wait for a replay"
            )
            reason, args = f"{UNEXPECTED}: {text} ({tries} tries)", (*where, tries)
            return _Change(message_id, "dead", now, reason=reason, note=(logging.ERROR, note, args))
        delay = self._unexpected_delays[message.unexpected_failures]
        note = "national %s for petition %s (outbox %s) failed unexpectedly (try %d); retry in %.0f s"
        return _Change(
            message_id,
            "rescheduled",
            now,
            reason=f"{UNEXPECTED}: {text}",
            retry_at=now + timedelta(seconds=delay),
            unexpected=True,
            note=(logging.WARNING, note, (*where, tries, delay)),
        )

    @staticmethod
    async def _write_changes(uow: UnitOfWork, changes: Sequence[_Change]) -> list[None]:
        """One group's outcomes in its transaction: the deliveries in one statement, the rest each."""
        delivered = [c for c in changes if c.kind == "delivered"]
        if delivered:  # within a group the receipts came milliseconds apart: the last one's time
            await uow.national.mark_delivered([c.message_id for c in delivered], max(c.at for c in delivered))
        for change in changes:
            if change.kind == "dead":
                await uow.national.mark_dead(change.message_id, change.reason, change.at)
            elif change.kind == "rescheduled":
                if change.retry_at is None:  # a bug: it fails this outcome, not silently
                    raise ValueError("a rescheduled outcome has the time of its next attempt")
                await uow.national.reschedule(
                    change.message_id, change.retry_at, change.reason, unexpected=change.unexpected
                )
        return [None] * len(changes)

    async def _pause(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = True) -> None:
        """Sleep `seconds`, or less if stopped (or woken, when `wakeable`)."""
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter


def _unexpected(error: Exception) -> bool:
    """Neither the portal's answer nor its unavailability: the port's UnexpectedError, or a bug."""
    if isinstance(error, NationalRefused):
        return False
    return not isinstance(error, NationalUnavailable) or error.code == UNEXPECTED


def _one_per_petition(messages: Sequence[NationalMessage]) -> list[NationalMessage]:
    """`due()` already gives heads only; never two of one petition in flight at once, whatever it gives."""
    seen: set[str] = set()
    heads: list[NationalMessage] = []
    for message in messages:
        if message.petition_id not in seen:
            seen.add(message.petition_id)
            heads.append(message)
    return heads


def _report(outcomes: Sequence[_Outcome]) -> RoundReport:
    return RoundReport(
        taken=len(outcomes),
        delivered=sum(1 for o in outcomes if o.receipt is not None and o.recorded),
        dead=sum(1 for o in outcomes if isinstance(o.error, NationalRefused)),
        rescheduled=sum(
            1 for o in outcomes if o.error is not None and not isinstance(o.error, NationalRefused)
        ),
        skipped=sum(1 for o in outcomes if o.skipped),
    )
