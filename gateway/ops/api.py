"""REST for operators: ``/api/ops/dead-letters`` — list, read, replay, discard (operator token)."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from connectors.amqp.errors import AmqpError
from gateway.ops.auth import ops_auth
from gateway.ops.dead_letters import DeadLetterError, DeadLetters
from gateway.settings import Settings
from gateway.units.problems import Problem


@contextlib.contextmanager
def _as_problems() -> Iterator[None]:
    try:
        yield
    except DeadLetterError as exc:
        raise Problem(exc.code, exc.message_en, detail_vi=exc.message_vi) from exc
    except AmqpError as exc:
        raise Problem("BrokerUnavailable", f"{exc.code}: {exc.message}") from exc


def ops_router(settings: Settings, dead_letters: DeadLetters) -> APIRouter:
    router = APIRouter(prefix="/api/ops", tags=["operators"])
    OperatorDep = Annotated[str, Depends(ops_auth(settings.ops_token))]

    @router.get("/dead-letters")
    async def list_dead_letters(
        _: OperatorDep,
        stage: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        with _as_problems():
            letters, total = await dead_letters.find(stage, limit)
        return {"items": [d.summary() for d in letters], "total": total}

    @router.get("/dead-letters/{dead_letter_id}")
    async def read_dead_letter(_: OperatorDep, dead_letter_id: str) -> dict[str, Any]:
        with _as_problems():
            letter = await dead_letters.get(dead_letter_id)
        if letter is None:
            raise Problem("DeadLetter.Unknown", dead_letter_id)
        return letter.detail()

    @router.post("/dead-letters/{dead_letter_id}/replay")
    async def replay_dead_letter(_: OperatorDep, dead_letter_id: str) -> dict[str, Any]:
        with _as_problems():
            done = await dead_letters.replay([dead_letter_id])
        if not done.get(dead_letter_id):
            raise Problem("DeadLetter.Unknown", dead_letter_id)
        return {"id": dead_letter_id, "replayed": done[dead_letter_id]}

    @router.post("/dead-letters/{dead_letter_id}/discard")
    async def discard_dead_letter(who: OperatorDep, dead_letter_id: str) -> dict[str, Any]:
        with _as_problems():
            done = await dead_letters.discard([dead_letter_id], who)
        if not done.get(dead_letter_id):
            raise Problem("DeadLetter.Unknown", dead_letter_id)
        return {"id": dead_letter_id, "discarded": done[dead_letter_id]}

    return router
