"""Between the two doors (AMQP, REST) and the reply service: apply a reply, or say why not.

``apply_reply`` runs ``Replies.handle`` (retrying a lost race, which is safe: the service is
idempotent by message_id) and turns every refusal into a ``Refusal`` with a stable code and a
Vietnamese and an English message. A unit never learns of another unit's case: a reply about a case
it never held is "unknown case", exactly like a petition that does not exist; only a unit that held
the case once is told it has moved on ("WrongUnit").

``ReplyIntake`` is the AMQP handler (``connectors.amqp.reply_consumer.ReplyHandler``): it reads the
routing key ``unit.<CODE>.reply.<type>``, decodes the body, applies it, and raises ``ReplyRefusal``
naming the unit to tell. Store failures pass through as ``StoreError``: the consumer requeues.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from connectors.amqp.reply_consumer import ReplyRefusal
from gateway.domain.case import DESCRIPTIONS, Case
from gateway.domain.errors import InvalidTransition, WrongUnit
from gateway.domain.reply import ReplyKind, UnitReply
from gateway.inbound.intake import utc_now
from gateway.observability.json_logging import correlation
from gateway.outbound.errors import InvalidReply, ReplyError, UnknownCase, UnknownUnit
from gateway.outbound.replies import Replies, ReplyResult
from gateway.outbound.reply_codec import parse_json, reply_from_json
from gateway.ports import StoreConflict, StoreError

log = logging.getLogger(__name__)

KINDS = frozenset(kind.value for kind in ReplyKind)
ROUTING_KEY = re.compile(r"^unit\.(?P<unit>[A-Z][A-Z0-9_]{1,31})\.reply\.(?P<type>[a-z_]+)$")
CONFLICT_RETRIES = 2

# what a unit tried to do, for "case X is 08; it cannot be …"
_ACTIONS: dict[ReplyKind, tuple[str, str]] = {
    ReplyKind.CLAIM: ("nhận xử lý", "claimed"),
    ReplyKind.NOTE: ("ghi nhận tiến độ", "given a progress note"),
    ReplyKind.ANSWER: ("trả lời", "answered"),
    ReplyKind.TRANSFER: ("chuyển cho đơn vị khác", "transferred to another unit"),
    ReplyKind.TRANSFER_OUT: ("chuyển cơ quan có thẩm quyền", "transferred out of the ministry"),
}


@dataclass(frozen=True)
class Refusal:
    code: str  # InvalidReply, UnknownCase, UnknownUnit, InvalidTransition, WrongUnit
    message_vi: str
    message_en: str
    petition_id: str | None = None


class ReplyRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.code}: {refusal.message_en}")
        self.refusal = refusal


def invalid(message: str, petition_id: str | None = None) -> Refusal:
    return Refusal(
        InvalidReply.code,
        f"Phản hồi không hợp lệ: {message}",
        f"Invalid reply: {message}",
        petition_id,
    )


async def apply_reply(
    replies: Replies, reply: UnitReply, *, conflict_retries: int = CONFLICT_RETRIES
) -> ReplyResult:
    """Apply ``reply``; ``ReplyRefused`` if it never will as sent, ``StoreError`` if it may later.
    Both doors come here: the reply's ids are on every log line inside, its result is counted."""
    kind = reply.kind.value
    with correlation(petition_id=reply.petition_id, message_id=reply.message_id):
        try:
            result = await _apply(replies, reply, conflict_retries)
        except ReplyRefused as exc:
            replies.on_reply(kind, exc.refusal.code)
            log.info("reply %s of unit %s refused: %s", kind, reply.unit_code, exc.refusal.code)
            raise
        except StoreError:
            replies.on_reply(kind, "retry")
            raise
        except Exception:
            replies.on_reply(kind, "error")
            raise
        outcome = "duplicate" if result.duplicate else "applied"
        replies.on_reply(kind, outcome)
        log.info("reply %s of unit %s: %s, case now %s", kind, reply.unit_code, outcome, result.status)
    return result


async def _apply(replies: Replies, reply: UnitReply, conflict_retries: int) -> ReplyResult:
    attempt = 0
    while True:
        try:
            return await replies.handle(reply)
        except StoreConflict:
            attempt += 1
            if attempt > conflict_retries:
                raise
        except (InvalidTransition, WrongUnit, ReplyError) as exc:
            raise ReplyRefused(await explain(replies, reply, exc)) from exc


