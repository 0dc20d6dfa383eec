"""The messages the national portal receives about a case, in the contract's own words (DESIGN §2).

Every status change becomes a `ReceiveStatus`; answers and transfers have their own operations.
Payloads are plain JSON-able dicts with the contract's element names; the SOAP client turns them
into XML. Answer documents travel base64-encoded.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from gateway.domain.answer import Answer
from gateway.domain.case import StatusChange
from gateway.domain.exchange import NationalMessage

RECEIVE_STATUS = "ReceiveStatus"
RECEIVE_ANSWER = "ReceiveAnswer"
REQUEST_TRANSFER = "RequestTransfer"


def status_message(petition_id: str, change: StatusChange, at: datetime) -> NationalMessage:
    payload = {
        "PetitionId": petition_id,
        "StatusCode": change.status.value,
        "Description": change.description,
        "UnitCode": change.unit_code,
        "ChangedAt": change.changed_at.isoformat(),
        "Seq": change.seq,
    }
    return NationalMessage(petition_id, RECEIVE_STATUS, str(uuid.uuid4()), payload, at)


def answer_message(answer: Answer, at: datetime) -> NationalMessage:
    payload: dict[str, Any] = {
        "PetitionId": answer.petition_id,
        "AnswerId": answer.answer_id,
        "UnitCode": answer.unit_code,
        "Content": answer.content,
        "AnsweredAt": answer.answered_at.isoformat(),
        "Signer": {"FullName": answer.signer_name, "Position": answer.signer_position},
        "Document": {
            "FileName": answer.document_name,
            "ContentType": "application/pdf",
            "Sha256": answer.document_sha256,
            "Data": base64.b64encode(answer.document).decode("ascii"),
        },
        "Publish": answer.publish,
    }
    return NationalMessage(answer.petition_id, RECEIVE_ANSWER, str(uuid.uuid4()), payload, at)


def transfer_message(
    petition_id: str, reason: str, suggested_organ_id: str | None, at: datetime
) -> NationalMessage:
    payload: dict[str, Any] = {"PetitionId": petition_id, "Reason": reason}
    if suggested_organ_id:
        payload["SuggestedOrganId"] = suggested_organ_id
    return NationalMessage(petition_id, REQUEST_TRANSFER, str(uuid.uuid4()), payload, at)
