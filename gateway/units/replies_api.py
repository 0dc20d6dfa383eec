"""REST replies for units without an AMQP client: claim, note, answer, transfer, transfer out.

Each route takes the JSON fields of its reply type (schema ``urn:pakn:unit-reply:1``; the envelope
— schema, version, type, petition id, unit — comes from the URL) plus an optional ``message_id``
(send the same one again to retry safely; one is made up if absent) and ``at``. The body is decoded
by the same codec as an AMQP reply, so both doors accept and refuse the same things.

Errors are problem bodies: 409 ``InvalidTransition`` / ``WrongUnit``, 404 ``UnknownCase`` (also for a
case the unit never held: a unit never learns of others' cases), 422 ``InvalidReply`` /
``UnknownUnit`` (a transfer to a unit that is not configured), 413 ``ReplyTooLarge``, 503
``StoreUnavailable`` (send the same reply, same message_id, again).
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from gateway.domain.reply import ReplyKind
from gateway.domain.routing import RoutingTable
from gateway.outbound.errors import InvalidReply
from gateway.outbound.replies import Replies
from gateway.outbound.reply_codec import MAX_PDF_BYTES, SCHEMA_ID, parse_json, reply_from_json, reply_schema
from gateway.outbound.reply_intake import Refusal, ReplyRefused, apply_reply, invalid
from gateway.ports import StoreError, UnitOfWorkFactory
from gateway.units.auth import unit_auth
from gateway.units.problems import Problem

# a 20 MiB PDF is ~27 MiB of base64, plus the answer's text
MAX_BODY_BYTES = (MAX_PDF_BYTES + 2) // 3 * 4 + 2 * 1024 * 1024
# fields the URL sets: a body may not contradict them
ENVELOPE = frozenset({"schema", "version", "type", "petition_id", "unit_code"})
ROUTES: dict[ReplyKind, tuple[str, tuple[str, ...]]] = {
    ReplyKind.CLAIM: ("claim", ()),
    ReplyKind.NOTE: ("notes", ("text",)),
    ReplyKind.ANSWER: (
        "answer",
        ("content", "signer_name", "signer_position", "publish", "pdf_base64"),
    ),
    ReplyKind.TRANSFER: ("transfer", ("to_unit", "reason")),
    ReplyKind.TRANSFER_OUT: ("transfer-out", ("reason", "suggested_organ_id")),
}
SUMMARIES: dict[ReplyKind, str] = {
    ReplyKind.CLAIM: "Claim the case: the unit starts work on it (status 05).",
    ReplyKind.NOTE: "A progress note: the status stays, the national portal hears of it.",
    ReplyKind.ANSWER: "Answer the case (status 06): the gateway renders (unless given) and signs the letter.",
    ReplyKind.TRANSFER: "Hand the case to another unit of the ministry (status 04 there, on its queue).",
    ReplyKind.TRANSFER_OUT: "Outside the ministry's competence: RequestTransfer to the portal (status 07).",
}
STATUS_FOR: dict[str, int] = {"UnknownUnit": 422}  # a unit named in a body, not the path's


class ReplyOutcome(BaseModel):
    message_id: str
    petition_id: str
    status: str
    duplicate: bool
    answer_id: str | None


def replies_router(uow: UnitOfWorkFactory, routing: RoutingTable, replies: Replies) -> APIRouter:
    router = APIRouter(prefix="/api/units", tags=["units"])
    UnitDep = Annotated[str, Depends(unit_auth(uow, routing))]

    def add_route(kind: ReplyKind, path: str, fields: tuple[str, ...]) -> None:
        async def post_reply(unit: UnitDep, petition_id: str, request: Request) -> ReplyOutcome:
            doc = await _document(request, kind, fields, unit, petition_id)
            try:
                reply = reply_from_json(doc, unit_code=unit)
            except InvalidReply as exc:
                replies.on_reply(kind.value, InvalidReply.code)  # apply_reply counts the others
                raise _problem(invalid(exc.message, petition_id)) from exc
            try:
                result = await apply_reply(replies, reply)
            except ReplyRefused as exc:
                raise _problem(exc.refusal) from exc
            except StoreError as exc:
                raise Problem("StoreUnavailable", exc.code) from exc
            return ReplyOutcome(**result.__dict__)

        router.add_api_route(
            f"/{{unit}}/cases/{{petition_id}}/{path}",
            post_reply,
            methods=["POST"],
            response_model=ReplyOutcome,
            name=f"reply_{kind.value}",
            summary=SUMMARIES[kind],
            openapi_extra={"requestBody": _request_body(kind, fields)},
        )

    for kind, (path, fields) in ROUTES.items():
        add_route(kind, path, fields)
    return router


async def _document(
    request: Request, kind: ReplyKind, fields: tuple[str, ...], unit: str, petition_id: str
) -> dict[str, Any]:
    """The full reply document: the URL's envelope and the body's fields."""
    raw = await _read_capped(request)
    body = parse_json_body(raw) if raw.strip() else {}
    extra = sorted(set(body) - {"message_id", "at", *fields})
    if extra:
        where = "set by the URL" if set(extra) <= ENVELOPE else f"not fields of a {kind.value} reply"
        raise _problem(invalid(f"{', '.join(extra)}: {where}", petition_id))
    message_id = body.pop("message_id") if "message_id" in body else str(uuid.uuid4())
    return {
        "schema": SCHEMA_ID,
        "version": 1,
        "message_id": message_id,
        "type": kind.value,
        "petition_id": petition_id,
        "unit_code": unit,
        **body,
    }


def parse_json_body(raw: bytes) -> dict[str, Any]:
    try:
        doc = parse_json(raw)
    except InvalidReply as exc:
        raise _problem(invalid(exc.message)) from exc
    if not isinstance(doc, dict):
        raise _problem(invalid("the body must be a JSON object"))
    return doc


async def _read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem("ReplyTooLarge", f"at most {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Problem("ReplyTooLarge", f"at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _problem(refusal: Refusal) -> Problem:
    return Problem(
        refusal.code,
        refusal.message_en,
        status=STATUS_FOR.get(refusal.code),
        detail_vi=refusal.message_vi,
    )


def _request_body(kind: ReplyKind, fields: tuple[str, ...]) -> dict[str, Any]:
    """The OpenAPI view of a route's body, cut from the reply schema (which stays the one truth)."""
    reply = reply_schema()
    [rule] = [r for r in reply["allOf"] if r["if"]["properties"]["type"]["const"] == kind.value]
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": rule["then"].get("required", []),
        "properties": {name: reply["properties"][name] for name in ("message_id", "at", *fields)},
    }
    return {"required": bool(schema["required"]), "content": {"application/json": {"schema": schema}}}
