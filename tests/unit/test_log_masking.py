"""Personal data out of log text: phones, e-mails, CCCD/CMND; identifiers and Vietnamese kept."""

from __future__ import annotations

import pytest

from gateway.observability.masking import mask_text, mask_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # phones: mobile and landline, with 0 or +84, with spaces, dots or dashes
        ("SĐT 0912345678 gọi lại", "SĐT •••••••678 gọi lại"),
        ("0912 345 678", "•••• ••• 678"),
        ("0912.345.678.", "••••.•••.678."),
        ("+84 912 345 678", "+•• ••• ••• 678"),
        ("+84912345678", "+••••••••678"),
        ("máy bàn 024 3825 1234", "máy bàn ••• •••• •234"),
        # citizen ids: CCCD (12 digits) and CMND (9)
        ("CCCD: 001203004567, cấp 2021", "CCCD: •••••••••567, cấp 2021"),
        ("CMND 123456789", "CMND ••••••789"),
        # e-mails: first letter and domain kept
        ("gửi nguyen.van.an@gmail.com nhé", "gửi n•••@gmail.com nhé"),
        ("Trần.Thị@bộ.gov.vn", "T•••@bộ.gov.vn"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "PetitionId PAKN-2026-123456789012 received",  # digits glued to an identifier
        "message 3f2b8c1e-4d5a-4e6f-9a0b-123456789012",  # a UUID's last group of digits
        "path /var/pakn/123456789/answer.pdf",
        "took 12.5 ms, ratio 0.25",  # (9+ digits in a row are masked, decimals too: better so)
        "10 cases, 3 overdue, outbox 250",
        "Bộ Lao động - Thương binh và Xã hội, mã định danh 000.00.00.G07",
    ],
)
def test_identifiers_and_small_numbers_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_more_than_one_in_a_line_and_nothing_left_behind() -> None:
    line = "Ông An (0987654321, an@example.vn, CCCD 079123456789) và bà Bình (CMND 271234567)"
    masked = mask_text(line)
    for secret in ("0987654321", "an@example.vn", "079123456789", "271234567", "98765", "0791234"):
        assert secret not in masked
    assert masked == "Ông An (•••••••321, a•••@example.vn, CCCD •••••••••789) và bà Bình (CMND ••••••567)"


def test_nested_values_are_masked_and_keys_kept() -> None:
    value = {"phone": "0912345678", "list": ["x@y.vn", 7], "n": 5}
    assert mask_value(value) == {"phone": "•••••••678", "list": ["x•••@y.vn", 7], "n": 5}


def test_vietnamese_text_is_kept_as_written() -> None:
    text = "Người có công với cách mạng đề nghị giải quyết chế độ"
    assert mask_text(text) == text
