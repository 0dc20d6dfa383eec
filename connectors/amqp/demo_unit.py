"""A demonstration unit that answers every case it is given, over the real AMQP contract.

`pakn-gateway demo` runs it in place of the ministry's people: it consumes the unit queues
(`pakn.unit.<CODE>`), and for each new case publishes a claim and then an answer to `pakn.replies`
(schema `urn:pakn:unit-reply:1`, persistent, confirmed), without a PDF so the gateway renders and
signs the official letter itself. It acks the case only after both replies are confirmed; their
message_ids are derived from the case message's, so a redelivered case sends the same replies
again and the gateway applies them once. Not for production: a real unit's answer is written by a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage

from connectors.amqp.connection import connect
from connectors.amqp.mapping import translated
from connectors.amqp.topology import REPLIES_EXCHANGE, unit_queue_name

log = logging.getLogger(__name__)

REPLY_SCHEMA = "urn:pakn:unit-reply:1"
NEW_CASE = "pakn.case.new"
CONFIRM_TIMEOUT = 10.0
_NAMESPACE = uuid.UUID("6b7b1d2e-3f0a-4c55-9c1e-5a0d7e2f9b11")


@dataclass(frozen=True)
class DemoSigner:
    full_name: str = "Nguyễn Thị Minh Hằng"
    position: str = "Phó Chánh Văn phòng Bộ"


def answer_text(title: str) -> str:
    return (
        f"Trả lời phản ánh, kiến nghị về việc «{title}», sau khi xem xét hồ sơ và đối chiếu các quy "
        "định hiện hành, Bộ trả lời như sau: nội dung phản ánh đã được tiếp nhận và chuyển cơ quan "
        "chuyên môn giải quyết theo đúng thẩm quyền, thời hạn quy định. Đề nghị Ông/Bà liên hệ đơn vị "
        "nêu trên nếu cần hướng dẫn thêm. (Thư trả lời do đơn vị mô phỏng tạo ra cho mục đích trình diễn.)"
    )


def replies_for(case: dict[str, Any], signer: DemoSigner) -> list[dict[str, Any]]:
    """The claim and the answer for one case message (ids stable for that message)."""
    source = str(case["message_id"])
    unit = case["unit"]["code"]
    petition = case.get("petition") or {}
    base = {"schema": REPLY_SCHEMA, "version": 1, "petition_id": case["petition_id"], "unit_code": unit}
    return [
        {**base, "message_id": str(uuid.uuid5(_NAMESPACE, f"{source}/claim")), "type": "claim"},
        {
            **base,
            "message_id": str(uuid.uuid5(_NAMESPACE, f"{source}/answer")),
            "type": "answer",
            "content": answer_text(str(petition.get("title") or case["petition_id"])),
            "signer_name": signer.full_name,
            "signer_position": signer.position,
            "publish": bool(petition.get("publish_consent", False)),
        },
    ]


async def auto_answer(
    url: str,
    unit_codes: Sequence[str],
    stop: asyncio.Event,
    *,
    signer: DemoSigner | None = None,
    on_answer: Callable[[str], None] | None = None,
    prefetch: int = 20,
) -> int:
    """Answer every new case on the units' queues until `stop` is set; how many cases were answered."""
    signer = signer or DemoSigner()
    connection = await connect(url, timeout=CONFIRM_TIMEOUT)
    answered = 0
    try:
        with translated("open the demo unit's channels"):
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.set_qos(prefetch_count=prefetch)
            exchange = await channel.get_exchange(REPLIES_EXCHANGE)
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        for code in unit_codes:
            queue = await channel.declare_queue(unit_queue_name(code), passive=True)
            await queue.consume(inbox.put)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                message = await asyncio.wait_for(inbox.get(), 0.2)
                if await _handle(exchange, message, signer):
                    answered += 1
                    if on_answer is not None:
                        on_answer(str(message.correlation_id))
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), CONFIRM_TIMEOUT)  # unacked cases go back
    return answered


async def _handle(exchange: AbstractExchange, message: AbstractIncomingMessage, signer: DemoSigner) -> bool:
    if message.type != NEW_CASE:  # supplements, withdrawals, feedback: read, nothing to answer
        await message.ack()
        return False
    try:
        case = json.loads(message.body)
        replies = replies_for(case, signer)
    except (ValueError, KeyError, TypeError):
        log.warning("demo unit: case message %s is not a case document; dead-lettered", message.message_id)
        await message.reject(requeue=False)
        return False
    for reply in replies:
        body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        await asyncio.wait_for(
            exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=reply["message_id"],
                    correlation_id=reply["petition_id"],
                    content_type="application/json",
                    type=f"pakn.reply.{reply['type']}",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                f"unit.{reply['unit_code']}.reply.{reply['type']}",
                mandatory=True,
            ),
            CONFIRM_TIMEOUT,
        )
    await message.ack()  # after both confirms: a crash before this sends the same replies again
    return True
