"""Published answers, as the domain sees them: which answers the public may read, what one holds
before it is redacted, and the cursor that pages through them.

An answer is public only when both sides agreed: the citizen (`PublishConsent` in the petition)
and the answering unit (`Publish` in the answer), and the case is completed (06). The store reads
candidates by that rule and the public component checks it again on each one before showing it.

Pages are ordered by (answered_at DESC, row id DESC) and paged by keyset: a page starts strictly
after the last answer the previous page looked at, so a new answer never shifts a later page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.case import Status
from gateway.domain.petition import Petition

MAX_PAGE = 100
DEFAULT_PAGE = 20


class InvalidPublicCursor(ValueError):
    """A cursor this module did not make."""


@dataclass(frozen=True)
class PublishedCandidate:
    """A stored answer and its petition, exactly as stored: personal data still in it."""

    row_id: int
    petition: Petition
    answer_id: str
    unit_code: str
    content: str
    answered_at: datetime
    status: str
    publish: bool
    signer_name: str  # the official who signed: printed on the public letter as on the original
    signer_position: str


def may_publish(candidate: PublishedCandidate) -> bool:
    """Both consents, and the case completed: the one rule, whatever the store's query said."""
    return (
        candidate.petition.publish_consent
        and candidate.publish
        and candidate.status == Status.COMPLETED.value
    )


@dataclass(frozen=True)
class PublicCursor:
    """Where a page stopped: the last answer looked at (answered_at, row id)."""

    answered_at: datetime
    row_id: int

    def encode(self) -> str:
        raw = json.dumps([self.answered_at.isoformat(), self.row_id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PublicCursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            at, row_id = json.loads(raw.decode("ascii"))
            answered_at = datetime.fromisoformat(at)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise InvalidPublicCursor(f"not a cursor of this feed: {token[:40]!r}") from exc
        if not isinstance(row_id, int) or isinstance(row_id, bool) or answered_at.tzinfo is None:
            raise InvalidPublicCursor(f"not a cursor of this feed: {token[:40]!r}")
        return cls(answered_at, row_id)


@dataclass(frozen=True)
class PublicQuery:
    """`text` is already folded (gateway.domain.text.fold); None lists every published answer."""

    text: str | None = None
    typed: str = ""  # the search text as the reader typed it (NFC), shown back in the search box
    after: PublicCursor | None = None
    limit: int = DEFAULT_PAGE

    def words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.text.split())) if self.text else ()
