"""Case search, as the domain sees it: what a stored case is found by, what a query asks, and the
cursor that pages through the results.

Results are ordered by (received_at DESC, petition_id DESC). A page ends at its last case and the
next page starts strictly after it (keyset paging): the store reads one index range per page,
however deep the page, and a case received meanwhile neither shifts nor repeats a later page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.case import TERMINAL, Status
from gateway.domain.petition import Petition, PetitionUpdate, UpdateAction
from gateway.domain.text import fold

MAX_PAGE = 200
DEFAULT_PAGE = 50


class InvalidCursor(ValueError):
    """A cursor that this module did not make (or made for another order)."""


@dataclass(frozen=True)
class SearchKeys:
    """What the store keeps beside a case so it can be found without reading the petition."""

    text: str  # folded PetitionId, title, content, sender and organisation names, address
    sender: str  # folded sender name (and organisation name)
    phone: str | None  # the sender's phone, digits only, national form (0…)
    due_at: datetime | None


def search_keys(petition: Petition) -> SearchKeys:
    sender = petition.sender
    names = " ".join(filter(None, (sender.full_name, sender.organization_name)))
    address = sender.address.line if sender.address else ""
    text = " ".join((petition.petition_id, petition.title, petition.content, names, address))
    return SearchKeys(fold(text), fold(names), normalise_phone(sender.phone), petition.due_at)


def supplement_text(update: PetitionUpdate) -> str | None:
    """A citizen's supplement is searchable with the case it adds to; a withdrawal adds nothing."""
    if update.action is not UpdateAction.SUPPLEMENT or not update.content.strip():
        return None
    return fold(update.content) or None


def normalise_phone(value: str | None) -> str | None:
    """Digits only, +84/0084 written as the national 0: "+84 912 345 678" → "0912345678"."""
    if value is None:
        return None
    digits = "".join(c for c in value if c.isdigit())
    for prefix in ("0084", "84"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 9:
            digits = "0" + digits[len(prefix) :]
            break
    return digits or None


def is_overdue(due_at: datetime | None, status: str, now: datetime) -> bool:
    """Past its due date and still open. `due_at` is the case's (cases.due_at): the portal's DueAt,
    else the kind's limit in working days (gateway.domain.deadlines); without one, never overdue."""
    return due_at is not None and due_at < now and Status(status) not in TERMINAL


OPEN_STATUSES = tuple(sorted(s.value for s in Status if s not in TERMINAL))
CLOSED_STATUSES = tuple(sorted(s.value for s in TERMINAL))


@dataclass(frozen=True)
class SearchCursor:
    """Where a page ended: the last case's (received_at, petition_id)."""

    received_at: datetime
    petition_id: str

    def encode(self) -> str:
        doc = [self.received_at.isoformat(), self.petition_id]
        raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> SearchCursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            at, petition_id = json.loads(raw.decode("utf-8"))
            received_at = datetime.fromisoformat(at)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise InvalidCursor(f"not a cursor of this search: {token[:40]!r}") from exc
        if not isinstance(petition_id, str) or received_at.tzinfo is None:
            raise InvalidCursor(f"not a cursor of this search: {token[:40]!r}")
        return cls(received_at, petition_id)


@dataclass(frozen=True)
class CaseQuery:
    """A search, already folded and checked (`gateway.ops.case_search` builds it from user input).

    Every criterion given must hold (AND); within one list, any value (OR). `text` and `sender` are
    folded phrases found anywhere in the folded column (substring); `phone` is matched whole.
    """

    now: datetime
    text: str | None = None
    petition_id: str | None = None
    sender: str | None = None
    phone: str | None = None
    statuses: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    overdue: bool = False
    # due soon: open, not overdue yet, due before this instant (the deadline policy's horizon)
    due_before: datetime | None = None
    after: SearchCursor | None = None
    limit: int = DEFAULT_PAGE
