"""Attachment bytes of petitions and of their updates, kept in the order they arrived."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.tables import AttachmentRow
from gateway.domain.petition import Attachment


async def insert_attachments(
    session: AsyncSession, petition_id: str, update_id: int | None, attachments: Sequence[Attachment]
) -> None:
    """Attachments of a petition (`update_id` None) or of one of its updates, in their order."""
    if not attachments:
        return
    rows = [
        {
            "petition_id": petition_id,
            "update_id": update_id,
            "position": position,
            "file_name": a.file_name,
            "content_type": a.content_type,
            "size": a.size,
            "sha256": a.sha256,
            "data": a.data,
        }
        for position, a in enumerate(attachments)
    ]
    await session.execute(insert(AttachmentRow), rows)


async def load_attachments(
    session: AsyncSession, petition_id: str, update_id: int | None
) -> list[Attachment]:
    query = select(
        AttachmentRow.file_name, AttachmentRow.content_type, AttachmentRow.size, AttachmentRow.sha256,
        AttachmentRow.data,
    ).where(AttachmentRow.petition_id == petition_id)
    if update_id is None:
        query = query.where(AttachmentRow.update_id.is_(None))
    else:
        query = query.where(AttachmentRow.update_id == update_id)
    rows = (await session.execute(query.order_by(AttachmentRow.position))).all()
    return [Attachment(name, ctype, size, sha, bytes(data)) for name, ctype, size, sha, data in rows]
