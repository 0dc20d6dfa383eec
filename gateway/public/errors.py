"""Errors of the public answers (gateway.public).

PublicError (code, message_vi, message_en): a public request that cannot be answered as asked
├── InvalidPublicRequest   a search text, cursor or page size that cannot be used     → 400
└── NotPublished           no such answer, or it is not public (the same answer for both:
                           the public learns nothing of what exists but is not published) → 404

`code` is stable and is the problem code of the HTTP answer (gateway.units.problems).
"""

from __future__ import annotations


class PublicError(Exception):
    code = "Public"

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


class InvalidPublicRequest(PublicError):
    code = "InvalidQuery"


class NotPublished(PublicError):
    code = "PublicAnswer.Unknown"
