"""Errors of the operators' case and unit services (gateway.ops.case_search, case_page, units_admin).

OpsError (code, message_vi, message_en): a request that cannot be done as asked
├── InvalidRequest       a search parameter, cursor or label that cannot be used  → 400
├── NotFound             no such case, logged message, document, unit or token   → 404
├── PersonalDataHidden   the caller's role sees personal data masked, and this
│                        document cannot be masked (signed raw XML, PDF, files)   → 403
└── RoleTooLow           the caller's role may not do this (services check too)  → 403

`code` is stable and is the problem code of the HTTP answer (gateway.units.problems).
"""

from __future__ import annotations


class OpsError(Exception):
    code = "Ops"

    def __init__(self, message_vi: str, message_en: str, *, code: str | None = None) -> None:
        super().__init__(message_en)
        self.code = code or type(self).code
        self.message_vi = message_vi
        self.message_en = message_en


class InvalidRequest(OpsError):
    code = "Search.Invalid"


class NotFound(OpsError):
    code = "UnknownCase"


class PersonalDataHidden(OpsError):
    code = "PersonalData.Hidden"


class RoleTooLow(OpsError):
    code = "Forbidden"
