"""Dead letters of both sources behind one list, each with an id that says where it lives.

- ``amqp:<message_id>``: a message in ``pakn.dead`` (the replies consumer's, after its retry ladder
  or as poison; a unit queue's past its delivery limit), read without losing anything
  (``connectors.amqp.dead_letters``);
- ``national:<outbox id>``: a national outbox row the portal refused for good (stage ``sender``),
  kept in the database.

Replay puts a message back on its normal path (AMQP: its original exchange and routing key; national:
pending, due now), where its receiver's idempotency applies. Discard is for AMQP dead letters only:
a national dead row holds its petition's later messages back so that the portal sees them in order;
deleting it would let them overtake it, so it is replayed once fixed, never dropped here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.amqp.dead_letters import AmqpDeadLetter, DeadLetterQueue
from gateway.domain.operators import Principal
from gateway.ops.action_log import record_action
from gateway.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

AMQP, NATIONAL = "amqp", "national"
NATIONAL_STAGE = "sender"
NATIONAL_SCAN = 10_000


class DeadLetterError(Exception):
    """An operator request that cannot be done as asked; ``code`` is stable."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True)
class DeadLetter:
    id: str
    source: str
    stage: str
    reason: str
    attempts: int | None
    last_error: str | None
    dead_at: datetime | None
    where: str  # the original exchange and routing key, or the national operation and petition
    headers: dict[str, Any] = field(default_factory=dict)
    body: str = ""  # pretty JSON, or the text as it came

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "stage": self.stage,
            "reason": self.reason,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "dead_at": self.dead_at.isoformat() if self.dead_at else None,
            "where": self.where,
        }

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "headers": _jsonable(self.headers), "body": self.body}


def parse_id(dead_letter_id: str) -> tuple[str, str]:
    source, sep, key = dead_letter_id.partition(":")
    if not sep or not key or source not in (AMQP, NATIONAL) or (source == NATIONAL and not key.isdigit()):
        raise DeadLetterError(
            "DeadLetter.BadId",
            f"Mã thư chết không hợp lệ: {dead_letter_id!r} (amqp:<message_id> hoặc national:<số>)",
            f"Invalid dead letter id: {dead_letter_id!r} (amqp:<message_id> or national:<number>)",
        )
    return source, key


