"""Dead letters in the console: browse and filter by stage, inspect one, replay or discard one or many.

Every change goes through a confirmation page (GET, nothing done yet), then a POST carrying the
CSRF token; the service (``gateway.ops.dead_letters``) does it and records who did it. Viewers
browse with personal data masked in bodies and errors; only operators see the action buttons, and
a viewer's POST is refused by role before anything happens.
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

import dataclasses
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from connectors.amqp.errors import AmqpError
from gateway.console.overview import DeadLetterCounts
from gateway.console.rendering import Pages, translator
from gateway.domain.operators import Principal, Role
from gateway.domain.personal_data import mask_text
from gateway.ops.auth import OpsAuth
from gateway.ops.dead_letters import AMQP, DeadLetter, DeadLetterError, DeadLetters

BASE = "/console/dead-letters"
ACTIONS = ("replay", "discard")
LIST_LIMIT = 500
MAX_IDS = 1000


def masked(letter: DeadLetter, principal: Principal) -> DeadLetter:
    """What a viewer may see of a dead letter: bodies and errors carry citizens' phones and ids."""
    if principal.sees_personal_data:
        return letter
    headers = {k: mask_text(v) if isinstance(v, str) else v for k, v in letter.headers.items()}
    return dataclasses.replace(
        letter, body=mask_text(letter.body) or "", last_error=mask_text(letter.last_error), headers=headers
    )


def dead_letters_router(
    pages: Pages, auth: OpsAuth, dead_letters: DeadLetters, counts: DeadLetterCounts
) -> APIRouter:
    router = APIRouter(prefix=BASE, include_in_schema=False)
    PageViewer = Annotated[Principal, Depends(auth.page(Role.VIEWER))]

    def failure(request: Request, principal: Principal, exc: Exception) -> Response:
        lang = translator(request).lang
        if isinstance(exc, DeadLetterError):
            code, message = exc.code, exc.message_vi if lang == "vi" else exc.message_en
        elif isinstance(exc, AmqpError):
            code, message = exc.code, exc.message
        else:
            raise exc
        return pages.render(
            request,
            "error.html",
            principal=principal,
            code=code,
            message=message,
            back_href=BASE,
            status_code=503 if isinstance(exc, AmqpError) else 400 if code == "DeadLetter.BadId" else 409,
        )

    def forbidden(request: Request, principal: Principal) -> Response:
        t = translator(request)
        return pages.render(
            request,
            "error.html",
            principal=principal,
            code="Forbidden",
            message=t("dl.read_only"),
            back_href=BASE,
            status_code=403,
        )

    @router.get("")
    async def listing(
        request: Request,
        principal: PageViewer,
        stage: Annotated[str | None, Query(max_length=64)] = None,
        done: Annotated[str | None, Query()] = None,
        count: Annotated[int, Query(ge=0)] = 0,
        missing: Annotated[str | None, Query(max_length=4000)] = None,
    ) -> Response:
        try:
            letters, total = await dead_letters.find(stage or None, LIST_LIMIT)
            national_dead = sum(1 for d in letters if d.source != AMQP)
            stages = await counts.figures(national_dead)
        except (DeadLetterError, AmqpError) as exc:
            return failure(request, principal, exc)
        t = translator(request)
        flashes: list[tuple[str, str]] = []
        if done in ACTIONS:
            flashes.append(("ok", t(f"dl.done.{done}", count=count)))
        if missing:
            flashes.append(("warn", t("dl.not_found", ids=missing)))
        return pages.render(
            request,
            "dead_letters.html",
            principal=principal,
            letters=[masked(d, principal) for d in letters],
            total=total,
            stage=stage or "",
            stages=sorted(set(stages.by_stage) | ({stage} if stage else set())),
            can_act=principal.can(Role.OPERATOR),
            flashes=flashes,
        )

    @router.get("/confirm")
    async def confirm(
        request: Request,
        principal: PageViewer,
        action: Annotated[str, Query()],
        ids: Annotated[list[str], Query(max_length=MAX_IDS)] = [],  # noqa: B006 (FastAPI copies it)
    ) -> Response:
        if not principal.can(Role.OPERATOR):
            return forbidden(request, principal)
        t = translator(request)
        if action not in ACTIONS:
            return pages.render(
                request,
                "error.html",
                principal=principal,
                code="InvalidQuery",
                message=action,
                back_href=BASE,
                status_code=400,
            )
        if not ids:
            return pages.render(
                request,
                "error.html",
                principal=principal,
                code="DeadLetter.NoneSelected",
                message=t("dl.none_selected"),
                back_href=BASE,
                status_code=400,
            )
        try:
            found = {d.id: d for d in (await dead_letters.find(None, LIST_LIMIT * 20))[0]}
        except (DeadLetterError, AmqpError) as exc:
            return failure(request, principal, exc)
        chosen = [found[i] for i in dict.fromkeys(ids) if i in found]
        refused = [d for d in chosen if action == "discard" and d.source != AMQP]
        return pages.render(
            request,
            "dead_letters_confirm.html",
            principal=principal,
            action=action,
            letters=[masked(d, principal) for d in chosen if d not in refused],
            refused=refused,
            missing=[i for i in dict.fromkeys(ids) if i not in found],
        )

    @router.post("/{action}")
    async def act(
        request: Request,
        principal: PageViewer,
        action: str,
        ids: Annotated[list[str], Form(max_length=MAX_IDS)],
    ) -> Response:
        if action not in ACTIONS:
            return pages.render(
                request,
                "error.html",
                principal=principal,
                code="InvalidQuery",
                message=action,
                back_href=BASE,
                status_code=404,
            )
        if not principal.can(Role.OPERATOR):
            return forbidden(request, principal)
        unique = list(dict.fromkeys(ids))
        try:
            if action == "replay":
                done = await dead_letters.replay(unique, principal)
            else:
                done = await dead_letters.discard(unique, principal)
        except (DeadLetterError, AmqpError) as exc:
            return failure(request, principal, exc)
        finally:
            counts.invalidate()
        query: dict[str, Any] = {"done": action, "count": sum(1 for i in unique if done.get(i))}
        not_found = [i for i in unique if not done.get(i)]
        if not_found:
            query["missing"] = ", ".join(not_found)[:4000]
        return RedirectResponse(f"{BASE}?{urlencode(query)}", status_code=303)

    @router.get("/{dead_letter_id:path}")
    async def inspect(request: Request, principal: PageViewer, dead_letter_id: str) -> Response:
        try:
            letter = await dead_letters.get(dead_letter_id)
        except (DeadLetterError, AmqpError) as exc:
            return failure(request, principal, exc)
        if letter is None:
            t = translator(request)
            return pages.render(
                request,
                "error.html",
                principal=principal,
                code="DeadLetter.Unknown",
                message=t("dl.not_found", ids=dead_letter_id),
                back_href=BASE,
                status_code=404,
            )
        return pages.render(
            request,
            "dead_letter.html",
            principal=principal,
            letter=masked(letter, principal),
            can_act=principal.can(Role.OPERATOR),
        )

    return router
