"""The public routes: server-rendered pages, a JSON feed and the letters. No login, nothing written.

    GET /public/answers                       the list, searchable (?q=), paged (?cursor=)
    GET /public/answers/{PetitionId}          one petition's question and its published answers
    GET /public/answers/{PetitionId}/{AnswerId}.pdf   the signed public copy of the letter
    GET /public/answers.json                  the feed: ?q=, ?cursor=, ?limit= (1–100)
    GET /public/static/public.css             the pages' only style sheet (no CDN, no script)

Errors: problem documents (gateway.units.problems) from the feed and the letters, an HTML page
with the same code and both languages from the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gateway.domain.published import MAX_PAGE
from gateway.ports import StoreError
from gateway.public.answers import PublicAnswer, PublicAnswers, PublicPage
from gateway.public.errors import PublicError
from gateway.units.problems import PROBLEMS, Problem

VIETNAM = timezone(timedelta(hours=7))
KIND_NAMES = {
    "PHAN_ANH": "Phản ánh",
    "KIEN_NGHI": "Kiến nghị",
    "HOI_DAP": "Hỏi đáp chính sách",
    "CU_TRI": "Kiến nghị cử tri",
    "DBQH": "Kiến nghị của đại biểu Quốc hội",
}
EXCERPT = 320
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # public and free of personal data: a shared cache may keep it, briefly (new answers appear)
    "Cache-Control": "public, max-age=60",
}
FEED_HEADERS = {k: HEADERS[k] for k in ("X-Content-Type-Options", "Cache-Control")}


def _text() -> Any:
    """A text parameter, bounded before it reaches the service (a new FieldInfo per parameter:
    FastAPI binds one to its parameter's name, so one shared instance would read the wrong one)."""
    return Query(default=None, max_length=1000)


def _here(name: str) -> Path:
    return Path(str(files("gateway.public").joinpath(name)))


def vn_date(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y")


def excerpt(text: str, size: int = EXCERPT) -> str:
    if len(text) <= size:
        return text
    return text[:size].rsplit(" ", 1)[0] + " …"


def answer_url(petition_id: str) -> str:
    return f"/public/answers/{quote(petition_id, safe='')}"


def letter_url(item: PublicAnswer) -> str:
    return f"{answer_url(item.petition_id)}/{quote(item.answer_id, safe='')}.pdf"


def page_url(path: str, params: Mapping[str, str | int | None]) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def public_router(answers: PublicAnswers, ministry_name: str) -> APIRouter:
    router = APIRouter(prefix="/public", tags=["public"])
    env = Environment(
        loader=FileSystemLoader(str(_here("templates"))),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(vn_date=vn_date, excerpt=excerpt)
    env.globals.update(
        ministry_name=ministry_name, kind_names=KIND_NAMES, answer_url=answer_url, letter_url=letter_url
    )

    def html(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status, headers=HEADERS)

    def error_page(code: str, vi: str | None, en: str | None) -> HTMLResponse:
        status, title_vi, title_en = PROBLEMS[code]
        return html(
            "public_error.html", status, code=code, title_vi=title_vi, title_en=title_en, vi=vi, en=en
        )

    async def read_page(q: str | None, cursor: str | None, limit: int | None) -> PublicPage:
        return await answers.page(answers.query(q, cursor, limit))

    @router.get("/answers", response_class=HTMLResponse)
    async def list_page(q: str | None = _text(), cursor: str | None = _text()) -> HTMLResponse:
        try:
            page = await read_page(q, cursor, None)
        except PublicError as exc:
            return error_page(exc.code, exc.message_vi, exc.message_en)
        except StoreError:
            return error_page("StoreUnavailable", None, None)
        more = page_url("/public/answers", {"q": page.query, "cursor": page.next_cursor})
        return html("public_answers.html", page=page, next_url=more if page.next_cursor else None)

    @router.get("/answers.json")
    async def feed(
        q: str | None = _text(), cursor: str | None = _text(), limit: int | None = Query(default=None)
    ) -> JSONResponse:
        try:
            page = await read_page(q, cursor, limit)
        except PublicError as exc:
            raise _problem(exc) from exc
        except StoreError as exc:
            raise Problem("StoreUnavailable") from exc
        params = {"q": page.query, "cursor": page.next_cursor, "limit": limit}
        body = {
            "items": [_item(item) for item in page.items],
            "query": page.query,
            "limit": page.limit,
            "max_limit": MAX_PAGE,
            "next_cursor": page.next_cursor,
            "next": page_url("/public/answers.json", params) if page.next_cursor else None,
        }
        return JSONResponse(body, headers=FEED_HEADERS)

    @router.get("/answers/{petition_id}", response_class=HTMLResponse)
    async def answer_page(petition_id: str) -> HTMLResponse:
        try:
            items = await answers.of_petition(petition_id)
        except PublicError as exc:
            return error_page(exc.code, exc.message_vi, exc.message_en)
        except StoreError:
            return error_page("StoreUnavailable", None, None)
        return html("public_answer.html", first=items[0], items=items)

    @router.get("/answers/{petition_id}/{answer_id}.pdf")
    async def letter(petition_id: str, answer_id: str) -> Response:
        try:
            name, pdf = await answers.letter(petition_id, answer_id)
        except PublicError as exc:
            raise _problem(exc) from exc
        except StoreError as exc:
            raise Problem("StoreUnavailable") from exc
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": HEADERS["Cache-Control"],
        }
        return Response(pdf, media_type="application/pdf", headers=headers)

    @router.get("/static/public.css", include_in_schema=False)
    async def style() -> FileResponse:
        return FileResponse(_here("static") / "public.css", media_type="text/css", headers=HEADERS)

    return router


def _problem(exc: PublicError) -> Problem:
    return Problem(exc.code, exc.message_en, detail_vi=exc.message_vi)


def _item(item: PublicAnswer) -> dict[str, object]:
    return {
        "petition_id": item.petition_id,
        "answer_id": item.answer_id,
        "kind": item.kind,
        "kind_name": KIND_NAMES.get(item.kind, item.kind),
        "field": {"code": item.field_code, "name": item.field_name} if item.field_code else None,
        "unit": {"code": item.unit_code, "name": item.unit_name},
        "title": item.title,
        "question": item.question,
        "answer": item.answer,
        "received_at": item.received_at.isoformat(),
        "answered_at": item.answered_at.isoformat(),
        "url": answer_url(item.petition_id),
        "letter_url": letter_url(item),
    }
