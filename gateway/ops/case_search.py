"""Case search for operators: what they type becomes a checked `CaseQuery`, the store answers a
page, and a viewer gets it with personal data masked.

- `q`: free text, diacritic-insensitive ("nguoi co cong" finds "người có công"; đ is d): a phrase
  found anywhere in the PetitionId, title, content, sender and organisation names, address, or a
  supplement. Punctuation is ignored; the words must come in the order typed.
- `sender`: a phrase of the sender's (or organisation's) name, folded the same way.
- `phone`: the whole number, however written ("+84 912 345 678" = "0912345678").
- `petition_id`: exact. `status`, `unit`, `field`, `kind`: any of the values given.
- `overdue`: open cases past their due date (cases.due_at: the portal's DueAt, else the kind's
  limit in working days, set at acceptance); a kind without a configured limit is never overdue.
- Paging: `next_cursor` of a page fetches the next one (keyset on received_at DESC, petition_id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.case import Status
from gateway.domain.case_views import CaseHit
from gateway.domain.operators import Principal
from gateway.domain.personal_data import mask_email, mask_id_number, mask_phone, mask_text
from gateway.domain.petition import Kind
from gateway.domain.routing import RoutingTable
from gateway.domain.search import (
    DEFAULT_PAGE,
    MAX_PAGE,
    OPEN_STATUSES,
    CaseQuery,
    InvalidCursor,
    SearchCursor,
    is_overdue,
    normalise_phone,
)
from gateway.domain.text import fold, nfc
from gateway.ops.errors import InvalidRequest
from gateway.ports import CaseReads

MAX_TEXT = 200
MAX_CODE = 64


@dataclass(frozen=True)
class FoundCase:
    hit: CaseHit
    overdue: bool
    due_soon: bool = False  # open, not overdue, within the due-soon working days


@dataclass(frozen=True)
class SearchPage:
    items: tuple[FoundCase, ...]
    next_cursor: str | None
    limit: int
    masked: bool  # personal data masked (the caller is a viewer)


class CaseSearch:
    def __init__(
        self,
        reads: CaseReads,
        routing: RoutingTable,
        clock: Callable[[], datetime],
        due_soon_horizon: Callable[[datetime], datetime] | None = None,
    ) -> None:
        """`due_soon_horizon(now)`: due dates before it are "due soon" (the deadline policy's
        working days); None: nothing is ever due soon (no calendar configured)."""
        self._reads = reads
        self._routing = routing
        self._clock = clock
        self._horizon = due_soon_horizon

    def query(
        self,
        *,
        q: str | None = None,
        petition_id: str | None = None,
        sender: str | None = None,
        phone: str | None = None,
        status: Iterable[str] = (),
        unit: Iterable[str] = (),
        field: Iterable[str] = (),
        kind: Iterable[str] = (),
        overdue: bool = False,
        due_soon: bool = False,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> CaseQuery:
        """A checked query from what an operator typed; InvalidRequest names what is wrong."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit phải từ 1 đến {MAX_PAGE}", f"limit must be 1 to {MAX_PAGE}")
        statuses = _among("status", status, {s.value for s in Status})
        kinds = _among("kind", kind, {k.value for k in Kind})
        units = _among("unit", unit, set(self._routing.units))
        fields = tuple(dict.fromkeys(_code("field", f) for f in field if f.strip()))
        wanted_phone = None
        if phone is not None and phone.strip():
            wanted_phone = normalise_phone(phone)
            if wanted_phone is None:
                raise InvalidRequest("số điện thoại không có chữ số nào", "phone has no digits")
        pid = nfc(petition_id).strip() if petition_id else None
        if pid is not None and len(pid) > 40:
            raise InvalidRequest("mã phản ánh dài quá 40 ký tự", "petition_id is longer than 40 characters")
        after = None
        if cursor:
            try:
                after = SearchCursor.decode(cursor)
            except InvalidCursor as exc:
                raise InvalidRequest(
                    "con trỏ phân trang không hợp lệ", str(exc), code="Search.InvalidCursor"
                ) from exc
        now = self._clock()
        due_before = None
        if due_soon:
            # no calendar: nothing can be due soon; an instant in the past finds no case
            due_before = self._horizon(now) if self._horizon is not None else now
        return CaseQuery(
            now=now,
            due_before=due_before,
            text=_phrase("q", q),
            petition_id=pid or None,
            sender=_phrase("sender", sender),
            phone=wanted_phone,
            statuses=statuses,
            units=units,
            fields=fields,
            kinds=kinds,
            overdue=overdue,
            after=after,
            limit=limit,
        )

    async def search(self, principal: Principal, query: CaseQuery) -> SearchPage:
        hits = await self._reads.search(query)
        page, more = hits[: query.limit], len(hits) > query.limit
        last = page[-1] if page else None
        next_cursor = SearchCursor(last.received_at, last.petition_id).encode() if more and last else None
        masked = not principal.sees_personal_data
        horizon = self._horizon(query.now) if self._horizon is not None else None
        items = tuple(
            FoundCase(
                mask_hit(hit) if masked else hit,
                overdue := is_overdue(hit.due_at, hit.status, query.now),
                not overdue
                and horizon is not None
                and hit.due_at is not None
                and hit.due_at < horizon
                and hit.status in OPEN_STATUSES,
            )
            for hit in page
        )
        return SearchPage(items, next_cursor, query.limit, masked)


def mask_hit(hit: CaseHit) -> CaseHit:
    return dataclasses.replace(
        hit,
        title=mask_text(hit.title) or "",
        phone=mask_phone(hit.phone),
        email=mask_email(hit.email),
        id_number=mask_id_number(hit.id_number),
    )


def _phrase(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"{name} dài quá {MAX_TEXT} ký tự", f"{name} is over {MAX_TEXT} characters")
    return fold(value) or None


def _code(name: str, value: str) -> str:
    code = value.strip()
    if len(code) > MAX_CODE:
        raise InvalidRequest(f"{name} dài quá {MAX_CODE} ký tự", f"{name} is over {MAX_CODE} characters")
    return code


def _among(name: str, values: Iterable[str], known: set[str]) -> tuple[str, ...]:
    given = tuple(dict.fromkeys(_code(name, v) for v in values if v.strip()))
    unknown = [v for v in given if v not in known]
    if unknown:
        listed = ", ".join(sorted(known))
        raise InvalidRequest(
            f"{name} không hợp lệ: {', '.join(unknown)} (chọn trong: {listed})",
            f"unknown {name}: {', '.join(unknown)} (one of: {listed})",
        )
    return given
