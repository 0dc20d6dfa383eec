"""The sender's personal data out of what the public reads (gateway.public.redaction)."""

from __future__ import annotations

import dataclasses
import unicodedata

from gateway.domain.petition import Address, Sender, SenderType
from gateway.public.redaction import WITHHELD, redactor_for

SENDER = Sender(
    type=SenderType.CA_NHAN,
    full_name="Nguyễn Thị Hường",
    id_number="001190012345",
    phone="0912345678",
    email="huong.nguyen85@gmail.com",
    address=Address("Số 12 phố Đinh Tiên Hoàng, phường Hoàn Kiếm", "00070", "01"),
)


def test_the_senders_own_values_go_wherever_they_were_typed() -> None:
    redact = redactor_for(SENDER)
    text = (
        "Tôi là Nguyễn Thị Hường, cư trú tại Số 12 phố Đinh Tiên Hoàng, phường Hoàn Kiếm. "
        "CCCD 001190012345. Liên hệ 0912 345 678 hoặc +84 912.345.678 hoặc (+84)912-345-678, "
        "thư HUONG.NGUYEN85@GMAIL.COM. Bà NGUYỄN THỊ  HƯỜNG xin cảm ơn."
    )
    out = redact(text)
    for gone in ("Hường", "HƯỜNG", "Đinh Tiên Hoàng", "001190012345", "345", "GMAIL", "huong"):
        assert gone not in out, (gone, out)
    assert out.count(WITHHELD) == 8, out
    assert out.startswith("Tôi là [đã ẩn], cư trú tại [đã ẩn]. CCCD [đã ẩn]. Liên hệ [đã ẩn] hoặc")
    assert out.endswith("Bà [đã ẩn] xin cảm ơn.")


def test_other_phones_emails_and_ids_in_the_text_go_too_and_nothing_is_kept() -> None:
    redact = redactor_for(SENDER)
    out = redact("Con tôi (SĐT 098.765.4321, email con@yahoo.com.vn, CMND 123456789) chưa được trả lương.")
    assert out == f"Con tôi (SĐT {WITHHELD}, email {WITHHELD}, CMND {WITHHELD}) chưa được trả lương."


def test_ordinary_text_numbers_and_diacritics_stay_as_written_in_nfc() -> None:
    redact = redactor_for(SENDER)
    text = (
        "Theo Quyết định số 123/2025/QĐ-TTg ngày 15/7/2025, mức hưởng 1.500.000 đồng; hồ sơ PAKN-2026-000001."
    )
    decomposed = unicodedata.normalize("NFD", text)
    out = redact(decomposed)
    assert out == text and unicodedata.is_normalized("NFC", out)
    # a word containing part of the name is not the name
    assert redact("Nguyễn Thị Hường Giang là người khác") == f"{WITHHELD} Giang là người khác"
    assert redact("Hường dẫn") == "Hường dẫn"  # only the whole name, not one of its words


def test_a_phone_declared_in_international_form_is_found_in_national_form() -> None:
    redact = redactor_for(dataclasses.replace(SENDER, phone="+84 912 345 678"))
    # glued to a word: the generic digit pattern leaves it (a document number looks alike), the
    # sender's own number does not escape
    assert redact("Gọi ĐT0912345678 hoặc 0084912345678.") == f"Gọi ĐT{WITHHELD} hoặc {WITHHELD}."


def test_a_sender_without_contact_data_still_loses_long_digit_runs() -> None:
    voters = Sender(type=SenderType.CU_TRI, full_name="Cử tri phường Ba Đình")
    redact = redactor_for(voters)
    assert (
        redact("Cử tri phường Ba Đình phản ánh, gọi 0243 823 4567.")
        == f"{WITHHELD} phản ánh, gọi {WITHHELD}."
    )
