"""Makes a signed checkpoint of the message log's current head (periodically and on demand).

The head is read in one short transaction; signing and the timestamp authority's round trip happen
outside any transaction so appends never wait on them. Appends are serialised and take ids in that
order (message_log_store.py), so every row at or below the head id is already final when it is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

import signing
from connectors.db.errors import map_db_errors
from connectors.db.log_audit_store import add_checkpoint
from connectors.db.log_checkpoint import Checkpoint, seal
from connectors.db.log_segments_store import chain_length_through
from connectors.db.tables import LogCheckpointRow, MessageLogRow
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.ports import StoreConflict

log = logging.getLogger(__name__)


class LogCheckpointer:
    def __init__(
        self,
        uow: SqlUnitOfWorkFactory,
        key: signing.SigningKey,
        *,
        ministry_id: str,
        tsa_url: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._key = key
        self._ministry_id = ministry_id
        self._tsa_url = tsa_url
        self._clock = clock

    async def checkpoint(self) -> Checkpoint | None:
        """A new checkpoint at the head, or None when the head already has one (or the log is empty).

        Raises TimestampError when a configured authority fails: a checkpoint promised to be
        timestamped is not made without its token.
        """
        async with self._uow() as uow:
            session = uow.session
            with map_db_errors():
                head = (
                    await session.execute(
                        select(MessageLogRow.id, MessageLogRow.entry_hash)
                        .order_by(MessageLogRow.id.desc())
                        .limit(1)
                    )
                ).one_or_none()
                if head is None:
                    return None
                last_id, head_hash = head
                done = (
                    await session.execute(
                        select(LogCheckpointRow.id).where(LogCheckpointRow.last_entry_id == last_id)
                    )
                ).first()
                if done is not None:
                    return None
                # Rows pruned into export files still count: entry_count is the chain's length.
                count = int((await session.execute(chain_length_through(last_id))).scalar_one())
        checkpoint = await seal(
            last_entry_id=last_id,
            head_hash=head_hash,
            entry_count=count,
            ministry_id=self._ministry_id,
            at=self._clock(),
            key=self._key,
            tsa_url=self._tsa_url,
        )
        try:
            async with self._uow() as uow:
                checkpoint_id = await add_checkpoint(uow, checkpoint)
                await uow.commit()
        except StoreConflict:
            log.info("message log entry %s was checkpointed by another process meanwhile", last_id)
            return None
        log.info("message log checkpoint %s at entry %s (%s entries)", checkpoint_id, last_id, count)
        return replace(checkpoint, id=checkpoint_id)
