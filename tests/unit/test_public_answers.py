"""The published answers service over an in-memory store: only what both sides agreed to publish,
redacted, searched without diacritics, paged by cursor without loss or repetition."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from gateway.domain.published import PublicCursor, PublishedCandidate, may_publish
from gateway.domain.routing import FieldOfWork, RoutingTable, make_unit
from gateway.domain.text import fold
from gateway.public import answers as answers_module
from gateway.public.answers import PublicAnswers
from gateway.public.errors import InvalidPublicRequest, NotPublished
from gateway.public.redaction import Redactor
from tests.unit.samples import WHEN, petition

ROUTING = RoutingTable(
    units={"VBHXH": make_unit("VBHXH", "Vụ Bảo hiểm xã hội")},
    fields={"BAO_HIEM_XA_HOI": FieldOfWork("BAO_HIEM_XA_HOI", "Bảo hiểm xã hội")},
    rules=(),
    triage="VBHXH",
)
TOPICS = ("lương hưu", "bảo hiểm thất nghiệp", "trợ cấp người có công")


class MemoryReads:
    """Keyset paging over a list, as the SQL store does; consent left to the service to check."""

    def __init__(self, rows: list[PublishedCandidate]) -> None:
        self.rows = sorted(rows, key=lambda c: (c.answered_at, c.row_id), reverse=True)
        self.reads = 0

    async def page(
        self, *, prefilter: tuple[str, ...], after: PublicCursor | None, limit: int
    ) -> list[PublishedCandidate]:
        self.reads += 1
        rows = [
            c
            for c in self.rows
            if (after is None or (c.answered_at, c.row_id) < (after.answered_at, after.row_id))
            and all(w in fold(f"{c.petition.title} {c.petition.content}") for w in prefilter)
        ]
        return rows[:limit]

    async def of_petition(self, petition_id: str) -> list[PublishedCandidate]:
        return [c for c in self.rows if c.petition.petition_id == petition_id]

    async def document_of(self, petition_id: str, answer_id: str) -> PublishedCandidate | None:
        found = [c for c in await self.of_petition(petition_id) if c.answer_id == answer_id]
        return found[0] if found else None


class RecordingLetters:
    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []

    async def copy_of(self, candidate: PublishedCandidate, redact: Redactor) -> bytes:
        self.made.append((candidate.answer_id, redact(candidate.content)))
        return b"%PDF-copy"


def candidate(
    number: int, *, consent: bool = True, publish: bool = True, status: str = "06"
) -> PublishedCandidate:
    topic = TOPICS[number % len(TOPICS)]
    base = petition(
        f"PAKN-2026-{number:06d}", content=f"Tôi là Nguyễn Thị Hường, hỏi về {topic}, SĐT 0912345678."
    )
    base = dataclasses.replace(base, title=f"Hỏi về {topic}", publish_consent=consent, attachments=())
    return PublishedCandidate(
        row_id=number,
        petition=base,
        answer_id=f"TL-{number}",
        unit_code="VBHXH",
        content=f"Trả lời bà Nguyễn Thị Hường về {topic}.",
        answered_at=WHEN + timedelta(minutes=number // 2),  # pairs share an instant: the row id decides
        status=status,
        publish=publish,
        signer_name="Nguyễn Văn An",
        signer_position="Vụ trưởng",
    )


def seed() -> list[PublishedCandidate]:
    rows = []
    for n in range(1, 41):
        rows.append(candidate(n, consent=n % 5 != 0, publish=n % 7 != 0, status="06" if n % 11 else "05"))
    return rows


async def all_pages(service: PublicAnswers, text: str | None, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page = await service.page(service.query(text, cursor, limit))
        assert len(page.items) <= limit
        seen += [item.answer_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


async def test_pages_hold_exactly_the_publishable_answers_newest_first_once_each() -> None:
    rows = seed()
    service = PublicAnswers(MemoryReads(rows), ROUTING, RecordingLetters())
    expected = [
        c.answer_id
        for c in sorted(rows, key=lambda c: (c.answered_at, c.row_id), reverse=True)
        if c.petition.publish_consent and c.publish and c.status == "06"
    ]
    assert 15 < len(expected) < 40  # the seed mixes all three refusals
    for limit in (1, 3, 7, 100):
        assert await all_pages(service, None, limit) == expected


async def test_what_is_shown_is_redacted_and_named_from_the_configuration() -> None:
    service = PublicAnswers(MemoryReads([candidate(1)]), ROUTING, RecordingLetters())
    [item] = (await service.page(service.query(None, None, None))).items
    assert (item.unit_name, item.field_name, item.kind) == (
        "Vụ Bảo hiểm xã hội",
        "Bảo hiểm xã hội",
        "KIEN_NGHI",
    )
    assert item.question == "Tôi là [đã ẩn], hỏi về bảo hiểm thất nghiệp, SĐT [đã ẩn]."
    assert item.answer == "Trả lời bà [đã ẩn] về bảo hiểm thất nghiệp."


async def test_search_ignores_diacritics_and_never_matches_the_senders_name() -> None:
    rows = seed()
    service = PublicAnswers(MemoryReads(rows), ROUTING, RecordingLetters())
    found = await all_pages(service, "NGUOI CO CONG", 4)
    expected = [
        c.answer_id
        for c in sorted(rows, key=lambda c: (c.answered_at, c.row_id), reverse=True)
        if may_publish(c) and "người có công" in c.petition.title
    ]
    assert found == expected and found
    assert await all_pages(service, "Người có công", 4) == expected
    assert await all_pages(service, "cong, co nguoi", 4) == expected  # every word, in any order
    # the name is in every stored petition, and in no published text
    assert await all_pages(service, "nguyen thi huong", 4) == []
    assert await all_pages(service, "0912345678", 4) == []


async def test_a_search_that_drops_much_stops_reading_and_continues_from_its_cursor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(answers_module, "MAX_SCAN", 6)
    rows = [candidate(n, publish=n <= 10) for n in range(1, 41)]  # only the oldest ten are published
    reads = MemoryReads(rows)
    service = PublicAnswers(reads, ROUTING, RecordingLetters())
    first = await service.page(service.query(None, None, 3))
    # two reads of four (a page and one more) passed the bound: an empty page that goes on
    assert (first.items, reads.reads) == ((), 2) and first.next_cursor is not None
    assert await all_pages(service, None, 3) == [f"TL-{n}" for n in range(10, 0, -1)]


async def test_one_petition_and_its_letter_are_public_only_when_both_agreed() -> None:
    letters = RecordingLetters()
    rows = [candidate(1), candidate(2, consent=False), candidate(3, publish=False), candidate(4, status="08")]
    service = PublicAnswers(MemoryReads(rows), ROUTING, letters)
    [shown] = await service.of_petition("PAKN-2026-000001")
    assert shown.answer_id == "TL-1"
    name, pdf = await service.letter("PAKN-2026-000001", "TL-1")
    assert (name, pdf) == ("tra-loi-PAKN-2026-000001-TL-1.pdf", b"%PDF-copy")
    assert letters.made == [("TL-1", "Trả lời bà [đã ẩn] về bảo hiểm thất nghiệp.")]
    for number in (2, 3, 4):
        with pytest.raises(NotPublished):
            await service.of_petition(f"PAKN-2026-{number:06d}")
        with pytest.raises(NotPublished):
            await service.letter(f"PAKN-2026-{number:06d}", f"TL-{number}")
    with pytest.raises(NotPublished):
        await service.letter("PAKN-2026-000001", "TL-9")


@pytest.mark.parametrize(
    ("text", "cursor", "limit"),
    [
        ("x" * 201, None, None),
        ("một hai ba bốn năm sáu bảy tám chín", None, None),
        (None, "not-a-cursor", None),
        (None, None, 0),
        (None, None, 101),
    ],
)
def test_bad_input_is_refused_with_a_reason_in_both_languages(
    text: str | None, cursor: str | None, limit: int | None
) -> None:
    with pytest.raises(InvalidPublicRequest) as caught:
        PublicAnswers.query(text, cursor, limit)
    assert caught.value.message_vi and caught.value.message_en


def test_a_cursor_survives_its_round_trip() -> None:
    cursor = PublicCursor(datetime.fromisoformat("2026-11-28T09:30:00+07:00"), 42)
    assert PublicCursor.decode(cursor.encode()) == cursor
