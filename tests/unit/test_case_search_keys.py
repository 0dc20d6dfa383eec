"""Case search in the domain: folding, search keys, phones, overdue, cursors; LIKE patterns."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from connectors.db.case_search_store import contains
from gateway.domain.petition import PetitionUpdate, UpdateAction
from gateway.domain.search import (
    OPEN_STATUSES,
    InvalidCursor,
    SearchCursor,
    is_overdue,
    normalise_phone,
    search_keys,
    supplement_text,
)
from gateway.domain.text import fold
from tests.unit.samples import WHEN, petition

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Người có công", "nguoi co cong"),
        (unicodedata.normalize("NFD", "Người có công"), "nguoi co cong"),
        ("ĐỖ ĐỨC ĐẠT", "do duc dat"),
        ("Hỏi đáp: lương hưu, BHXH!", "hoi dap luong huu bhxh"),
        ("PAKN-2026-000001", "pakn 2026 000001"),
        ("Ｆｕｌｌ ｗｉｄｔｈ", "full width"),
        ("  ", ""),
    ],
)
def test_fold_drops_diacritics_case_and_punctuation(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_the_data_itself_stays_nfc_with_its_diacritics() -> None:
    p = petition()
    assert p.sender.full_name == "Nguyễn Thị Hường"  # fold makes keys beside the text, never in place
    keys = search_keys(p)
    assert keys.sender == "nguyen thi huong"
    assert "kien nghi ve cach tinh luong huu" in keys.text
    assert "pakn 2026 000001" in keys.text
    assert "dinh tien hoang" in keys.text  # the address
    assert keys.phone is None and keys.due_at is None


@pytest.mark.parametrize(
    ("phone", "normal"),
    [
        ("0912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("0084-912-345-678", "0912345678"),
        ("(024) 3826 9554", "02438269554"),
        ("84", "84"),  # too short to be +84…: left as typed
        ("không có", None),
        (None, None),
    ],
)
def test_phones_are_compared_in_national_form(phone: str | None, normal: str | None) -> None:
    assert normalise_phone(phone) == normal


def test_only_a_supplement_adds_searchable_text() -> None:
    supplement = PetitionUpdate("P", UpdateAction.SUPPLEMENT, "Giấy xác nhận", WHEN)
    assert supplement_text(supplement) == "giay xac nhan"
    assert supplement_text(PetitionUpdate("P", UpdateAction.WITHDRAW, "Rút đơn", WHEN)) is None
    assert supplement_text(PetitionUpdate("P", UpdateAction.SUPPLEMENT, " ", WHEN)) is None


def test_open_statuses_are_those_the_state_machine_can_leave() -> None:
    assert OPEN_STATUSES == ("01", "03", "04", "05")


def test_overdue_means_open_and_past_due() -> None:
    past, future = NOW - timedelta(days=1), NOW + timedelta(days=1)
    assert is_overdue(past, "04", NOW) and is_overdue(past, "05", NOW) and is_overdue(past, "03", NOW)
    assert not is_overdue(future, "04", NOW)
    assert not is_overdue(None, "04", NOW)
    for closed in ("02", "06", "07", "08"):
        assert not is_overdue(past, closed, NOW)


def test_cursors_round_trip_and_refuse_anything_else() -> None:
    cursor = SearchCursor(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "PAKN-2026-000001")
    assert SearchCursor.decode(cursor.encode()) == cursor
    for bad in ("", "!!!", "bm90IGEgY3Vyc29y", SearchCursor.encode(cursor)[:-3], "WzEsMl0"):
        with pytest.raises(InvalidCursor):
            SearchCursor.decode(bad)


def test_like_patterns_take_wildcards_literally() -> None:
    assert contains("nguoi co cong") == "%nguoi co cong%"
    assert contains("100%_x\\") == "%100\\%\\_x\\\\%"
