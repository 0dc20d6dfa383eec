"""The public copy of an answer letter: the same letter, without the sender's personal data, signed.

The letter sent to the citizen is addressed to them by name ("Kính gửi: Ông/Bà …"), and a letter a
unit made itself may say anything; neither can be edited without breaking its signature. So the
public page offers a copy the gateway renders from the published answer — same number, date,
subject, body (redacted), signer — addressed to "the sender" and signed by the ministry (PAdES, as
the original). It is made on the first request and kept in the store (table `public_letters`), so
the ministry's key signs each public copy once, ever: downloads from anyone, however many, cost a
read (and a small in-process cache spares even that). One copy is signed at a time.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

import signing
from gateway.domain.published import PublishedCandidate
from gateway.domain.reply import AnswerDraft
from gateway.domain.routing import RoutingTable, make_unit
from gateway.outbound.answer_documents import NATIONAL_SYSTEM, SignedLetters
from gateway.outbound.letter import render_letter
from gateway.public.redaction import Redactor

PUBLIC_RECIPIENT = "Người gửi phản ánh, kiến nghị (thông tin cá nhân không công bố)"
PUBLIC_REASON = "Bản công bố trả lời phản ánh, kiến nghị"
CACHE_SIZE = 32  # letters are ~50 KB: a bounded, small memory cost


class KeptLetters(Protocol):
    """Where signed public copies are kept (connectors.db.public_letters_store)."""

    async def get(self, petition_id: str, answer_id: str) -> bytes | None: ...
    async def keep(self, petition_id: str, answer_id: str, pdf: bytes, at: datetime) -> bytes: ...


@dataclass
class PublicLetters:
    documents: SignedLetters
    routing: RoutingTable
    kept: KeptLetters
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _cache: OrderedDict[tuple[str, str], bytes] = field(default_factory=OrderedDict)
    _signing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def copy_of(self, candidate: PublishedCandidate, redact: Redactor) -> bytes:
        key = (candidate.petition.petition_id, candidate.answer_id)
        if (cached := self._cache.get(key)) is None:
            cached = await self.kept.get(*key)
        if cached is None:
            async with self._signing:
                # looked up again under the lock: the request before this one may have made it
                if (cached := await self.kept.get(*key)) is None:
                    made = await asyncio.to_thread(self._make, candidate, redact)
                    cached = await self.kept.keep(*key, made, self.clock())
        self._cache[key] = cached
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return cached

    def _make(self, candidate: PublishedCandidate, redact: Redactor) -> bytes:
        docs = self.documents
        unit = self.routing.unit(candidate.unit_code) or make_unit(candidate.unit_code, candidate.unit_code)
        draft = AnswerDraft(
            content=redact(candidate.content),
            signer_name=candidate.signer_name,
            signer_position=candidate.signer_position,
            publish=True,
        )
        original = docs.letter(candidate.petition, unit, draft, candidate.answer_id, candidate.answered_at)
        letter = replace(
            original,
            recipient=PUBLIC_RECIPIENT,
            recipients=(f"{NATIONAL_SYSTEM} (để đăng tải);", f"Lưu: VT, {unit.code}."),
        )
        rendered = render_letter(letter)
        return signing.sign_pdf(
            rendered.pdf,
            docs.key,
            signer_name=draft.signer_name,
            organisation=docs.ministry.name,
            reason=PUBLIC_REASON,
            location=docs.ministry.place,
            tsa_url=docs.tsa_url,
            page=rendered.signature_page,
            box=rendered.signature_box,
            seal_image=docs.seal_image,
        )
