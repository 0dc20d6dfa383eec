"""REST for operators: ``/api/ops/cases`` — search, the case page, and its documents.

Any operator role reads (viewers with citizen ids, phones and emails masked, and no documents);
errors are problem documents (gateway.ops.errors → gateway.units.problems). Answers carry
``Cache-Control: no-store``: they hold personal data no shared cache should keep.
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

import base64
import contextlib
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response

from gateway.domain.case_views import Document
from gateway.domain.operators import Principal, Role
from gateway.domain.search import DEFAULT_PAGE, MAX_PAGE
from gateway.ops.auth import OpsAuth
from gateway.ops.case_models import CasePageOut, CaseSearchOut, page_out, search_out
from gateway.ops.case_page import CasePages
from gateway.ops.case_search import CaseSearch
from gateway.ops.errors import OpsError
from gateway.ports import StoreError
from gateway.units.problems import Problem

NO_STORE = {"Cache-Control": "no-store"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Problem `Search.Invalid` or `Search.InvalidCursor`"},
    401: {"description": "Problem `Unauthenticated`: no live operator session"},
    403: {"description": "Problem `PersonalData.Hidden` (viewers and documents)"},
    404: {"description": "Problem `UnknownCase`, `Case.UnknownMessage` or `Case.UnknownDocument`"},
    503: {"description": "Problem `StoreUnavailable`"},
}


@contextlib.contextmanager
def as_problems() -> Iterator[None]:
    """The operators' service errors as problem documents (shared by the units routes)."""
    try:
        yield
    except OpsError as exc:
        raise Problem(exc.code, exc.message_en, detail_vi=exc.message_vi) from exc
    except StoreError as exc:
        raise Problem("StoreUnavailable", str(exc)) from exc


def download(document: Document) -> Response:
    return Response(
        document.data,
        media_type=document.content_type,
        headers={
            **NO_STORE,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.file_name, safe='')}",
            "Digest": "sha-256=" + base64.b64encode(bytes.fromhex(document.sha256)).decode("ascii"),
        },
    )


def cases_ops_router(auth: OpsAuth, search: CaseSearch, pages: CasePages) -> APIRouter:
    router = APIRouter(prefix="/api/ops/cases", tags=["operators: cases"], responses=ERRORS)
    ViewerDep = Annotated[Principal, Depends(auth.require(Role.VIEWER))]
    PetitionId = Annotated[str, Path(max_length=40)]

    @router.get(
        "",
        response_model=CaseSearchOut,
        summary="Search cases (diacritic-insensitive), newest first, keyset paging",
        description=(
            "`q`: a phrase found in the PetitionId, title, content, sender and organisation names,"
            " address or a supplement, ignoring diacritics, case and punctuation (\"nguoi co cong\""
            " finds \"người có công\"). `sender`: a phrase of the sender's name. `phone`: the whole"
            " number, however written. `status`, `unit`, `field`, `kind` may repeat (any of them)."
            " `overdue`: open cases past their deadline (the portal's DueAt, else working days)."
            " `due_soon`: open cases not overdue yet that are due within PAKN_DUE_SOON_WORKING_DAYS."
            " Pages: pass `next_cursor` back as `cursor` with the same filters."
        ),
    )
    async def search_cases(
        who: ViewerDep,
        response: Response,
        q: Annotated[str | None, Query(max_length=200)] = None,
        petition_id: Annotated[str | None, Query(max_length=40)] = None,
        sender: Annotated[str | None, Query(max_length=200)] = None,
        phone: Annotated[str | None, Query(max_length=32)] = None,
        status: Annotated[list[str] | None, Query()] = None,
        unit: Annotated[list[str] | None, Query()] = None,
        field: Annotated[list[str] | None, Query()] = None,
        kind: Annotated[list[str] | None, Query()] = None,
        overdue: bool = False,
        due_soon: bool = False,
        cursor: Annotated[str | None, Query(max_length=400)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    ) -> CaseSearchOut:
        with as_problems():
            query = search.query(
                q=q, petition_id=petition_id, sender=sender, phone=phone, status=status or (),
                unit=unit or (), field=field or (), kind=kind or (), overdue=overdue, due_soon=due_soon,
                cursor=cursor, limit=limit,
            )
            found = await search.search(who, query)
        response.headers.update(NO_STORE)
        return search_out(found)

    @router.get(
        "/{petition_id}",
        response_model=CasePageOut,
        summary="A case: petition, status history, message timeline, supplements, answers, feedback",
    )
    async def case_page(who: ViewerDep, petition_id: PetitionId, response: Response) -> CasePageOut:
        with as_problems():
            page = await pages.page(who, petition_id)
        response.headers.update(NO_STORE)
        return page_out(page)

    @router.get(
        "/{petition_id}/messages/{entry_id}/raw",
        response_class=Response,
        summary="A logged message's raw XML, as received or sent (operators and admins)",
        responses={200: {"content": {"application/xml": {}}}},
    )
    async def raw_message(who: ViewerDep, petition_id: PetitionId, entry_id: int) -> Response:
        with as_problems():
            return download(await pages.raw_message(who, petition_id, entry_id))

    @router.get(
        "/{petition_id}/answers/{answer_id}/document",
        response_class=Response,
        summary="An answer's signed PDF letter (operators and admins)",
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def answer_document(who: ViewerDep, petition_id: PetitionId, answer_id: str) -> Response:
        with as_problems():
            return download(await pages.answer_document(who, petition_id, answer_id))

    @router.get(
        "/{petition_id}/attachments/{attachment_id}",
        response_class=Response,
        summary="A file the citizen attached (operators and admins)",
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def attachment(who: ViewerDep, petition_id: PetitionId, attachment_id: int) -> Response:
        with as_problems():
            return download(await pages.attachment(who, petition_id, attachment_id))

    return router