async def explain(replies: Replies, reply: UnitReply, exc: Exception) -> Refusal:
    """The refusal a unit is shown for ``exc``; the case is read again to say where it stands."""
    pid = reply.petition_id
    async with replies.uow() as uow:
        case = await uow.cases.get(pid)
    if case is None or not _held_once(case, reply.unit_code):
        # no such case, or one this unit never held: the same answer, so nothing is learnt from it
        return Refusal(
            UnknownCase.code,
            f"Đơn vị {reply.unit_code} không có hồ sơ {pid}.",
            f"Unit {reply.unit_code} has no case {pid}.",
            pid,
        )
    if isinstance(exc, WrongUnit):
        return Refusal(
            WrongUnit.code,
            f"Hồ sơ {pid} đã chuyển cho đơn vị khác; đơn vị {reply.unit_code} không còn xử lý hồ sơ này.",
            f"Case {pid} has moved to another unit; unit {reply.unit_code} no longer holds it.",
            pid,
        )
    if isinstance(exc, InvalidTransition):
        vi_action, en_action = _ACTIONS[reply.kind]
        vi_status, _, en_status = DESCRIPTIONS[case.status].partition(" / ")
        return Refusal(
            InvalidTransition.code,
            f"Hồ sơ {pid} đang ở trạng thái {case.status.value} ({vi_status}): không thể {vi_action}.",
            f"Case {pid} is {case.status.value} ({en_status.lower()}): it cannot be {en_action}.",
            pid,
        )
    if isinstance(exc, UnknownUnit):
        return Refusal(
            UnknownUnit.code,
            f"Không có đơn vị này trong cấu hình của Bộ: {exc.message}",
            f"Unknown unit: {exc.message}",
            pid,
        )
    message = exc.message if isinstance(exc, ReplyError) else str(exc)
    return invalid(message, pid)


class ReplyIntake:
    """The AMQP side: ``await intake(body, message_id=…, routing_key=…)`` (see the module docstring)."""

    def __init__(
        self,
        replies: Replies,
        *,
        clock: Callable[[], datetime] = utc_now,
        conflict_retries: int = CONFLICT_RETRIES,
    ) -> None:
        self._replies = replies
        self._clock = clock
        self._conflict_retries = conflict_retries

    async def __call__(self, body: bytes, *, message_id: str | None, routing_key: str) -> None:
        key = ROUTING_KEY.match(routing_key)
        key_unit = key["unit"] if key else None
        doc: object = None
        try:
            with correlation(message_id=message_id):
                doc = parse_json(body)
                reply = self._decode(doc, key, message_id, routing_key)
            await apply_reply(self._replies, reply, conflict_retries=self._conflict_retries)
        except InvalidReply as exc:
            kind = key["type"] if key and key["type"] in KINDS else "unknown"  # bounded metric labels
            self._replies.on_reply(kind, InvalidReply.code)
            raise self._refusal(invalid(exc.message, _text(doc, "petition_id")), key_unit, doc) from exc
        except ReplyRefused as exc:
            raise self._refusal(exc.refusal, key_unit, doc) from exc

    def _decode(
        self, doc: object, key: re.Match[str] | None, message_id: str | None, routing_key: str
    ) -> UnitReply:
        if key is None:
            raise InvalidReply(f"routing key {routing_key!r} is not unit.<UNIT>.reply.<type>")
        reply = reply_from_json(doc, unit_code=key["unit"], clock=self._clock)
        if key["type"] != reply.kind.value:
            raise InvalidReply(f"routing key {routing_key!r} says {key['type']}, the body {reply.kind.value}")
        if message_id is not None and message_id != reply.message_id:
            raise InvalidReply(
                f"the body's message_id {reply.message_id} is not the message's message_id {message_id}"
            )
        return reply

    def _refusal(self, refusal: Refusal, key_unit: str | None, doc: object) -> ReplyRefusal:
        # Tell the unit of the routing key (which broker permissions can tie to the publisher); with
        # no such key, the unit the body names. Nobody, if that unit has no queue: dead-lettered.
        unit = key_unit if key_unit is not None else _text(doc, "unit_code")
        if unit is not None and self._replies.routing.unit(unit) is None:
            unit = None
        return ReplyRefusal(
            refusal.code,
            refusal.message_vi,
            refusal.message_en,
            unit,
            refusal.petition_id or _text(doc, "petition_id"),
            reply_message_id=_text(doc, "message_id"),
        )


def _held_once(case: Case, unit_code: str) -> bool:
    return any(change.unit_code == unit_code for change in case.history)


def _text(doc: object, key: str) -> str | None:
    value = doc.get(key) if isinstance(doc, dict) else None
    return value[:255] if isinstance(value, str) and value else None
