"""Realistic Vietnamese petitions, as the national portal would forward them, for load and e2e tests.

The output is zeep-ready: each petition is a dict shaped exactly like the XSD `Petition` type (optional
elements are left out, not set to None; `Attachments` is `{"Attachment": [...]}`; `Data` is bytes,
which zeep sends as base64; datetimes carry +07:00). All strings are NFC, as the portal signs them.

A batch of at least max(5, len(field_codes)) petitions covers every Kind, every sender Type and
every field code (and one more holds an unclassified petition), so a test can assert coverage
without depending on the seed. The same seed and the same `now` give the same petitions; `now`
defaults to the start of the current day in Vietnam, so a seed alone is stable within a day.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from connectors.national_sim import sample_files
from connectors.national_sim.senders import company_name, make_sender
from connectors.national_sim.topics import GENERAL_TOPICS, TOPICS, Topic
from connectors.national_sim.vn_time import VN_TZ

KINDS: tuple[str, ...] = ("PHAN_ANH", "KIEN_NGHI", "HOI_DAP", "CU_TRI", "DBQH")
SENDER_TYPES: tuple[str, ...] = ("CA_NHAN", "DOANH_NGHIEP", "TO_CHUC", "CU_TRI", "DAI_BIEU")
CHANNELS: tuple[str, ...] = ("WEB", "APP", "PHONE", "EMAIL", "POST", "DIRECT")

DEFAULT_FIELDS: tuple[str, ...] = (
    "VIEC_LAM",
    "GIAO_DUC_NGHE_NGHIEP",
    "LAO_DONG_TIEN_LUONG",
    "BAO_HIEM_XA_HOI",
    "AN_TOAN_VE_SINH_LAO_DONG",
    "NGUOI_CO_CONG",
    "BAO_TRO_XA_HOI",
    "TRE_EM",
    "BINH_DANG_GIOI",
    "PHONG_CHONG_TE_NAN_XA_HOI",
)
"""MOLISA's fields (lĩnh vực) before the 2025 restructuring, the codes the routing config knows."""

NO_FIELD_SHARE = 0.08
"""Share of petitions the portal could not classify (no FieldCode): they go to the triage unit."""

_KIND_WEIGHTS = (35, 25, 25, 8, 7)
_SENDER_FOR_KIND = {"CU_TRI": "CU_TRI", "DBQH": "DAI_BIEU"}
_CITIZEN_SENDERS, _CITIZEN_SENDER_WEIGHTS = ("CA_NHAN", "DOANH_NGHIEP", "TO_CHUC"), (70, 18, 12)
_CHANNEL_WEIGHTS = (40, 25, 10, 10, 5, 10)
_ASSEMBLY_CHANNELS = ("POST", "DIRECT", "WEB")
_PRIORITY_WEIGHTS = (70, 15, 8, 5, 2)
_COVERAGE = (  # the first slots of every batch, so that coverage never depends on the seed
    ("PHAN_ANH", "CA_NHAN"),
    ("KIEN_NGHI", "DOANH_NGHIEP"),
    ("HOI_DAP", "TO_CHUC"),
    ("CU_TRI", "CU_TRI"),
    ("DBQH", "DAI_BIEU"),
)
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread
_ID_TOKEN_LENGTH = 10
_PREFIX = re.compile(r"[A-Za-z0-9]{1,20}")
_CODE = re.compile(r"[A-Za-z0-9._\-]{1,50}")

_TITLE = {
    "PHAN_ANH": "Phản ánh về {subject}",
    "KIEN_NGHI": "Kiến nghị về {subject}",
    "HOI_DAP": "Hỏi về {subject}",
    "CU_TRI": "Kiến nghị của cử tri {province} về {subject}",
    "DBQH": "Kiến nghị của đại biểu Quốc hội về {subject}",
}
_OPENING = {
    "CA_NHAN": "Tôi là {name}, cư trú tại {line}.",
    "DOANH_NGHIEP": "{organisation} (mã số thuế {tax}), do ông/bà {name} làm đại diện, trình bày như sau:",
    "TO_CHUC": "{organisation} (người liên hệ: {name}) phản ánh như sau:",
    "CU_TRI": "Cử tri {ward}, {province} phản ánh:",
    "DAI_BIEU": "Đại biểu Quốc hội {name} ({organisation}) chuyển ý kiến sau các buổi tiếp xúc cử tri:",
}
_CLOSING = {
    "PHAN_ANH": "Kính đề nghị Bộ xem xét, chỉ đạo giải quyết.",
    "KIEN_NGHI": "Trân trọng kiến nghị.",
    "HOI_DAP": "Xin trân trọng cảm ơn.",
    "CU_TRI": "Cử tri mong sớm nhận được trả lời của Bộ.",
    "DBQH": "Đề nghị Bộ xem xét, trả lời đại biểu và cử tri theo quy định.",
}


