"""The operators' case search through the service layer, on SQLite and PostgreSQL: diacritics,
every filter, keyset paging, masking for viewers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.case_search_store import SqlCaseReads
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.operators import Principal, Role
from gateway.domain.petition import Kind, PetitionUpdate, UpdateAction
from gateway.domain.search import OPEN_STATUSES
from gateway.ops.case_search import CaseSearch
from gateway.ops.errors import InvalidRequest
from gateway.routing_config import load_config
from tests.support.case_samples import NOW, SPECS, T0, Spec, final_status, nfd, seed

pytestmark = pytest.mark.integration

OPERATOR = Principal("op", Role.OPERATOR)
VIEWER = Principal("viewer", Role.VIEWER)
NEWEST_FIRST = [s.petition_id for s in sorted(SPECS, key=lambda s: s.minutes, reverse=True)]


@pytest.fixture
async def search(db_migrated: AsyncEngine, db_uow: SqlUnitOfWorkFactory) -> CaseSearch:
    await seed(db_uow)
    return CaseSearch(SqlCaseReads(db_migrated), load_config().routing, lambda: NOW)


async def ids(search: CaseSearch, principal: Principal = OPERATOR, **criteria: object) -> list[str]:
    page = await search.search(principal, search.query(**criteria))  # type: ignore[arg-type]
    return [item.hit.petition_id for item in page.items]


def where(test: object) -> list[str]:
    assert callable(test)
    return [pid for pid in NEWEST_FIRST if test(next(s for s in SPECS if s.petition_id == pid))]


async def test_text_search_ignores_diacritics_case_and_normalisation(search: CaseSearch) -> None:
    expected = ["PAKN-2026-000004", "PAKN-2026-000003", "PAKN-2026-000001"]
    typings = ("nguoi co cong", "người có công", "NGƯỜI CÓ CÔNG", nfd("người có công"), "Nguoi  co   cong!")
    for typed in typings:
        assert await ids(search, q=typed) == expected, typed
    # đ and Đ fold to d, in the text and in the query
    assert await ids(search, q="dinh tien hoang") == NEWEST_FIRST  # everyone's address
    assert await ids(search, q="Đống Đa") == ["PAKN-2026-000006"]
    assert await ids(search, q="dong da") == ["PAKN-2026-000006"]
    # a phrase: words in the order typed
    assert await ids(search, q="cong nguoi co") == []


async def test_like_wildcards_are_punctuation_to_the_search(search: CaseSearch) -> None:
    assert await ids(search, q="100%") == ["PAKN-2026-000004"]
    assert await ids(search, q="1_0") == []  # "1 0", not "1, any character, 0"
    for typed in ("%", "_", "  "):  # punctuation only: no text criterion at all
        assert await ids(search, q=typed) == NEWEST_FIRST


async def test_search_by_petition_id_sender_and_phone(search: CaseSearch) -> None:
    assert await ids(search, petition_id="PAKN-2026-000005") == ["PAKN-2026-000005"]
    assert await ids(search, petition_id="PAKN-2026-00000") == []  # exact, not a prefix
    assert await ids(search, q="pakn 2026 000005") == ["PAKN-2026-000005"]  # but free text finds it
    assert await ids(search, sender="nguyen") == ["PAKN-2026-000007", "PAKN-2026-000001"]
    assert await ids(search, sender="Trần Văn Đức") == ["PAKN-2026-000002"]
    assert await ids(search, sender="tran van duc") == ["PAKN-2026-000002"]
    assert await ids(search, sender="cong") == []  # the name only, not the content
    assert await ids(search, phone="0912 345 678") == ["PAKN-2026-000006", "PAKN-2026-000001"]
    assert await ids(search, phone="0987654321") == ["PAKN-2026-000002"]  # stored as +84 987 654 321
    assert await ids(search, phone="+84 243 826 9554") == ["PAKN-2026-000004"]


async def test_each_filter_and_their_combination(search: CaseSearch) -> None:
    assert await ids(search, status=["04"]) == where(lambda s: final_status(s) == "04")
    assert await ids(search, status=["05", "06"]) == where(lambda s: final_status(s) in ("05", "06"))
    assert await ids(search, unit=["CVL"]) == where(lambda s: s.unit == "CVL")
    assert await ids(search, field=["NGUOI_CO_CONG"]) == where(lambda s: s.field_code == "NGUOI_CO_CONG")
    assert await ids(search, kind=["PHAN_ANH"]) == where(lambda s: s.kind is Kind.PHAN_ANH)
    # open and past DueAt; completed (03) and withdrawn (05) were due earlier but are closed
    assert await ids(search, overdue=True) == ["PAKN-2026-000007", "PAKN-2026-000001"]
    assert await ids(search, unit=["CVL"], status=["04"]) == ["PAKN-2026-000007"]
    assert await ids(search, q="tro cap", kind=["PHAN_ANH"]) == ["PAKN-2026-000008", "PAKN-2026-000002"]


async def test_results_say_which_cases_are_overdue(search: CaseSearch) -> None:
    page = await search.search(OPERATOR, search.query())
    assert {i.hit.petition_id for i in page.items if i.overdue} == {"PAKN-2026-000001", "PAKN-2026-000007"}


async def test_bad_filters_are_refused_with_a_reason(search: CaseSearch) -> None:
    for criteria in ({"status": ["99"]}, {"kind": ["NOPE"]}, {"unit": ["NOT_A_UNIT"]}, {"limit": 0},
                     {"limit": 201}, {"phone": "no digits"}, {"cursor": "garbage!"}, {"q": "x" * 201}):
        with pytest.raises(InvalidRequest) as caught:
            search.query(**criteria)  # type: ignore[arg-type]
        assert caught.value.message_vi and caught.value.message_en
    with pytest.raises(InvalidRequest) as caught:
        search.query(cursor="bm90IGEgY3Vyc29y")
    assert caught.value.code == "Search.InvalidCursor"


async def test_keyset_pages_cover_everything_once_in_order(search: CaseSearch) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await search.search(OPERATOR, search.query(limit=3, cursor=cursor))
        seen += [i.hit.petition_id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == NEWEST_FIRST
    # filters hold across pages too
    first = await search.search(OPERATOR, search.query(status=["04"], limit=2))
    second = await search.search(OPERATOR, search.query(status=["04"], limit=2, cursor=first.next_cursor))
    assert [i.hit.petition_id for i in first.items + second.items] == where(lambda s: final_status(s) == "04")


async def test_paging_is_stable_when_cases_arrive_between_pages(
    search: CaseSearch, db_uow: SqlUnitOfWorkFactory
) -> None:
    first = await search.search(OPERATOR, search.query(limit=4))
    # a newer case (would be first) and one received at exactly the last hit's instant
    last = next(s for s in SPECS if s.petition_id == first.items[-1].hit.petition_id)
    await seed(db_uow, (
        Spec("PAKN-2026-000100", Kind.PHAN_ANH, None, "VPB", "Mới Đến", None, "Mới", "Mới", 999, None),
        Spec("PAKN-2026-000000", Kind.PHAN_ANH, None, "VPB", "Cùng", None, "Cùng", "C", last.minutes, None),
    ))
    second = await search.search(OPERATOR, search.query(limit=4, cursor=first.next_cursor))
    rest = [i.hit.petition_id for i in second.items]
    # same instant, smaller petition id: after the cursor, so on the later page; nothing repeats
    assert rest == ["PAKN-2026-000000", *NEWEST_FIRST[4:7]]
    assert not set(rest) & {i.hit.petition_id for i in first.items}


async def test_viewers_get_personal_data_masked(search: CaseSearch) -> None:
    full = await search.search(OPERATOR, search.query(petition_id="PAKN-2026-000002"))
    masked = await search.search(VIEWER, search.query(petition_id="PAKN-2026-000002"))
    [f], [m] = full.items, masked.items
    assert (f.hit.phone, f.hit.id_number, f.hit.email) == (
        "+84 987 654 321", "001190012345", "pakn-2026-000002@example.vn",
    )
    assert m.hit.phone == "+•• ••• ••• 321"
    assert m.hit.id_number == "•••••••••345"
    assert m.hit.email == "p•••@example.vn"
    assert "0987654321" not in str(masked) and "001190012345" not in str(masked)
    assert masked.masked and not full.masked
    assert m.hit.sender_name == "Trần Văn Đức"  # names are not masked: viewers must tell cases apart


async def test_a_supplement_is_found_with_its_case(search: CaseSearch, db_uow: SqlUnitOfWorkFactory) -> None:
    assert await ids(search, q="giay xac nhan liet si") == []
    async with db_uow() as uow:
        await uow.updates.add_update(
            PetitionUpdate("PAKN-2026-000008", UpdateAction.SUPPLEMENT, "Gửi kèm giấy xác nhận liệt sĩ",
                           T0 + timedelta(days=2)),
            message_id="supp-1",
        )
        await uow.updates.add_update(
            PetitionUpdate("PAKN-2026-000007", UpdateAction.WITHDRAW, "rút đơn vì đã có liệt sĩ", T0),
            message_id="withdraw-1",
        )
        await uow.commit()
    assert await ids(search, q="giay xac nhan liet si") == ["PAKN-2026-000008"]
    assert await ids(search, q="liet si") == ["PAKN-2026-000008"]  # a withdrawal's text adds nothing


async def test_due_soon_finds_open_cases_not_yet_overdue_before_the_horizon(
    db_migrated: AsyncEngine, db_uow: SqlUnitOfWorkFactory
) -> None:
    await seed(db_uow)
    horizon = NOW + timedelta(days=40)
    search = CaseSearch(SqlCaseReads(db_migrated), load_config().routing, lambda: NOW, lambda now: horizon)
    everything = (await search.search(OPERATOR, search.query(limit=200))).items
    expected = {
        i.hit.petition_id
        for i in everything
        if i.hit.due_at is not None and NOW <= i.hit.due_at < horizon and i.hit.status in OPEN_STATUSES
    }
    assert expected, "the seed must hold a case due soon, or this test proves nothing"
    assert set(await ids(search, due_soon=True)) == expected
    assert {i.hit.petition_id for i in everything if i.due_soon} == expected
    assert not any(i.due_soon and i.overdue for i in everything)
    # without a calendar nothing is due soon
    bare = CaseSearch(SqlCaseReads(db_migrated), load_config().routing, lambda: NOW)
    assert await ids(bare, due_soon=True) == []
