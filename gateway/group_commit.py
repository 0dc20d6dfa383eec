"""Group commit: writes that arrive while one transaction is being written and flushed go together
in the next one, so a burst costs a few disk flushes instead of one per write.

One task writes: it takes what is waiting (at most `max_batch`), hands it to `write` inside one
transaction, commits, and only then answers each caller with its own result. So a caller still
returns only once its write is durable, and writes reach `write` in the order callers asked.

A batch that fails is written again one item per transaction, so a bad item fails only its own
caller, as it would have alone; the store being down fails each of them with its own error.
Used by the message log (`gateway/inbound/log_group_commit.py`), by the national sender for
the outcomes of its deliveries (`gateway/outbound/national_sender.py`) and by the units' replies
(`gateway/outbound/replies.py`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from gateway.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`write(uow, items)` does the items' statements in the open transaction and returns one result
    per item, in order; `submit(item)` is that item's result once its transaction has committed."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        write: Callable[[UnitOfWork, Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int = 100,
        name: str = "group commit",
        expected: tuple[type[Exception], ...] = (),
    ) -> None:
        """`expected`: failures an item may raise in the normal run of things (a refused reply):
        the batch is still written again one item per transaction, but that is not a warning."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._uow = uow
        self._write_items = write
        self._max_batch = max_batch
        self._name = name
        self._expected = expected
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """The item's result, once the transaction that holds it has committed."""
        if self._max_batch == 1:
            return await self._alone(item)
        [done] = self._enqueue([item])
        return await done

    async def submit_all(self, items: Sequence[T]) -> list[R]:
        """Several items queued together, in this order, so they travel in one transaction when
        they fit (else in consecutive ones); their results once all have committed. The first
        failure is raised, after every item has been written or has failed on its own."""
        if self._max_batch == 1:
            outcomes = [await _caught(self._alone(item)) for item in items]
        else:
            outcomes = await asyncio.gather(*self._enqueue(items), return_exceptions=True)
        results: list[R] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            results.append(outcome)
        return results

    def _enqueue(self, items: Sequence[T]) -> list[asyncio.Future[R]]:
        loop = asyncio.get_running_loop()
        writer = self._writer
        if writer is not None and writer.get_loop() is not loop:  # a new event loop (a CLI run, a test)
            self._waiting = []  # what waited on the old loop went with it
            writer = None
        futures: list[asyncio.Future[R]] = []
        for item in items:
            done: asyncio.Future[R] = loop.create_future()
            self._waiting.append((item, done))
            futures.append(done)
        if writer is None or writer.done():
            # a context of its own: the writer serves every caller, its log lines belong to none of them
            self._writer = loop.create_task(
                self._write(), name=f"{self._name} group commit", context=contextvars.Context()
            )
        return futures

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                results = await self._transaction([item for item, _ in batch])
            except asyncio.CancelledError:
                for _, done in batch + self._waiting:
                    done.cancel()  # nobody is left to write them: their callers must not wait for ever
                raise
            except Exception as exc:  # each item is tried again on its own below
                if len(batch) == 1:  # it was alone already: that was its own try
                    _fail(batch[0][1], exc)
                    continue
                level = logging.INFO if isinstance(exc, self._expected) else logging.WARNING
                log.log(level, "%s: a batch of %d failed (%s): one at a time", self._name, len(batch), exc)
                await self._one_by_one(batch)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                _answer(done, result)

    async def _one_by_one(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        for item, done in batch:
            try:
                result = await self._alone(item)
            except Exception as exc:  # handed to the caller that waits for this item
                _fail(done, exc)
            else:
                _answer(done, result)

    async def _alone(self, item: T) -> R:
        [result] = await self._transaction([item])
        return result

    async def _transaction(self, items: list[T]) -> Sequence[R]:
        async with self._uow() as uow:
            results = await self._write_items(uow, items)
            if len(results) != len(items):  # a bug in `write`: fail the batch, not the writer task
                raise ValueError(f"{self._name}: {len(results)} results for {len(items)} writes")
            await uow.commit()
        return results


async def _caught(writing: Awaitable[R]) -> R | BaseException:
    try:
        return await writing
    except Exception as exc:  # handed back as gather(return_exceptions=True) does
        return exc


def _answer(done: asyncio.Future[R], result: R) -> None:
    if not done.done():  # else its caller was cancelled meanwhile
        done.set_result(result)


def _fail(done: asyncio.Future[R], exc: Exception) -> None:
    if not done.done():
        done.set_exception(exc)