def generate_petitions(
    count: int,
    *,
    seed: int | None = None,
    field_codes: Sequence[str] = DEFAULT_FIELDS,
    attachment_ratio: float = 0.25,
    prefix: str = "SIM",
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """`count` petitions received in the 14 days before `now`, ids `<prefix>-<year>-<10 chars>`, unique."""
    _check_arguments(count, field_codes, attachment_ratio, prefix)
    rng = random.Random(seed)
    reference = _reference_time(now)
    used_ids: set[str] = set()
    petitions = []
    for kind, sender_type, field in _plan(rng, count, field_codes):
        petition_id = _unique_id(rng, prefix, reference.year, used_ids)
        petition = _petition(rng, petition_id, kind, sender_type, field, reference, attachment_ratio)
        petitions.append(_nfc(petition))
    return petitions


def _check_arguments(count: int, field_codes: Sequence[str], attachment_ratio: float, prefix: str) -> None:
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0.0 <= attachment_ratio <= 1.0:
        raise ValueError("attachment_ratio must be between 0 and 1")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError("prefix must be 1-20 ASCII letters or digits (it starts every PetitionId)")
    if not field_codes:
        raise ValueError("field_codes must not be empty")
    for code in field_codes:
        if not _CODE.fullmatch(code):
            raise ValueError(f"field code {code!r} is not a valid CodeType")


def _reference_time(now: datetime | None) -> datetime:
    if now is None:
        return datetime.combine(datetime.now(VN_TZ).date(), time(0, 0), tzinfo=VN_TZ)
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return now.astimezone(VN_TZ)


def _plan(rng: random.Random, count: int, field_codes: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(kind, sender type, field) per petition: the coverage slots first, the rest random, then shuffled."""
    slots: list[tuple[str, str, str | None]] = []
    forced_fields: list[str | None] = list(dict.fromkeys(field_codes))
    if count > len(forced_fields) and count > len(_COVERAGE):
        forced_fields.append(None)  # at least one unclassified petition
    for index in range(count):
        if index < len(_COVERAGE):
            kind, sender_type = _COVERAGE[index]
        else:
            kind = rng.choices(KINDS, _KIND_WEIGHTS)[0]
            sender_type = (
                _SENDER_FOR_KIND.get(kind) or rng.choices(_CITIZEN_SENDERS, _CITIZEN_SENDER_WEIGHTS)[0]
            )
        if index < len(forced_fields):
            field = forced_fields[index]
        else:
            field = None if rng.random() < NO_FIELD_SHARE else rng.choice(field_codes)
        slots.append((kind, sender_type, field))
    rng.shuffle(slots)
    return slots


def _unique_id(rng: random.Random, prefix: str, year: int, used: set[str]) -> str:
    while True:
        token = "".join(rng.choices(_ID_ALPHABET, k=_ID_TOKEN_LENGTH))
        petition_id = f"{prefix}-{year}-{token}"
        if petition_id not in used:
            used.add(petition_id)
            return petition_id


def _petition(
    rng: random.Random,
    petition_id: str,
    kind: str,
    sender_type: str,
    field: str | None,
    reference: datetime,
    attachment_ratio: float,
) -> dict[str, Any]:
    sender = make_sender(rng, sender_type)
    topic = _draw_topic(rng, field, individual=sender_type == "CA_NHAN")
    received = reference - timedelta(seconds=rng.randint(300, 14 * 24 * 3600))
    context = {
        "company": sender.organisation if sender_type == "DOANH_NGHIEP" else company_name(rng),
        "province": sender.place.province.full_name,
        "ward": sender.place.ward.name,
        "day": rng.randint(1, 28),
        "month": rng.randint(1, 12),
        "months": rng.randint(2, 9),
        "years": rng.randint(2, 25),
        "amount": rng.choice((15, 30, 45, 60, 120, 150, 250)),
        "year": rng.randint(received.year - 4, received.year - 1),
        "count": rng.randint(3, 120),
    }
    petition: dict[str, Any] = {
        "PetitionId": petition_id,
        "Kind": kind,
        "Sender": sender.fields,
        "Title": _TITLE[kind].format(subject=topic.subject, province=context["province"]),
        "Content": _content(kind, sender_type, sender.fields, sender.organisation, topic, context),
    }
    if field:
        petition["FieldCode"] = field
    if topic.procedure_code and rng.random() < 0.5:
        petition["ProcedureCode"] = topic.procedure_code
    assembly = kind in ("CU_TRI", "DBQH")
    petition["Channel"] = (
        rng.choice(_ASSEMBLY_CHANNELS) if assembly else rng.choices(CHANNELS, _CHANNEL_WEIGHTS)[0]
    )
    petition["ReceivedAt"] = received
    if rng.random() < 0.5:
        due_day = (received + timedelta(days=rng.choice((10, 15, 20, 30, 45)))).date()
        petition["DueAt"] = datetime.combine(due_day, time(17, 0), tzinfo=VN_TZ)
    petition["Priority"] = rng.randint(1, 3) if assembly else rng.choices(range(5), _PRIORITY_WEIGHTS)[0]
    petition["PublishConsent"] = rng.random() < 0.6
    if rng.random() < attachment_ratio:
        files = [sample_files.attachment(rng) for _ in range(rng.randint(1, 2))]
        petition["Attachments"] = {"Attachment": files}
    return petition


def _draw_topic(rng: random.Random, field: str | None, *, individual: bool) -> Topic:
    topics = TOPICS.get(field, GENERAL_TOPICS) if field else GENERAL_TOPICS
    fitting = [topic for topic in topics if individual or not topic.first_person]
    return rng.choice(fitting or list(topics))


def _content(
    kind: str,
    sender_type: str,
    sender: dict[str, Any],
    organisation: str | None,
    topic: Topic,
    context: dict[str, Any],
) -> str:
    address = sender.get("Address") or {}
    opening = _OPENING[sender_type].format(
        name=sender["FullName"],
        line=address.get("Line", context["province"]),
        organisation=organisation,
        tax=sender.get("TaxCode", ""),
        ward=context["ward"],
        province=context["province"],
    )
    facts = topic.facts.format(**context)
    ask = topic.question if kind == "HOI_DAP" else topic.proposal.format(**context)
    return f"{opening} {facts} {ask} {_CLOSING[kind]}"


def _nfc(value: Any) -> Any:
    """NFC everywhere: the portal signs NFC, and the gateway compares ids and names byte for byte."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {key: _nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    return value
