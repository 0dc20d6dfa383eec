"""A seeded data set for the report tests: cases with every outcome (answered on time or late,
transferred between units or out, withdrawn, rejected, still open), written straight into the
store's tables as the gateway would have left them (the case's report and timeline columns through
the case repository's own helpers), with plain Python records the tests compute
expected figures from (without the report code)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.case_repository import moved_from, report_columns, timeline_columns
from connectors.db.petition_codec import petition_to_json
from connectors.db.tables import AnswerRow, CaseRow, FeedbackRow, StatusHistoryRow
from gateway.domain.case import Status, StatusChange
from gateway.domain.petition import Address, Channel, Kind, Petition, Sender, SenderType

VN = timezone(timedelta(hours=7))
UNITS = ("VBHXH", "CVL", "CNCC", "VPB")
FIELDS = ("BAO_HIEM_XA_HOI", "VIEC_LAM", "NGUOI_CO_CONG", None)
# current 2025 codes, old codes merged away in 2025 (26 Vĩnh Phúc → 25 Phú Thọ, 74 Bình Dương → 79,
# 35 Hà Nam → 37), a code written without its zero, a code that never existed, and no address
PROVINCE_CODES = ("01", "79", "26", "74", "35", "1", "48", "99", None)
OUTCOMES = ("answered", "answered", "answered", "moved", "out", "withdrawn", "rejected", "open")


@dataclass(frozen=True)
class SeedCase:
    petition_id: str
    kind: str
    sender_type: str
    channel: str
    field_code: str | None
    province_code: str | None
    received_at: datetime
    accepted_at: datetime
    due_at: datetime | None
    first_unit: str
    unit: str  # where it is now (after a transfer between units)
    outcome: str
    closed_at: datetime | None  # 02, 06, 07 or 08
    moved_at: datetime | None  # the second 04
    answers: tuple[datetime, ...] = ()
    ratings: tuple[tuple[datetime, int], ...] = field(default=())


def make_seed(count: int = 160, seed: int = 2026, units: tuple[str, ...] = UNITS) -> list[SeedCase]:
    rng = random.Random(seed)
    start = datetime(2026, 8, 20, 8, 0, tzinfo=VN)
    cases = []
    for n in range(count):
        received = start + timedelta(minutes=rng.randrange(0, 92 * 24 * 60))
        # some accepted after office hours or on a weekend: the receipt day moves on
        accepted = received + timedelta(minutes=rng.choice((5, 30, 240, 600, 2000)))
        outcome = rng.choice(OUTCOMES)
        first_unit = rng.choice(units)
        unit = first_unit
        moved_at = closed = None
        answers: tuple[datetime, ...] = ()
        ratings: tuple[tuple[datetime, int], ...] = ()
        if outcome == "moved":
            unit = rng.choice([u for u in units if u != first_unit])
            moved_at = accepted + timedelta(hours=rng.randint(2, 200))
            if rng.random() < 0.5:  # and then answered by the new unit
                outcome = "answered"
        if outcome == "answered":
            first = (moved_at or accepted) + timedelta(hours=rng.randint(1, 45 * 24))
            answers = (first,) if rng.random() < 0.8 else (first, first + timedelta(days=2))
            closed = first
            ratings = tuple(
                (first + timedelta(days=rng.randint(0, 20)), rng.randint(1, 5))
                for _ in range(rng.choice((0, 1, 1, 2)))
            )
        elif outcome in ("out", "withdrawn", "rejected"):
            closed = accepted + timedelta(hours=rng.randint(1, 30 * 24))
        due = None if rng.random() < 0.25 else accepted + timedelta(days=rng.choice((10, 15, 21, 30)))
        cases.append(
            SeedCase(
                petition_id=f"RPT-2026-{n:05d}",
                kind=rng.choice(list(Kind)).value,
                sender_type=rng.choice(list(SenderType)).value,
                channel=rng.choice(list(Channel)).value,
                field_code=rng.choice(FIELDS),
                province_code=rng.choice(PROVINCE_CODES),
                received_at=received,
                accepted_at=accepted,
                due_at=due,
                first_unit=first_unit,
                unit=unit,
                outcome=outcome,
                closed_at=closed,
                moved_at=moved_at,
                answers=answers,
                ratings=ratings,
            )
        )
    return cases


def petition_of(case: SeedCase) -> Petition:
    address = None
    if case.province_code is not None:
        address = Address(line="Số 1 đường Lê Lợi", province_code=case.province_code)
    return Petition(
        petition_id=case.petition_id,
        kind=Kind(case.kind),
        sender=Sender(type=SenderType(case.sender_type), full_name="Trần Văn Bình", address=address),
        title="Kiến nghị về chế độ",
        content="Nội dung kiến nghị.",
        channel=Channel(case.channel),
        received_at=case.received_at,
        priority=1,
        publish_consent=False,
        field_code=case.field_code,
        due_at=case.due_at,
    )


def history(case: SeedCase) -> list[tuple[str, str, datetime]]:
    """(status, unit, changed_at) in order, as the case state machine records them."""
    steps = [("01", case.first_unit, case.received_at), ("03", case.first_unit, case.accepted_at)]
    if case.outcome == "rejected":
        return [steps[0], ("02", case.first_unit, case.closed_at or case.accepted_at)]
    steps.append(("04", case.first_unit, case.accepted_at + timedelta(seconds=1)))
    if case.moved_at is not None:
        steps.append(("04", case.unit, case.moved_at))
    closing = {"answered": "06", "out": "07", "withdrawn": "08"}.get(case.outcome)
    if closing and case.closed_at is not None:
        if closing == "06":
            steps.append(("05", case.unit, case.closed_at - timedelta(minutes=1)))
        steps.append((closing, case.unit, case.closed_at))
    return steps


def status_now(case: SeedCase) -> str:
    return history(case)[-1][0]


async def write_seed(engine: AsyncEngine, cases: list[SeedCase]) -> None:
    now = datetime(2026, 12, 1, tzinfo=VN)
    async with engine.begin() as connection:
        for case in cases:
            petition = petition_of(case)
            changes = [StatusChange(n, Status(s), u, s, t) for n, (s, u, t) in enumerate(history(case), 1)]
            await connection.execute(
                insert(CaseRow).values(
                    petition_id=case.petition_id,
                    kind=case.kind,
                    sender_type=case.sender_type,
                    field_code=case.field_code,
                    unit_code=case.unit,
                    status=status_now(case),
                    fingerprint=petition.fingerprint(),
                    title=petition.title,
                    petition_json=petition_to_json(petition),
                    received_at=case.received_at,
                    created_at=case.received_at,
                    updated_at=now,
                    due_at=case.due_at,
                    **report_columns(petition),
                    **timeline_columns(changes),
                    first_answered_at=case.answers[0] if case.answers else None,
                )
            )
            rows = [
                {
                    "petition_id": case.petition_id,
                    "seq": c.seq,
                    "status": c.status.value,
                    "unit_code": c.unit_code,
                    "description": c.description,
                    "changed_at": c.changed_at,
                    "moved_from": moved_from(previous, c),
                }
                for previous, c in zip([None, *changes[:-1]], changes, strict=True)
            ]
            await connection.execute(insert(StatusHistoryRow), rows)
            for number, at in enumerate(case.answers, 1):
                document = b"%PDF-1.7 seed"
                await connection.execute(
                    insert(AnswerRow).values(
                        petition_id=case.petition_id,
                        answer_id=f"TL-{case.petition_id}-{number}",
                        unit_code=case.unit,
                        content="Trả lời.",
                        answered_at=at,
                        signer_name="Nguyễn Văn An",
                        signer_position="Vụ trưởng",
                        publish=False,
                        document_name="tra-loi.pdf",
                        document=document,
                        document_sha256=hashlib.sha256(document).hexdigest(),
                    )
                )
            for number, (at, rating) in enumerate(case.ratings):
                await connection.execute(
                    insert(FeedbackRow).values(
                        message_id=f"FB-{case.petition_id}-{number}",
                        petition_id=case.petition_id,
                        answer_id=f"TL-{case.petition_id}-1",
                        unit_code=case.unit,  # as SqlUpdateBook.add_feedback copies them
                        field_code=case.field_code,
                        rating=rating,
                        comment=None,
                        at=at,
                    )
                )
