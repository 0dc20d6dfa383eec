"""Errors of the reports (gateway.reports).

ReportError (code, message_vi, message_en)
├── InvalidPeriod      a period that cannot be read, or ends before it starts   → 400 InvalidQuery
└── ReportUnavailable  the report cannot be computed (no working-day calendar,
                       a date outside the calendar's years)                       → 422 / exit 1

`code` is stable and is the problem code of the HTTP answer (gateway.units.problems).
"""

from __future__ import annotations


class ReportError(Exception):
    code = "Report"

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


class InvalidPeriod(ReportError):
    code = "InvalidQuery"


class ReportUnavailable(ReportError):
    code = "Report.Unavailable"
