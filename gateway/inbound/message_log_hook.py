"""The message log as a hook around the SOAP edge (zeep's ingress/egress plugin is the model):
every raw message in and out is kept, with its signature verdict, in a transaction of the log's
own (shared with the entries written at the same moment: group commit), so a refused message is
on record too (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Required, TypedDict, Unpack

from gateway.domain.exchange import LogEntry
from gateway.inbound.log_group_commit import LogGroupCommit
from gateway.ports import UnitOfWorkFactory


class EntryFields(TypedDict, total=False):
    """What a caller says about one message (the clock stamps it)."""

    direction: Required[str]
    peer: Required[str]
    operation: Required[str]
    raw: Required[bytes]
    verdict: Required[str]  # the signature verdict
    message_id: str | None
    signer: str | None
    outcome: str | None
    petition_id: str | None


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

    async def record(self, **fields: Unpack[EntryFields]) -> int:
        """Keep one message; its entry's id once committed."""
        [entry_id] = await self.keep([self.entry(**fields)])
        return entry_id

    def entry(self, **fields: Unpack[EntryFields]) -> LogEntry:
        """The entry for one message, stamped now and told to the observer (for `keep`)."""
        direction, operation, outcome = fields["direction"], fields["operation"], fields.get("outcome")
        if self._observer is not None:  # first: a message handled counts even if its log entry fails
            self._observer(direction, operation, outcome)
        return LogEntry(
            direction=direction,
            peer=fields["peer"],
            operation=operation,
            raw=fields["raw"],
            signature_verdict=fields["verdict"],
            at=self._clock(),
            message_id=fields.get("message_id"),
            signer=fields.get("signer"),
            outcome=outcome,
            petition_id=fields.get("petition_id"),
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
