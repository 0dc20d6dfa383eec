"""A petition as the `cases.petition_json` column keeps it (attachment bytes live in `attachments`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.domain.petition import Address, Attachment, Channel, Kind, Petition, Sender, SenderType


def petition_to_json(petition: Petition) -> str:
    return json.dumps(petition.to_json_dict(include_data=False), ensure_ascii=False, sort_keys=True)


def petition_from_json(raw: str, attachments: Sequence[Attachment]) -> Petition:
    doc: dict[str, Any] = json.loads(raw)
    return Petition(
        petition_id=doc["petition_id"],
        kind=Kind(doc["kind"]),
        sender=_sender(doc["sender"]),
        title=doc["title"],
        content=doc["content"],
        channel=Channel(doc["channel"]),
        received_at=datetime.fromisoformat(doc["received_at"]),
        priority=int(doc["priority"]),
        publish_consent=bool(doc["publish_consent"]),
        field_code=doc.get("field_code"),
        procedure_code=doc.get("procedure_code"),
        due_at=datetime.fromisoformat(doc["due_at"]) if doc.get("due_at") else None,
        attachments=tuple(attachments),
    )


def _sender(doc: dict[str, Any]) -> Sender:
    address = doc.get("address")
    return Sender(
        type=SenderType(doc["type"]),
        full_name=doc["full_name"],
        id_number=doc.get("id_number"),
        tax_code=doc.get("tax_code"),
        organization_name=doc.get("organization_name"),
        phone=doc.get("phone"),
        email=doc.get("email"),
        address=_address(address) if address else None,
    )


def _address(doc: dict[str, Any]) -> Address:
    return Address(
        line=doc["line"], ward_code=doc.get("ward_code"), province_code=doc.get("province_code")
    )
