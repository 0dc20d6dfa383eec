"""Group commit for the message log: entries that arrive while one transaction is being written
and flushed go together in the next one.

The hash chain makes appends one at a time (each reads the previous link under a lock held to its
commit), so with a transaction per entry the log allows one disk flush's worth of entries per
flush — a few hundred a second — for every SOAP call in and out together (bench/ measured it as
the inbound ceiling). Here one task writes: it takes what is waiting (at most `max_batch`),
appends each entry in order in one transaction through the same `MessageLog.append`, commits, and
only then answers each caller with its entry id. So a caller still returns only once its entry is
durable, the chain is the same chain, and entries are in the order callers asked.

A batch that fails is written again one entry per transaction, so a bad entry fails only its own
caller, as it would have alone; the store being down fails each of them with its own error.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.domain.exchange import LogEntry
from gateway.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

_Waiting = tuple[LogEntry, "asyncio.Future[int]"]


class LogGroupCommit:
    def __init__(self, uow: UnitOfWorkFactory, *, max_batch: int = 100) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._uow = uow
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, entry: LogEntry) -> int:
        """The entry's id, once the transaction that holds it has committed."""
        if self._max_batch == 1:
            return await _alone(self._uow, entry)
        loop = asyncio.get_running_loop()
        writer = self._writer
        if writer is not None and writer.get_loop() is not loop:  # a new event loop (a CLI run, a test)
            self._waiting = []  # what waited on the old loop went with it
            writer = None
        done: asyncio.Future[int] = loop.create_future()
        self._waiting.append((entry, done))
        if writer is None or writer.done():
            self._writer = loop.create_task(self._write(), name="message-log-group-commit")
        return await done

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                async with self._uow() as uow:
                    ids = [await uow.message_log.append(entry) for entry, _ in batch]
                    await uow.commit()
            except asyncio.CancelledError:
                for _, done in batch + self._waiting:
                    done.cancel()  # nobody is left to write them: their callers must not wait for ever
                raise
            except Exception as exc:  # each entry is tried again on its own below
                if len(batch) > 1:
                    log.warning("message log: a batch of %d failed (%s): one at a time", len(batch), exc)
                await _one_by_one(self._uow, batch)
                continue
            for (_, done), entry_id in zip(batch, ids, strict=True):
                if not done.done():
                    done.set_result(entry_id)


async def _one_by_one(uow: UnitOfWorkFactory, batch: list[_Waiting]) -> None:
    for entry, done in batch:
        try:
            entry_id = await _alone(uow, entry)
        except Exception as exc:  # handed to the caller that waits for this entry
            if not done.done():
                done.set_exception(exc)
        else:
            if not done.done():
                done.set_result(entry_id)


async def _alone(uow: UnitOfWorkFactory, entry: LogEntry) -> int:
    async with uow() as work:
        entry_id = await work.message_log.append(entry)
        await work.commit()
    return entry_id
