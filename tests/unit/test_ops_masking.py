"""Masking of personal data for viewers: ids, phones, emails, and the same inside free text."""

from __future__ import annotations

import pytest

from gateway.domain.personal_data import mask_digits, mask_email, mask_id_number, mask_phone, mask_text


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("0912345678", "•••••••678"),
        ("+84 912 345 678", "+•• ••• ••• 678"),
        ("0243.826.9554", "••••.•••.•554"),
        ("12", "12"),  # too short to hide anything: nothing to tell apart either
        ("", ""),
        (None, None),
    ],
)
def test_phones_keep_their_last_three_digits_and_their_shape(value: str | None, masked: str | None) -> None:
    assert mask_phone(value) == masked


def test_id_numbers_keep_their_last_three_digits() -> None:
    assert mask_id_number("001190012345") == "•••••••••345"
    assert mask_id_number("123456789") == "••••••789"  # the old 9-digit CMND
    assert mask_digits("không có số") == "•••"  # no digit to keep: hide it all


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("nguyen.van.a@gmail.com", "n•••@gmail.com"),
        ("a@b.vn", "a•••@b.vn"),
        ("not an email", "•••"),
        (None, None),
    ],
)
def test_emails_keep_the_first_letter_and_the_domain(value: str | None, masked: str | None) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SĐT 0912345678, email nguyen.van.a@gmail.com", "SĐT •••••••678, email n•••@gmail.com"),
        ("CCCD 001190012345 cấp ngày 01/02/2020", "CCCD •••••••••345 cấp ngày 01/02/2020"),
        ("Gọi (+84) 912.345.678.", "Gọi (+••) •••.•••.678."),
        ("ĐT:0912345678", "ĐT:•••••••678"),
        # not personal data: PetitionIds, document numbers, dates, amounts under 9 digits
        ("hồ sơ PAKN-2026-000001", "hồ sơ PAKN-2026-000001"),
        ("Quyết định 123456789/QĐ-BLĐTBXH", "Quyết định 123456789/QĐ-BLĐTBXH"),
        ("số tiền 1.500.000 đồng ngày 12/03/2026", "số tiền 1.500.000 đồng ngày 12/03/2026"),
        ("Người có công", "Người có công"),
        (None, None),
    ],
)
def test_free_text_is_masked_where_it_holds_personal_data(text: str | None, masked: str | None) -> None:
    assert mask_text(text) == masked
