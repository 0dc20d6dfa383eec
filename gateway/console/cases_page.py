"""Cases in the console: the search page (box, filters, keyset paging) and the case page (petition,
status history, message timeline, answers, feedback) with its downloads.

Reads go through ``gateway.ops.case_search`` and ``gateway.ops.case_page``, which mask personal
data for viewers and refuse them documents; this module only turns their results and errors
into pages and files.
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from gateway.console.rendering import Pages, query_url, translator
from gateway.domain.case import Status
from gateway.domain.case_views import Document
from gateway.domain.operators import Principal, Role
from gateway.domain.petition import Kind
from gateway.domain.routing import RoutingTable
from gateway.ops.auth import OpsAuth
from gateway.ops.case_page import CasePages
from gateway.ops.case_search import CaseSearch
from gateway.ops.errors import InvalidRequest, NotFound, OpsError, PersonalDataHidden, RoleTooLow
from gateway.ports import StoreError

BASE = "/console/cases"
PAGE_SIZE = 50
PHONE_CHARS = frozenset("0123456789+ .-()")


def looks_like_phone(text: str) -> bool:
    """A search box holding only a phone number is searched as one (any spacing, +84 or 0)."""
    digits = sum(c.isdigit() for c in text)
    return digits >= 9 and all(c in PHONE_CHARS for c in text.strip())


def ops_status(exc: OpsError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PersonalDataHidden | RoleTooLow):
        return 403
    return 400 if isinstance(exc, InvalidRequest) else 409


def download(document: Document) -> Response:
    """The file as sent, with its name (Vietnamese kept: RFC 6266 ``filename*``) and its digest."""
    ascii_name = document.file_name.encode("ascii", "replace").decode("ascii").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(document.file_name)}"
    return Response(
        document.data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-SHA256": document.sha256,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def cases_router(
    pages: Pages, auth: OpsAuth, search: CaseSearch, case_pages: CasePages, routing: RoutingTable
) -> APIRouter:
    router = APIRouter(prefix=BASE, include_in_schema=False)
    PageViewer = Annotated[Principal, Depends(auth.page(Role.VIEWER))]

    def failure(request: Request, principal: Principal, exc: OpsError | StoreError) -> Response:
        lang = translator(request).lang
        if isinstance(exc, OpsError):
            code, message, status = (
                exc.code,
                exc.message_vi if lang == "vi" else exc.message_en,
                ops_status(exc),
            )
        else:
            code, message, status = exc.code, str(exc), 503
        return pages.render(
            request,
            "error.html",
            principal=principal,
            code=code,
            message=message,
            back_href=BASE,
            status_code=status,
        )

    @router.get("")
    async def listing(
        request: Request,
        principal: PageViewer,
        q: Annotated[str, Query(max_length=200)] = "",
        status: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies it)
        unit: Annotated[list[str], Query()] = [],  # noqa: B006
        field: Annotated[list[str], Query()] = [],  # noqa: B006
        kind: Annotated[list[str], Query()] = [],  # noqa: B006
        overdue: Annotated[str, Query()] = "",
        due_soon: Annotated[str, Query()] = "",
        cursor: Annotated[str, Query(max_length=400)] = "",
    ) -> Response:
        text = q.strip()
        phone = text if looks_like_phone(text) else None
        try:
            query = search.query(
                q=None if phone else text or None,
                phone=phone,
                status=status,
                unit=unit,
                field=field,
                kind=kind,
                overdue=overdue in ("1", "on", "true"),
                due_soon=due_soon in ("1", "on", "true"),
                cursor=cursor or None,
                limit=PAGE_SIZE,
            )
            page = await search.search(principal, query)
        except (OpsError, StoreError) as exc:
            return failure(request, principal, exc)
        filters = {
            "q": text,
            "status": status[0] if status else "",
            "unit": unit[0] if unit else "",
            "field": field[0] if field else "",
            "kind": kind[0] if kind else "",
            "overdue": "1" if query.overdue else "",
            "due_soon": "1" if query.due_before is not None else "",
        }
        return pages.render(
            request,
            "cases.html",
            principal=principal,
            page=page,
            filters=filters,
            statuses=[s.value for s in Status],
            kinds=[k.value for k in Kind],
            units=sorted(routing.units.values(), key=lambda u: u.code),
            fields=list(routing.fields.values()),
            next_url=query_url(BASE, {**filters, "cursor": page.next_cursor}) if page.next_cursor else None,
            first_url=query_url(BASE, filters) if cursor else None,
        )

    @router.get("/{petition_id}")
    async def case(request: Request, principal: PageViewer, petition_id: str) -> Response:
        try:
            found = await case_pages.page(principal, petition_id)
        except (OpsError, StoreError) as exc:
            return failure(request, principal, exc)
        detail = found.detail
        answer_of = {a.answer_id: a for a in detail.answers}
        return pages.render(
            request,
            "case.html",
            principal=principal,
            case=found,
            detail=detail,
            petition=detail.petition,
            unit_name=unit.name if (unit := routing.unit(detail.unit_code)) else "",
            field_name=(
                routing.fields[detail.petition.field_code].name
                if detail.petition.field_code in routing.fields
                else (detail.petition.field_code or "—")
            ),
            answer_of=answer_of,
        )

    @router.get("/{petition_id}/messages/{entry_id}/raw")
    async def raw_message(
        request: Request, principal: PageViewer, petition_id: str, entry_id: int
    ) -> Response:
        try:
            return download(await case_pages.raw_message(principal, petition_id, entry_id))
        except (OpsError, StoreError) as exc:
            return failure(request, principal, exc)

    @router.get("/{petition_id}/answers/{answer_id}/pdf")
    async def answer_pdf(
        request: Request, principal: PageViewer, petition_id: str, answer_id: str
    ) -> Response:
        try:
            return download(await case_pages.answer_document(principal, petition_id, answer_id))
        except (OpsError, StoreError) as exc:
            return failure(request, principal, exc)

    @router.get("/{petition_id}/attachments/{attachment_id}")
    async def attachment(
        request: Request, principal: PageViewer, petition_id: str, attachment_id: int
    ) -> Response:
        try:
            return download(await case_pages.attachment(principal, petition_id, attachment_id))
        except (OpsError, StoreError) as exc:
            return failure(request, principal, exc)

    return router