class DeadLetters:
    def __init__(
        self, uow: UnitOfWorkFactory, amqp_url: str, clock: Callable[[], datetime], *, timeout: float = 10.0
    ) -> None:
        self._uow = uow
        self._amqp_url = amqp_url
        self._clock = clock
        self._timeout = timeout

    async def find(self, stage: str | None = None, limit: int = 100) -> tuple[list[DeadLetter], int]:
        """Oldest first per source (AMQP first), and how many there are in all (before ``stage``)."""
        async with DeadLetterQueue.open(self._amqp_url, timeout=self._timeout, clock=self._clock) as dead:
            amqp, amqp_total = await dead.scan()
        national = await self._national()
        letters = [_from_amqp(a) for a in amqp] + national
        chosen = [d for d in letters if stage is None or d.stage == stage]
        return chosen[:limit], amqp_total + len(national)

    async def get(self, dead_letter_id: str) -> DeadLetter | None:
        source, key = parse_id(dead_letter_id)
        if source == NATIONAL:
            return next((d for d in await self._national() if d.id == dead_letter_id), None)
        async with DeadLetterQueue.open(self._amqp_url, timeout=self._timeout, clock=self._clock) as dead:
            letters, _ = await dead.scan()
        return next((_from_amqp(a) for a in letters if a.id == key), None)

    async def replay(self, ids: Sequence[str], who: Principal | str) -> dict[str, int]:
        """How many copies of each id went back on their path (0: not a dead letter); each replay
        recorded with who asked (`GET /api/ops/actions`)."""
        parsed = [(i, *parse_id(i)) for i in ids]
        done: dict[str, int] = {}
        amqp_keys = [key for _, source, key in parsed if source == AMQP]
        if amqp_keys:
            async with DeadLetterQueue.open(self._amqp_url, timeout=self._timeout, clock=self._clock) as dead:
                for key, n in (await dead.replay(amqp_keys)).items():
                    done[f"{AMQP}:{key}"] = n
        national = [(i, int(key)) for i, source, key in parsed if source == NATIONAL]
        if national:
            async with self._uow() as u:
                for full_id, row_id in national:
                    done[full_id] = int(await u.national.replay(row_id, self._clock()))
                await u.commit()
        for full_id, n in done.items():
            if n:
                log.info("dead letter %s replayed (%d copies) by %s", full_id, n, _name(who))
        await self._record(who, "dead_letter.replay", {k: n for k, n in done.items() if n})
        return done

    async def discard(self, ids: Sequence[str], who: Principal | str) -> dict[str, int]:
        """Remove AMQP dead letters for good; each one logged at WARNING with who asked."""
        parsed = [(i, *parse_id(i)) for i in ids]
        if any(source == NATIONAL for _, source, _ in parsed):
            raise DeadLetterError(
                "DeadLetter.NotDiscardable",
                "Không thể hủy thư chết của hàng đợi gửi Cổng quốc gia: thư này giữ các thư sau của cùng "
                "phản ánh đúng thứ tự; hãy sửa nguyên nhân rồi gửi lại (replay).",
                "National outbox dead letters cannot be discarded: each holds its petition's later "
                "messages in order; fix the cause and replay it.",
            )
        async with DeadLetterQueue.open(self._amqp_url, timeout=self._timeout, clock=self._clock) as dead:
            removed = await dead.discard([key for _, _, key in parsed])
        for key, letters in removed.items():
            for letter in letters:
                log.warning(
                    "dead letter amqp:%s DISCARDED by %s: stage %s, reason %s, to %r/%r, %d bytes",
                    key,
                    _name(who),
                    letter.stage,
                    letter.reason,
                    letter.original_exchange,
                    letter.original_routing_key,
                    len(letter.body),
                )
        done = {f"{AMQP}:{key}": len(letters) for key, letters in removed.items()}
        details = {
            f"{AMQP}:{key}": f"stage={letters[0].stage} reason={letters[0].reason} copies={len(letters)}"
            for key, letters in removed.items()
            if letters
        }
        await self._record(who, "dead_letter.discard", details)
        return done

    async def _record(self, who: Principal | str, action: str, targets: Mapping[str, object]) -> None:
        # After the broker operation, which no database transaction can include: a crash in between
        # loses the record, never the action's effect (the WARNING log line stays).
        if not targets:
            return
        async with self._uow() as u:
            for target, detail in targets.items():
                await record_action(u, who, action, target, str(detail), self._clock())
            await u.commit()

    async def _national(self) -> list[DeadLetter]:
        async with self._uow() as u:
            rows = await u.national.list("dead", NATIONAL_SCAN)
        return [
            DeadLetter(
                id=f"{NATIONAL}:{m.id}",
                source=NATIONAL,
                stage=NATIONAL_STAGE,
                reason=(m.last_error or "unknown").split(":", 1)[0].strip() or "unknown",
                attempts=m.attempts,
                last_error=m.last_error,
                dead_at=None,  # the outbox keeps no time of death; created_at is in the headers
                where=f"{m.operation} {m.petition_id}",
                headers={"message_id": m.message_id, "created_at": m.created_at.isoformat()},
                body=json.dumps(
                    {"operation": m.operation, "petition_id": m.petition_id, "payload": m.payload},
                    ensure_ascii=False,
                    indent=2,
                ),
            )
            for m in rows
        ]


def _name(who: Principal | str) -> str:
    return who if isinstance(who, str) else who.username


def _from_amqp(letter: AmqpDeadLetter) -> DeadLetter:
    return DeadLetter(
        id=f"{AMQP}:{letter.id}",
        source=AMQP,
        stage=letter.stage,
        reason=letter.reason,
        attempts=letter.attempts,
        last_error=letter.last_error,
        dead_at=letter.dead_at,
        where=f"{letter.original_exchange or '(default)'} {letter.original_routing_key}",
        headers=letter.headers,
        body=_pretty(letter.body),
    )


def _pretty(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text  # XML, or not readable as JSON: shown as it came


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
