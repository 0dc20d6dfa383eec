"""A unit's reply as JSON (schema `schemas/unit-reply-1.schema.json`) ⇄ the domain's `UnitReply`.

One decoder for both doors, AMQP and REST, so a reply means the same whichever way it came. What
the schema cannot say is checked here: the unit the reply was sent for (routing key or URL path),
a time with its offset, a strict base64 PDF of at most 20 MiB that starts as a PDF and ends with a
trailer (a truncated file is refused now, not when the letter is signed). Text becomes NFC.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from gateway.domain.reply import AnswerDraft, ReplyKind, UnitReply
from gateway.domain.text import nfc
from gateway.inbound.intake import utc_now
from gateway.outbound.errors import InvalidReply
from schemas import schema_dir

SCHEMA_FILE = "unit-reply-1.schema.json"
SCHEMA_ID = "urn:pakn:unit-reply:1"
MAX_PDF_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
PDF_TAIL = 1024  # readers look for the trailer's startxref and %%EOF this far from the end
_SHOWN = 80  # characters of a refused value quoted back in an error message


@functools.cache
def reply_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    schema = reply_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def reply_from_json(
    doc: object, *, unit_code: str | None = None, clock: Callable[[], datetime] = utc_now
) -> UnitReply:
    """Decode one reply document; ``InvalidReply`` says what is wrong, in terms the unit can fix.

    ``unit_code`` is the unit the reply was sent for (AMQP routing key, REST path): a body naming
    another unit is refused. ``clock`` gives ``at`` when the reply has none.
    """
    if not isinstance(doc, dict):
        raise InvalidReply(f"a reply is a JSON object, not {_json_type(doc)}")
    error = best_match(_validator().iter_errors(doc))
    if error is not None:
        raise InvalidReply(f"not a valid {SCHEMA_ID} document: {_describe(error, doc)}")
    if unit_code is not None and doc["unit_code"] != unit_code:
        raise InvalidReply(f"the reply names unit {doc['unit_code']} but was sent for unit {unit_code}")
    kind = ReplyKind(doc["type"])
    at = _timestamp(doc["at"]) if "at" in doc else clock()
    answer = None
    if kind is ReplyKind.ANSWER:
        answer = AnswerDraft(
            content=nfc(doc["content"]),
            signer_name=nfc(doc["signer_name"]),
            signer_position=nfc(doc["signer_position"]),
            publish=doc["publish"],
            pdf=_pdf(doc["pdf_base64"]) if "pdf_base64" in doc else None,
        )
    text = doc.get("text") if kind is ReplyKind.NOTE else doc.get("reason")
    return UnitReply(
        message_id=doc["message_id"],
        kind=kind,
        petition_id=nfc(doc["petition_id"]),
        unit_code=doc["unit_code"],
        at=at,
        note=None if text is None else nfc(text),
        to_unit=doc.get("to_unit"),
        suggested_organ_id=doc.get("suggested_organ_id"),
        answer=answer,
    )


def reply_from_bytes(
    body: bytes, *, unit_code: str | None = None, clock: Callable[[], datetime] = utc_now
) -> UnitReply:
    """``reply_from_json`` of a UTF-8 JSON body (an AMQP message, a REST request)."""
    return reply_from_json(parse_json(body), unit_code=unit_code, clock=clock)


def parse_json(body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidReply(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidReply(f"the body is not JSON ({exc})") from exc


def reply_to_json(reply: UnitReply) -> dict[str, Any]:
    """The document a unit would send for ``reply`` (clients, tests, the demo's auto-answering unit)."""
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "version": 1,
        "message_id": reply.message_id,
        "type": reply.kind.value,
        "petition_id": reply.petition_id,
        "unit_code": reply.unit_code,
        "at": reply.at.isoformat(),
    }
    match reply.kind:
        case ReplyKind.NOTE:
            doc["text"] = reply.note
        case ReplyKind.TRANSFER:
            doc["to_unit"] = reply.to_unit
            if reply.note is not None:
                doc["reason"] = reply.note
        case ReplyKind.TRANSFER_OUT:
            doc["reason"] = reply.note
            if reply.suggested_organ_id is not None:
                doc["suggested_organ_id"] = reply.suggested_organ_id
        case ReplyKind.ANSWER if reply.answer is not None:
            doc |= {
                "content": reply.answer.content,
                "signer_name": reply.answer.signer_name,
                "signer_position": reply.answer.signer_position,
                "publish": reply.answer.publish,
            }
            if reply.answer.pdf is not None:
                doc["pdf_base64"] = base64.b64encode(reply.answer.pdf).decode("ascii")
        case _:
            pass
    return doc


def _timestamp(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidReply(f"at: {value!r} is not a date and time ({exc})") from exc
    if at.tzinfo is None or at.utcoffset() is None:  # the schema's pattern already asks for one
        raise InvalidReply(f"at: {value!r} has no offset")
    return at


def _pdf(encoded: str) -> bytes:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidReply(f"pdf_base64 is not strict base64 ({exc})") from exc
    if len(data) > MAX_PDF_BYTES:
        raise InvalidReply(f"pdf_base64: the PDF has {len(data)} bytes, more than {MAX_PDF_BYTES}")
    if not data.startswith(PDF_MAGIC):
        raise InvalidReply("pdf_base64 is not a PDF (it does not start with %PDF-)")
    tail = data[-PDF_TAIL:]
    if b"%%EOF" not in tail or b"startxref" not in tail:
        # a truncated upload, most often: it would only fail later, when the letter is signed
        raise InvalidReply("pdf_base64 is not a whole PDF (no startxref and %%EOF at its end)")
    return data


def _describe(error: ValidationError, doc: dict[str, Any]) -> str:
    if "propertyNames" in error.schema_path:
        return f"field {error.instance!r} does not belong to a {doc.get('type')} reply"
    where = error.json_path if error.path else "the reply"
    message = error.message
    if len(message) > 300:  # a megabyte string quoted back helps nobody (nor the logs)
        message = f"{message[:_SHOWN]}… ({error.validator} failed)"
    return f"{where}: {message}"


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__
