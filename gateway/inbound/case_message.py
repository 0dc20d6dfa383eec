"""The JSON a unit's queue receives (schema `schemas/case-message-1.schema.json`, version 1).

It carries the whole petition, attachments included (base64), so a unit needs nothing else to work.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gateway.domain.case import Case
from gateway.domain.exchange import OutboxMessage
from gateway.domain.petition import Feedback, Petition, PetitionUpdate, attachments_json
from gateway.domain.routing import Unit

SCHEMA_ID = "urn:pakn:case-message:1"
CASES_EXCHANGE = "pakn.cases"

NEW = "pakn.case.new"
SUPPLEMENT = "pakn.case.supplement"
WITHDRAWN = "pakn.case.withdrawn"
FEEDBACK = "pakn.case.feedback"
# Types whose publisher confirm means the unit now holds the case (status 04).
ASSIGNING = frozenset({NEW})


def _routing_key(unit_code: str, type_: str) -> str:
    # pakn.case.new → unit.CVL.case.new ; units bind unit.<CODE>.#
    return f"unit.{unit_code}.{type_.removeprefix('pakn.')}"


def build(
    *,
    type_: str,
    message_id: str,
    case: Case,
    unit: Unit,
    at: datetime,
    petition: Petition | None = None,
    update: PetitionUpdate | None = None,
    feedback: Feedback | None = None,
) -> OutboxMessage:
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "version": 1,
        "type": type_,
        "message_id": message_id,
        "petition_id": case.petition_id,
        "unit": {"code": unit.code, "name": unit.name},
        "status": case.status.value,
        "issued_at": at.isoformat(),
    }
    if petition is not None:
        doc["petition"] = petition.to_json_dict(include_data=True)
    if update is not None:
        doc["update"] = {
            "action": update.action.value,
            "content": update.content,
            "at": update.at.isoformat(),
            "attachments": attachments_json(update.attachments, include_data=True),
        }
    if feedback is not None:
        doc["feedback"] = {
            "answer_id": feedback.answer_id,
            "rating": feedback.rating,
            "comment": feedback.comment,
            "at": feedback.at.isoformat(),
        }
    return OutboxMessage(
        message_id=message_id,
        exchange=CASES_EXCHANGE,
        routing_key=_routing_key(unit.code, type_),
        type=type_,
        correlation_id=case.petition_id,
        body=json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        created_at=at,
    )
