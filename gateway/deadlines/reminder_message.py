"""The reminder a unit's queue receives (schema `schemas/case-reminder-1.schema.json`, version 1).

Routing key `unit.<UNIT>.case.reminder` on `pakn.cases`: the unit queue's binding `unit.<UNIT>.#`
already takes it. The message_id is derived from (PetitionId, threshold), so even a publish the
relay repeats after a crash reaches the unit under the same id, and the unit drops the copy.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from gateway.domain.case import Case
from gateway.domain.deadlines import DueCase, Threshold
from gateway.domain.exchange import OutboxMessage
from gateway.domain.routing import Unit
from gateway.domain.working_days import VIETNAM
from gateway.inbound.case_message import CASES_EXCHANGE

SCHEMA_ID = "urn:pakn:case-reminder:1"
TYPE = "pakn.case.reminder"
ROUTING_EVENT = "case.reminder"
# uuid5 namespace of reminder message ids (fixed: changing it would resend every reminder's id)
NAMESPACE = uuid.UUID("5b0f5f64-2c4e-4b7a-9a43-6f1f3c6d7e21")


def reminder_id(petition_id: str, threshold: str, unit_code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{petition_id}\n{threshold}\n{unit_code}"))


def build(
    *, case: Case, unit: Unit, due: DueCase, threshold: Threshold, working_days_left: int, at: datetime
) -> OutboxMessage:
    message_id = reminder_id(case.petition_id, threshold.code, unit.code)
    doc = {
        "schema": SCHEMA_ID,
        "version": 1,
        "type": TYPE,
        "message_id": message_id,
        "petition_id": case.petition_id,
        "unit": {"code": unit.code, "name": unit.name},
        "status": case.status.value,
        "issued_at": at.isoformat(),
        "reminder": {
            "threshold": threshold.code,
            "overdue": threshold.days_before is None,
            "due_at": due.due_at.astimezone(VIETNAM).isoformat(),  # as the unit reads it
            "due_source": due.due_source,
            "working_days_left": working_days_left,
            "title": due.title,
        },
    }
    return OutboxMessage(
        message_id=message_id,
        exchange=CASES_EXCHANGE,
        routing_key=f"unit.{unit.code}.{ROUTING_EVENT}",
        type=TYPE,
        correlation_id=case.petition_id,
        body=json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        created_at=at,
    )
