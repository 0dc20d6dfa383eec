"""Group commit for the message log: entries that arrive while one transaction is being written
and flushed go together in the next one.

The hash chain makes appends one at a time (each reads the previous link under a lock held to its
commit), so with a transaction per entry the log allows one disk flush's worth of entries per
flush — a few hundred a second — for every SOAP call in and out together (bench/ measured it as
the inbound ceiling). Here one task writes (`gateway/group_commit.py`): it takes what is waiting
(at most `max_batch`), appends each entry in order in one transaction through the same
`MessageLog.append`, commits, and only then answers each caller with its entry id. So a caller
still returns only once its entry is durable, the chain is the same chain, and entries are in the
order callers asked.

A batch that fails is written again one entry per transaction, so a bad entry fails only its own
caller, as it would have alone; the store being down fails each of them with its own error.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.exchange import LogEntry
from gateway.group_commit import GroupCommit
from gateway.ports import UnitOfWork, UnitOfWorkFactory


class LogGroupCommit:
    def __init__(self, uow: UnitOfWorkFactory, *, max_batch: int = 100) -> None:
        self._group: GroupCommit[LogEntry, int] = GroupCommit(
            uow, self._append_all, max_batch=max_batch, name="message log"
        )

    async def append(self, entry: LogEntry) -> int:
        """The entry's id, once the transaction that holds it has committed."""
        return await self._group.submit(entry)

    async def append_all(self, entries: Sequence[LogEntry]) -> list[int]:
        """Entries that belong together (a request and its response), queued at once and in order."""
        return await self._group.submit_all(entries)

    @staticmethod
    async def _append_all(uow: UnitOfWork, entries: Sequence[LogEntry]) -> list[int]:
        return [await uow.message_log.append(entry) for entry in entries]
