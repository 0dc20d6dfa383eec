"""The signed answer letter: rendered under Decree 30/2020 when the unit sent no PDF, then signed
as PAdES by the ministry. CPU-bound (rendering, RSA), so it runs in a worker thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import signing
from gateway.domain.petition import Petition, SenderType
from gateway.domain.reply import AnswerDraft
from gateway.domain.routing import Unit
from gateway.outbound.letter import Letter, render_letter
from gateway.routing_config import Ministry

VIETNAM = timezone(timedelta(hours=7))
NATIONAL_SYSTEM = "Hệ thống thông tin Chính phủ với người dân và doanh nghiệp"


@dataclass(frozen=True)
class SignedLetters:
    ministry: Ministry
    key: signing.SigningKey
    tsa_url: str | None = None
    seal_image: Path | None = None
    on_signed: Callable[[float], None] | None = None  # seconds one PAdES signature took (a TSA call too)

    async def signed_letter(
        self, *, petition: Petition, unit: Unit, draft: AnswerDraft, answer_id: str, at: datetime
    ) -> bytes:
        return await asyncio.to_thread(self._make, petition, unit, draft, answer_id, at)

    def _make(
        self, petition: Petition, unit: Unit, draft: AnswerDraft, answer_id: str, at: datetime
    ) -> bytes:
        if draft.pdf is not None:
            # The unit's own letter keeps its signatures: the ministry's is an incremental update.
            return self._sign(draft.pdf, draft, at, page=-1, box=None)
        rendered = render_letter(self.letter(petition, unit, draft, answer_id, at))
        return self._sign(rendered.pdf, draft, at, page=rendered.signature_page, box=rendered.signature_box)

    def letter(
        self, petition: Petition, unit: Unit, draft: AnswerDraft, answer_id: str, at: datetime
    ) -> Letter:
        sender = petition.sender
        addressee = (
            sender.organization_name or sender.full_name
            if sender.type in (SenderType.DOANH_NGHIEP, SenderType.TO_CHUC)
            else f"Ông/Bà {sender.full_name}"
        )
        return Letter(
            agency=self.ministry.name,
            unit=unit.name,
            number=f"{answer_id.removeprefix('TL-')[:6]}/{unit.code}-PAKN",
            place=self.ministry.place,
            date=at.astimezone(VIETNAM).date(),
            subject=f"trả lời phản ánh, kiến nghị số {petition.petition_id}",
            recipient=addressee,
            body=draft.content,
            recipients=(
                "Như trên;",
                f"{NATIONAL_SYSTEM} (để đăng tải);" if draft.publish else f"{NATIONAL_SYSTEM};",
                f"Lưu: VT, {unit.code}.",
            ),
            signer_name=draft.signer_name,
            signer_position=draft.signer_position,
        )

    def _sign(
        self,
        pdf: bytes,
        draft: AnswerDraft,
        at: datetime,
        *,
        page: int,
        box: tuple[float, float, float, float] | None,
    ) -> bytes:
        started = time.perf_counter()
        signed = signing.sign_pdf(
            pdf,
            self.key,
            signer_name=draft.signer_name,
            organisation=self.ministry.name,
            location=self.ministry.place,
            tsa_url=self.tsa_url,
            page=page,
            box=box,
            seal_image=self.seal_image,
        )
        if self.on_signed is not None:
            self.on_signed(time.perf_counter() - started)
        return signed
