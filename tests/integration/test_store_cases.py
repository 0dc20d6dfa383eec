"""Cases, their history and the petitions behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.case import Case, Status
from gateway.domain.petition import (
    Address,
    Attachment,
    Channel,
    Feedback,
    Kind,
    Petition,
    PetitionUpdate,
    Sender,
    SenderType,
    UpdateAction,
)
from gateway.ports import StoreConflict, StoreError

pytestmark = pytest.mark.integration

ICT = timezone(timedelta(hours=7))
T0 = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=ICT)
UNIT = "000.00.12.G07"
OTHER_UNIT = "000.00.31.G07"


def attachment(name: str, data: bytes, content_type: str = "application/pdf") -> Attachment:
    return Attachment(name, content_type, len(data), hashlib.sha256(data).hexdigest(), data)


def nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


def vietnamese_petition(petition_id: str = "PAKN-2025-000123") -> Petition:
    # Written decomposed (NFD) on purpose: the domain stores NFC, and so must the database.
    return Petition(
        petition_id=petition_id,
        kind=Kind.PHAN_ANH,
        sender=Sender(
            type=SenderType.CA_NHAN,
            full_name=nfd("Nguyễn Thị Hồng Nhung"),
            id_number="001190012345",
            phone="0912345678",
            email="nhung.nguyen@example.vn",
            address=Address(nfd("Số 12 ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm"), "00070", "01"),
        ),
        title=nfd("Phản ánh việc chậm chi trả trợ cấp thất nghiệp"),
        content=nfd(
            "Tôi đã nộp hồ sơ hưởng trợ cấp thất nghiệp từ tháng 01/2025 nhưng đến nay chưa nhận được tiền."
        ),
        channel=Channel.WEB,
        received_at=T0,
        priority=2,
        publish_consent=True,
        field_code="VIEC_LAM",
        procedure_code="1.001978",
        due_at=T0 + timedelta(days=10),
        attachments=(
            attachment(nfd("Đơn đề nghị hưởng trợ cấp.pdf"), b"%PDF-1.7\n" + bytes(range(256)) * 40),
            attachment("ảnh chụp sổ BHXH.jpg", b"\xff\xd8\xff\xe0" + b"\x00\x01" * 500, "image/jpeg"),
            attachment("trống.txt", b"", "text/plain"),
        ),
    )


async def stored_case(db_uow: SqlUnitOfWorkFactory, petition: Petition | None = None) -> Case:
    petition = petition or vietnamese_petition()
    case = Case.arrive(petition.petition_id, UNIT, petition.fingerprint(), T0)
    async with db_uow() as uow:
        await uow.cases.add(case, petition)
        await uow.commit()
    return case


async def test_petition_reads_back_equal_bytes_and_text(db_uow: SqlUnitOfWorkFactory) -> None:
    petition = vietnamese_petition()
    await stored_case(db_uow, petition)

    async with db_uow() as uow:
        again = await uow.cases.petition(petition.petition_id)
        title, name = (
            await uow.session.execute(
                text("SELECT title, petition_json FROM cases WHERE petition_id = :p"),
                {"p": petition.petition_id},
            )
        ).one()

    assert again == petition
    assert again.attachments[0].data == petition.attachments[0].data
    assert [a.integrity_problem() for a in again.attachments] == [None, None, None]
    assert again.received_at.utcoffset() == timedelta(hours=7)
    assert again.sender.full_name == "Nguyễn Thị Hồng Nhung"
    assert unicodedata.is_normalized("NFC", title) and title == petition.title
    assert "Nguyễn Thị Hồng Nhung" in name  # readable JSON, not \\u escapes
    assert again.fingerprint() == petition.fingerprint()


async def test_case_reads_back_with_history_in_utc_and_no_events(db_uow: SqlUnitOfWorkFactory) -> None:
    case = await stored_case(db_uow)
    async with db_uow() as uow:
        again = await uow.cases.get(case.petition_id)
        missing = await uow.cases.get("PAKN-NOT-THERE")
        no_petition = await uow.cases.petition("PAKN-NOT-THERE")
    assert missing is None and no_petition is None
    assert again is not None
    assert again.events == []
    assert (again.petition_id, again.unit_code, again.fingerprint) == (
        case.petition_id,
        case.unit_code,
        case.fingerprint,
    )
    assert again.history == case.history
    assert [h.status for h in again.history] == [Status.ARRIVED, Status.ACCEPTED]
    assert all(h.changed_at.tzinfo is UTC for h in again.history)


async def test_save_after_assign_and_claim_appends_rising_seq(db_uow: SqlUnitOfWorkFactory) -> None:
    case = await stored_case(db_uow)
    steps: list[Callable[[Case, datetime], None]] = [
        lambda c, at: c.assign(at),
        lambda c, at: c.claim(UNIT, at),
        lambda c, at: c.reassign(UNIT, OTHER_UNIT, at, "chuyển Cục Việc làm"),
    ]
    for n, step in enumerate(steps, start=1):
        async with db_uow() as uow:
            loaded = await uow.cases.get(case.petition_id, for_update=True)
            assert loaded is not None
            step(loaded, T0 + timedelta(hours=n))
            await uow.cases.save(loaded)
            await uow.cases.save(loaded)  # nothing new the second time
            await uow.commit()

    async with db_uow() as uow:
        final = await uow.cases.get(case.petition_id)
        listed = await uow.cases.list_for_unit(OTHER_UNIT)
        none_left = await uow.cases.list_for_unit(UNIT)
        counts = await uow.cases.count_by_status()
    assert final is not None
    assert [h.seq for h in final.history] == [1, 2, 3, 4, 5]
    assert [h.status for h in final.history] == [
        Status.ARRIVED,
        Status.ACCEPTED,
        Status.ASSIGNED,
        Status.PROCESSING,
        Status.ASSIGNED,
    ]
    assert final.history[-1].description.endswith("chuyển Cục Việc làm")
    assert final.history[-1].changed_at == T0 + timedelta(hours=3)
    assert final.unit_code == OTHER_UNIT and final.status is Status.ASSIGNED
    assert none_left == []
    assert len(listed) == 1
    summary = listed[0]
    assert (summary.status, summary.kind, summary.unit_code) == ("04", "PHAN_ANH", OTHER_UNIT)
    assert summary.title == "Phản ánh việc chậm chi trả trợ cấp thất nghiệp"
    assert summary.received_at == T0 and summary.updated_at == T0 + timedelta(hours=3)
    assert counts == {"04": 1}


async def test_list_for_unit_filters_pages_and_orders(db_uow: SqlUnitOfWorkFactory) -> None:
    for n in range(5):
        petition = vietnamese_petition(f"PAKN-LIST-{n}")
        petition = Petition(**{**petition.__dict__, "received_at": T0 + timedelta(minutes=5 - n)})
        await stored_case(db_uow, petition)
    async with db_uow() as uow:
        case = await uow.cases.get("PAKN-LIST-0", for_update=True)
        assert case is not None
        case.assign(T0)
        await uow.cases.save(case)
        await uow.commit()
    async with db_uow() as uow:
        page = await uow.cases.list_for_unit(UNIT, limit=2, offset=1)
        accepted = await uow.cases.list_for_unit(UNIT, statuses=["03"])
        assigned = await uow.cases.list_for_unit(UNIT, statuses=["04", "05"])
        counts = await uow.cases.count_by_status()
    assert [s.petition_id for s in page] == ["PAKN-LIST-3", "PAKN-LIST-2"]
    assert [s.petition_id for s in accepted] == [f"PAKN-LIST-{n}" for n in (4, 3, 2, 1)]
    assert [s.petition_id for s in assigned] == ["PAKN-LIST-0"]
    assert counts == {"03": 4, "04": 1}


async def test_adding_the_same_petition_twice_is_a_conflict(db_uow: SqlUnitOfWorkFactory) -> None:
    await stored_case(db_uow)
    with pytest.raises(StoreConflict):
        await stored_case(db_uow)


async def test_saving_a_stale_case_is_a_conflict(db_uow: SqlUnitOfWorkFactory) -> None:
    case = await stored_case(db_uow)
    async with db_uow() as first:
        stale = await first.cases.get(case.petition_id)
    async with db_uow() as second:
        fresh = await second.cases.get(case.petition_id, for_update=True)
        assert fresh is not None
        fresh.assign(T0)
        await second.cases.save(fresh)
        await second.commit()
    assert stale is not None
    stale.withdraw(T0)
    async with db_uow() as third:
        again = await third.cases.get(case.petition_id)  # a fresh read in this transaction...
        assert again is not None
        with pytest.raises(StoreConflict):
            await third.cases.save(stale)  # ...does not make the stale object's history valid


async def test_saving_an_unknown_case_fails(db_uow: SqlUnitOfWorkFactory) -> None:
    case = Case.arrive("PAKN-GHOST", UNIT, "0" * 64, T0)
    async with db_uow() as uow:
        with pytest.raises(StoreError):
            await uow.cases.save(case)


async def test_updates_and_feedback_are_kept(db_uow: SqlUnitOfWorkFactory) -> None:
    case = await stored_case(db_uow)
    update = PetitionUpdate(
        case.petition_id,
        UpdateAction.SUPPLEMENT,
        "Bổ sung quyết định nghỉ việc",
        T0,
        (attachment("Quyết định thôi việc.pdf", b"%PDF-1.4 quyet dinh"),),
    )
    feedback = Feedback(case.petition_id, "ANS-1", 5, T0, "Rất hài lòng")
    async with db_uow() as uow:
        await uow.updates.add_update(update, message_id="m-update-1")
        await uow.updates.add_feedback(feedback, message_id="m-feedback-1")
        await uow.commit()
    async with db_uow() as uow:
        rows = (
            await uow.session.execute(
                text(
                    "SELECT u.content, a.file_name, a.data FROM petition_updates u "
                    "JOIN attachments a ON a.update_id = u.id WHERE u.message_id = 'm-update-1'"
                )
            )
        ).all()
        comment = (await uow.session.execute(text("SELECT comment FROM feedback"))).scalar_one()
        petition = await uow.cases.petition(case.petition_id)
    assert [tuple(r) for r in rows] == [
        ("Bổ sung quyết định nghỉ việc", "Quyết định thôi việc.pdf", b"%PDF-1.4 quyet dinh")
    ]
    assert comment == "Rất hài lòng"
    assert petition is not None and len(petition.attachments) == 3  # the update's file is not the petition's
    async with db_uow() as uow:
        with pytest.raises(StoreConflict):
            await uow.updates.add_update(update, message_id="m-update-1")


@contextmanager
def sql_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL sent to the database inside the block."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


def history_reads(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT") and "status_history" in s)


async def test_save_after_a_locked_read_does_not_lock_and_read_again(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    case = await stored_case(db_uow)
    async with db_uow() as uow:
        loaded = await uow.cases.get(case.petition_id, for_update=True)
        assert loaded is not None
        with sql_statements(db_migrated) as saves:
            loaded.assign(T0)
            await uow.cases.save(loaded)
            loaded.claim(UNIT, T0 + timedelta(minutes=1))
            await uow.cases.save(loaded)  # what the first save wrote is known too
        await uow.commit()
    assert saves and not any(s.lstrip().upper().startswith("SELECT") for s in saves), saves
    async with db_uow() as uow:
        final = await uow.cases.get(case.petition_id)
    assert final is not None
    assert [h.status for h in final.history][-2:] == [Status.ASSIGNED, Status.PROCESSING]


async def test_a_locked_read_is_not_trusted_after_its_transaction_ended(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    case = await stored_case(db_uow)
    async with db_uow() as first:
        held = await first.cases.get(case.petition_id, for_update=True)
        assert held is not None
        await first.commit()  # the row lock is gone: what was read under it may change now
        async with db_uow() as second:
            fresh = await second.cases.get(case.petition_id, for_update=True)
            assert fresh is not None
            fresh.assign(T0)
            await second.cases.save(fresh)
            await second.commit()
        held.withdraw(T0)
        with sql_statements(db_migrated) as saving, pytest.raises(StoreConflict):
            await first.cases.save(held)  # a new transaction: locked, read and compared again
    assert history_reads(saving) == 1, saving
    assert not any(s.lstrip().upper().startswith("INSERT") for s in saving), saving
    async with db_uow() as uow:
        final = await uow.cases.get(case.petition_id)
    assert final is not None and final.status is Status.ASSIGNED


@pytest.mark.parametrize("end", ["release", "rollback"])
async def test_a_savepoint_leaves_no_stale_locked_read(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine, end: str
) -> None:
    """What the transaction read under the lock is forgotten once a savepoint changed the case:
    released, its 04 is stored and must not be written again; rolled back, it is not stored."""
    case = await stored_case(db_uow)
    async with db_uow() as uow:
        held = await uow.cases.get(case.petition_id, for_update=True)
        assert held is not None
        savepoint = await uow.session.begin_nested()
        inner = await uow.cases.get(case.petition_id, for_update=True)
        assert inner is not None
        inner.assign(T0)
        await uow.cases.save(inner)
        await (savepoint.commit() if end == "release" else savepoint.rollback())
        if end == "release":  # the 04 is stored: the next change follows it
            current, expected = inner, [Status.ACCEPTED, Status.ASSIGNED, Status.PROCESSING]
            current.claim(UNIT, T0 + timedelta(minutes=1))
        else:  # the 04 is gone: the case read before the savepoint is the stored one again
            current, expected = held, [Status.ARRIVED, Status.ACCEPTED, Status.ASSIGNED]
            current.assign(T0 + timedelta(minutes=1))
        with sql_statements(db_migrated) as saving:
            await uow.cases.save(current)
        await uow.commit()
    assert history_reads(saving) == 1, saving  # read again under the lock, not trusted
    assert (await stored_statuses(db_uow, case.petition_id))[-len(expected) :] == expected


async def test_a_locked_read_is_not_trusted_after_a_rollback(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    """Rolled back, the transaction's 04 is gone: the next save in the same unit of work locks and
    reads again, and writes what the case holds above what is stored."""
    case = await stored_case(db_uow)
    async with db_uow() as uow:
        held = await uow.cases.get(case.petition_id, for_update=True)
        assert held is not None
        held.assign(T0)
        await uow.cases.save(held)
        await uow.rollback()
        # a statement first, so a new transaction is already open when the save looks
        assert await uow.receipts.find("no-such-message") is None
        held.claim(UNIT, T0 + timedelta(minutes=1))
        with sql_statements(db_migrated) as saving:
            await uow.cases.save(held)
        await uow.commit()
    assert history_reads(saving) == 1, saving
    assert (await stored_statuses(db_uow, case.petition_id))[-2:] == [Status.ASSIGNED, Status.PROCESSING]


async def stored_statuses(db_uow: SqlUnitOfWorkFactory, petition_id: str) -> list[Status]:
    """The stored history's statuses, once its Seq are checked to run 1, 2, 3… with no gap or repeat."""
    async with db_uow() as uow:
        final = await uow.cases.get(petition_id)
    assert final is not None
    assert [h.seq for h in final.history] == list(range(1, len(final.history) + 1))
    return [h.status for h in final.history]
