"""REST for operators: ``/api/ops/dead-letters`` — list, read (viewer); replay, discard (operator)."""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from connectors.amqp.errors import AmqpError
from gateway.domain.operators import Principal, Role
from gateway.ops.auth import OpsAuth
from gateway.ops.dead_letters import DeadLetterError, DeadLetters
from gateway.units.problems import Problem


@contextlib.contextmanager
def _as_problems() -> Iterator[None]:
    try:
        yield
    except DeadLetterError as exc:
        raise Problem(exc.code, exc.message_en, detail_vi=exc.message_vi) from exc
    except AmqpError as exc:
        raise Problem("BrokerUnavailable", f"{exc.code}: {exc.message}") from exc


class DeadLetterIds(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000)


def ops_router(auth: OpsAuth, dead_letters: DeadLetters) -> APIRouter:
    router = APIRouter(prefix="/api/ops", tags=["operators"])
    ViewerDep = Annotated[Principal, Depends(auth.require(Role.VIEWER))]
    OperatorDep = Annotated[Principal, Depends(auth.require(Role.OPERATOR))]

    @router.get("/dead-letters", summary="Dead letters of every stage, with reasons")
    async def list_dead_letters(
        _: ViewerDep,
        stage: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        with _as_problems():
            letters, total = await dead_letters.find(stage, limit)
        return {"items": [d.summary() for d in letters], "total": total}

    @router.post("/dead-letters/replay", summary="Replay several; copies sent back per id (0: not found)")
    async def replay_many(who: OperatorDep, body: DeadLetterIds) -> dict[str, Any]:
        with _as_problems():
            done = await dead_letters.replay(body.ids, who)
        return {"replayed": {i: done.get(i, 0) for i in body.ids}}

    @router.post("/dead-letters/discard", summary="Discard several AMQP dead letters (0: not found)")
    async def discard_many(who: OperatorDep, body: DeadLetterIds) -> dict[str, Any]:
        with _as_problems():
            done = await dead_letters.discard(body.ids, who)
        return {"discarded": {i: done.get(i, 0) for i in body.ids}}

    @router.get("/dead-letters/{dead_letter_id}", summary="One dead letter: headers and body")
    async def read_dead_letter(_: ViewerDep, dead_letter_id: str) -> dict[str, Any]:
        with _as_problems():
            letter = await dead_letters.get(dead_letter_id)
        if letter is None:
            raise Problem("DeadLetter.Unknown", dead_letter_id)
        return letter.detail()

    @router.post("/dead-letters/{dead_letter_id}/replay", summary="Send it back on its normal path")
    async def replay_dead_letter(who: OperatorDep, dead_letter_id: str) -> dict[str, Any]:
        with _as_problems():
            done = await dead_letters.replay([dead_letter_id], who)
        if not done.get(dead_letter_id):
            raise Problem("DeadLetter.Unknown", dead_letter_id)
        return {"id": dead_letter_id, "replayed": done[dead_letter_id]}

    @router.post("/dead-letters/{dead_letter_id}/discard", summary="Remove an AMQP dead letter for good")
    async def discard_dead_letter(who: OperatorDep, dead_letter_id: str) -> dict[str, Any]:
        with _as_problems():
            done = await dead_letters.discard([dead_letter_id], who)
        if not done.get(dead_letter_id):
            raise Problem("DeadLetter.Unknown", dead_letter_id)
        return {"id": dead_letter_id, "discarded": done[dead_letter_id]}

    return router
