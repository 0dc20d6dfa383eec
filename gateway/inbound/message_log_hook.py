"""The message log as a hook around the SOAP edge (zeep's ingress/egress plugin is the model):
every raw message in and out is kept, with its signature verdict, in a transaction of the log's
own (shared with the entries written at the same moment: group commit), so a refused message is
on record too (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.domain.exchange import LogEntry
from gateway.inbound.log_group_commit import LogGroupCommit
from gateway.ports import UnitOfWorkFactory

LogObserver = Callable[[str, str, str | None], None]
"""(direction, operation, outcome) of each entry, told before it is stored (metrics count there)."""


class MessageLogHook:
    """`group`: appends shared with other hooks through one group commit (log_group_commit.py);
    without it each entry commits in a transaction of its own."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Callable[[], datetime],
        observer: LogObserver | None = None,
        *,
        group: LogGroupCommit | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._observer = observer
        self._group = group

    async def record(
        self,
        *,
        direction: str,
        peer: str,
        operation: str,
        raw: bytes,
        verdict: str,
        message_id: str | None = None,
        signer: str | None = None,
        outcome: str | None = None,
        petition_id: str | None = None,
    ) -> int:
        entry = self.entry(
            direction=direction,
            peer=peer,
            operation=operation,
            raw=raw,
            verdict=verdict,
            message_id=message_id,
            signer=signer,
            outcome=outcome,
            petition_id=petition_id,
        )
        [entry_id] = await self.keep([entry])
        return entry_id

    def entry(
        self,
        *,
        direction: str,
        peer: str,
        operation: str,
        raw: bytes,
        verdict: str,
        message_id: str | None = None,
        signer: str | None = None,
        outcome: str | None = None,
        petition_id: str | None = None,
    ) -> LogEntry:
        """The entry for one message, stamped now and told to the observer (for `keep`)."""
        if self._observer is not None:  # first: a message handled counts even if its log entry fails
            self._observer(direction, operation, outcome)
        return LogEntry(
            direction=direction,
            peer=peer,
            operation=operation,
            raw=raw,
            signature_verdict=verdict,
            at=self._clock(),
            message_id=message_id,
            signer=signer,
            outcome=outcome,
            petition_id=petition_id,
        )

    async def keep(self, entries: list[LogEntry]) -> list[int]:
        """Store entries that belong together, in this order; their ids once committed. Together
        they wait for one commit, not one after the other (a portal call's request and receipt)."""
        if self._group is not None:
            return await self._group.append_all(entries)
        async with self._uow() as uow:
            ids = [await uow.message_log.append(entry) for entry in entries]
            await uow.commit()
        return ids
