"""The deadline watch: dates the cases stored without a due date, and reminds units of the cases they
hold as each reaches a threshold — through the transactional outbox, once per (case, threshold, unit):
a case transferred after a reminder reminds its new unit as well.

Exactly once, across restarts and gateway instances: a reminder is one transaction that locks the
case, records (case, threshold, unit) under a unique key and adds the outbox row. A second instance doing
the same case waits for the lock, then fails on the key (StoreConflict) and sends nothing; a crash
before the commit leaves nothing, so the next round sends it. The outbox relay then publishes it
at least once, under a message_id derived from (case, threshold, unit): a unit drops a repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.deadlines import reminder_message
from gateway.domain.deadlines import (
    Deadline,
    DeadlinePolicy,
    DueCase,
    DueSource,
    SentReminder,
    Threshold,
    UndatedCase,
)
from gateway.domain.routing import RoutingTable, Unit
from gateway.ports import StoreConflict, UnitOfWorkFactory

log = logging.getLogger(__name__)

BATCH = 200


@dataclass(frozen=True)
class WatchReport:
    dated: int = 0  # cases given a due date by the backfill
    reminded: int = 0  # reminders committed to the outbox
    skipped: int = 0  # found, but already reminded by another instance, or closed meanwhile


class DeadlineWatch:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policy: DeadlinePolicy,
        routing: RoutingTable,
        thresholds: Sequence[Threshold],
        clock: Callable[[], datetime],
        on_commit: Callable[[], None] = lambda: None,  # wakes the outbox relay
        batch: int = BATCH,
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._routing = routing
        self._thresholds = tuple(thresholds)
        self._clock = clock
        self.on_commit = on_commit
        self._batch = batch

    @property
    def thresholds(self) -> tuple[Threshold, ...]:
        return self._thresholds

    async def run_once(self) -> WatchReport:
        """One round: date the undated cases, then send every reminder whose threshold is reached
        now, in batches (each reminder its own transaction)."""
        dated = await self.backfill()
        reminded = skipped = 0
        now = self._clock()
        for threshold in self._thresholds:
            due_from, due_until = self._policy.window(threshold, now)
            while True:
                async with self._uow() as uow:
                    found = await uow.deadlines.reached(threshold.code, due_from, due_until, self._batch)
                sent = 0
                for due in found:
                    sent += await self._remind(due, threshold, now)
                reminded, skipped = reminded + sent, skipped + len(found) - sent
                # a short batch was the last; a batch with nothing sent (all taken by another
                # instance meanwhile) ends the round too: the next round looks again
                if len(found) < self._batch or not sent:
                    break
        if reminded:
            self.on_commit()
        return WatchReport(dated, reminded, skipped)

    async def backfill(self) -> int:
        """Date the cases stored before due dates existed (none after the first round), with this
        gateway's own calendar and limits: migration 0007 could not, it does not see them."""
        dated = 0
        while True:  # one transaction per batch: the intake's writes pass in between (SQLite)
            async with self._uow() as uow:
                undated = await uow.deadlines.undated(self._batch)
                # each UPDATE locks its case: in PetitionId order, as every transaction that
                # locks several cases takes them (a reply group, the relay's confirm)
                for case in sorted(undated, key=lambda c: c.petition_id):
                    await uow.deadlines.set_deadline(case.petition_id, self._date(case))
                await uow.commit()
            dated += len(undated)
            if len(undated) < self._batch:
                return dated

    def _date(self, case: UndatedCase) -> Deadline:
        if case.portal_due_at is not None:
            return Deadline(case.portal_due_at, DueSource.PORTAL)
        return self._policy.computed(case.kind, case.accepted_at)

    async def _remind(self, due: DueCase, threshold: Threshold, now: datetime) -> bool:
        try:
            async with self._uow() as uow:
                case = await uow.cases.get(due.petition_id, for_update=True)
                if case is None or not case.is_open:
                    return False  # answered, withdrawn or transferred since the search
                unit = self._unit(case.unit_code)
                left = self._policy.calendar.working_days_left(now, due.due_at)
                message = reminder_message.build(
                    case=case, unit=unit, due=due, threshold=threshold, working_days_left=left, at=now
                )
                await uow.deadlines.remember(
                    SentReminder(
                        case.petition_id, threshold.code, unit.code, due.due_at, message.message_id, now
                    )
                )
                await uow.outbox.add(message)
                await uow.commit()
        except StoreConflict:
            return False  # another instance reminded it first (or is committing it now)
        log.info(
            "reminder %s sent to %s for case %s (due %s)",
            threshold.code,
            unit.code,
            due.petition_id,
            due.due_at,
        )
        return True

    def _unit(self, code: str) -> Unit:
        # a unit removed from config/ still holds its old cases: triage is told, as for case messages
        return self._routing.unit(code) or self._routing.units[self._routing.triage]
