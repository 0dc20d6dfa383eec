"""The published answers service: the store's candidates, checked, redacted, searched and paged.

Search is diacritic-insensitive (gateway.domain.text.fold: "bao hiem" finds "bảo hiểm"); every
word typed must be found, in any order (up to `MAX_WORDS`). It runs on what is shown, after
redaction: a sender's name or address finds nothing. The store narrows the candidates first with
the case's folded search text (the petition's words, indexed), so the question's title and content
are searched; the answer's own words are not (yet).

A page reads at most `MAX_SCAN` candidates: when the filter drops many, it ends early and its
cursor continues where the reading stopped, so no request costs more than that, whatever is typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.domain.published import (
    DEFAULT_PAGE,
    MAX_PAGE,
    InvalidPublicCursor,
    PublicCursor,
    PublicQuery,
    PublishedCandidate,
    may_publish,
)
from gateway.domain.routing import RoutingTable
from gateway.domain.text import fold, nfc
from gateway.public.errors import InvalidPublicRequest, NotPublished
from gateway.public.redaction import Redactor, redactor_for

MAX_TEXT = 200
MAX_SCAN = 500
MAX_WORDS = 8


class PublishedReads(Protocol):
    """What the service needs of the store (connectors.db.published_answers_store)."""

    async def page(
        self, *, prefilter: tuple[str, ...], after: PublicCursor | None, limit: int
    ) -> list[PublishedCandidate]: ...

    async def of_petition(self, petition_id: str) -> list[PublishedCandidate]: ...

    async def document_of(self, petition_id: str, answer_id: str) -> PublishedCandidate | None: ...


class LetterCopies(Protocol):
    """Makes the public copy of an answer's letter (gateway.public.letter_copy.PublicLetters)."""

    async def copy_of(self, candidate: PublishedCandidate, redact: Redactor) -> bytes: ...


@dataclass(frozen=True)
class PublicAnswer:
    """One published answer, as the public reads it: nothing of the sender but their question."""

    petition_id: str
    answer_id: str
    kind: str
    field_code: str | None
    field_name: str | None
    unit_code: str
    unit_name: str
    title: str
    question: str
    answer: str
    received_at: datetime
    answered_at: datetime


@dataclass(frozen=True)
class PublicPage:
    items: tuple[PublicAnswer, ...]
    next_cursor: str | None
    query: str  # the search text as typed (NFC), "" for none
    limit: int


class PublicAnswers:
    def __init__(self, reads: PublishedReads, routing: RoutingTable, letters: LetterCopies) -> None:
        self._reads = reads
        self._routing = routing
        self._letters = letters

    @staticmethod
    def query(text: str | None, cursor: str | None, limit: int | None) -> PublicQuery:
        """Checks what the public typed; InvalidPublicRequest with a reason in both languages."""
        typed = nfc(text or "").strip()
        if len(typed) > MAX_TEXT:
            raise InvalidPublicRequest(
                f"Nội dung tìm kiếm dài quá {MAX_TEXT} ký tự.",
                f"The search text exceeds {MAX_TEXT} characters.",
            )
        if len(fold(typed).split()) > MAX_WORDS:
            raise InvalidPublicRequest(
                f"Hãy tìm với tối đa {MAX_WORDS} từ.", f"Search with at most {MAX_WORDS} words."
            )
        size = DEFAULT_PAGE if limit is None else limit
        if not 1 <= size <= MAX_PAGE:
            raise InvalidPublicRequest(
                f"Số mục mỗi trang phải từ 1 đến {MAX_PAGE}.", f"limit must be between 1 and {MAX_PAGE}."
            )
        try:
            after = PublicCursor.decode(cursor) if cursor else None
        except InvalidPublicCursor as exc:
            raise InvalidPublicRequest("Con trỏ trang không hợp lệ.", str(exc)) from exc
        return PublicQuery(text=fold(typed) or None, typed=typed, after=after, limit=size)

    async def page(self, query: PublicQuery) -> PublicPage:
        found: list[tuple[PublishedCandidate, PublicAnswer]] = []
        words = query.words()
        after, scanned = query.after, 0
        while True:
            batch = await self._reads.page(prefilter=words, after=after, limit=query.limit + 1)
            for candidate in batch:
                scanned += 1
                shown = self._shown(candidate)
                if shown is not None and _matches(words, shown):
                    found.append((candidate, shown))
                    if len(found) > query.limit:  # one more than a page: there is a next page
                        cursor = _cursor(found[query.limit - 1][0])
                        return _page(found[: query.limit], cursor, query)
            if len(batch) <= query.limit:
                return _page(found, None, query)  # the end of what is published
            after = PublicCursor(batch[-1].answered_at, batch[-1].row_id)
            if scanned >= MAX_SCAN:
                return _page(found, after.encode(), query)

    async def of_petition(self, petition_id: str) -> tuple[PublicAnswer, ...]:
        shown = [s for c in await self._reads.of_petition(petition_id) if (s := self._shown(c))]
        if not shown:
            raise _not_published(petition_id)
        return tuple(shown)

    async def letter(self, petition_id: str, answer_id: str) -> tuple[str, bytes]:
        """(file name, signed public copy) of one published answer's letter."""
        candidate = await self._reads.document_of(petition_id, answer_id)
        if candidate is None or not may_publish(candidate):
            raise _not_published(petition_id)
        pdf = await self._letters.copy_of(candidate, redactor_for(candidate.petition.sender))
        return f"tra-loi-{petition_id}-{answer_id}.pdf", pdf

    def _shown(self, candidate: PublishedCandidate) -> PublicAnswer | None:
        if not may_publish(candidate):
            return None
        petition = candidate.petition
        redact: Redactor = redactor_for(petition.sender)
        unit = self._routing.unit(candidate.unit_code)
        field = self._routing.fields.get(petition.field_code) if petition.field_code else None
        return PublicAnswer(
            petition_id=petition.petition_id,
            answer_id=candidate.answer_id,
            kind=petition.kind.value,
            field_code=petition.field_code,
            field_name=field.name if field else None,
            unit_code=candidate.unit_code,
            unit_name=unit.name if unit else candidate.unit_code,
            title=redact(petition.title),
            question=redact(petition.content),
            answer=redact(candidate.content),
            received_at=petition.received_at,
            answered_at=candidate.answered_at,
        )


def _page(
    found: list[tuple[PublishedCandidate, PublicAnswer]], cursor: str | None, query: PublicQuery
) -> PublicPage:
    return PublicPage(tuple(shown for _, shown in found), cursor, query.typed, query.limit)


def _matches(words: tuple[str, ...], answer: PublicAnswer) -> bool:
    """Every word typed is in the title or question as shown (redacted), in any order."""
    searchable = fold(f"{answer.title} {answer.question}")
    return all(word in searchable for word in words)


def _cursor(candidate: PublishedCandidate) -> str:
    return PublicCursor(candidate.answered_at, candidate.row_id).encode()


def _not_published(petition_id: str) -> NotPublished:
    return NotPublished(
        f"Không có câu trả lời công khai nào cho phản ánh, kiến nghị {petition_id}.",
        f"No published answer for petition {petition_id}.",
    )
