"""Reports in the console (``/console/reports?period=2026-10``), for viewers and above: a period
picker, the report's figures as tables and two charts, and the same report to download as XLSX or
CSV through ``GET /api/ops/reports`` (the session cookie is valid there too).

The figures are the service's (``gateway.reports``), exactly what the export holds; this module only
names rows in the page's language (kinds, channels and sender types from the catalogue; units,
fields and provinces are data and keep their Vietnamese names).
"""

# No `from __future__ import annotations` here: FastAPI resolves the route signatures at runtime.

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response

from gateway.console.i18n import Translator
from gateway.console.rendering import Pages, translator
from gateway.console.report_charts import age_label, backlog_chart, timeliness_chart
from gateway.domain.operators import Principal, Role
from gateway.domain.report_data import Dimension
from gateway.domain.working_days import VIETNAM
from gateway.ops.auth import OpsAuth
from gateway.ports import StoreError
from gateway.reports.errors import InvalidPeriod, ReportError
from gateway.reports.model import CountRow, Report, SatisfactionRow
from gateway.reports.period import parse_period
from gateway.reports.service import Reports

BASE = "/console/reports"
# how each dimension's codes are named on the page: a catalogue prefix, or the report's own names
CATALOGUE_NAMES = {Dimension.KIND: "kind.", Dimension.CHANNEL: "channel.", Dimension.SENDER_TYPE: "sender."}


@dataclass(frozen=True)
class NamedCount:
    code: str | None
    name: str
    count: int
    width: float  # of the longest bar, in percent


@dataclass(frozen=True)
class DimensionView:
    key: str
    title: str
    rows: tuple[NamedCount, ...]


def quick_periods(now: datetime) -> list[tuple[str, str]]:
    """(catalogue key, period text): this and the last month, quarter and year, in Vietnam time."""
    today = now.astimezone(VIETNAM).date()
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    quarter = (today.month - 1) // 3 + 1
    last_quarter = (today.year - (quarter == 1), (quarter - 2) % 4 + 1)
    return [
        ("reports.this_month", f"{today:%Y-%m}"),
        ("reports.last_month", f"{last_month:%Y-%m}"),
        ("reports.this_quarter", f"{today.year}-Q{quarter}"),
        ("reports.last_quarter", f"{last_quarter[0]}-Q{last_quarter[1]}"),
        ("reports.this_year", f"{today.year}"),
        ("reports.last_year", f"{today.year - 1}"),
    ]


def dimension_views(report: Report, t: Translator) -> list[DimensionView]:
    views = []
    for dimension, rows in report.received.items():
        prefix = CATALOGUE_NAMES.get(dimension)
        most = max((r.count for r in rows), default=0) or 1
        named = tuple(
            NamedCount(r.code, _name(r, prefix, t), r.count, round(r.count / most * 100, 1)) for r in rows
        )
        views.append(DimensionView(dimension.value, t(f"reports.dim.{dimension.value}"), named))
    return views


def _name(row: CountRow, prefix: str | None, t: Translator) -> str:
    if row.code is None:
        return t("reports.unknown")
    if prefix is not None and t.has(prefix + row.code):
        return t(prefix + row.code)
    return row.name


def satisfaction_name(row: SatisfactionRow, t: Translator) -> str:
    return t("reports.unknown") if row.code is None else row.name


def download_url(period: str, format: str) -> str:
    return f"/api/ops/reports?{urlencode({'period': period, 'format': format})}"


def reports_router(
    pages: Pages, auth: OpsAuth, reports: Reports, clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter(prefix=BASE, include_in_schema=False)
    PageViewer = Annotated[Principal, Depends(auth.page(Role.VIEWER))]

    @router.get("")
    async def report_page(
        request: Request,
        principal: PageViewer,
        period: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Response:
        t = translator(request)
        picks = quick_periods(clock())
        text = (period or "").strip() or picks[0][1]
        common: dict[str, Any] = {"picks": picks, "period_text": text}
        try:
            chosen = parse_period(text)
        except InvalidPeriod as exc:
            message = exc.message_vi if t.lang == "vi" else exc.message_en
            return pages.render(
                request, "reports.html", principal=principal, report=None, error=message, status_code=400,
                **common,
            )
        try:
            report = await reports.build(chosen)
        except (ReportError, StoreError) as exc:
            if isinstance(exc, ReportError):
                code, message = exc.code, exc.message_vi if t.lang == "vi" else exc.message_en
            else:
                code, message = "StoreUnavailable", str(exc)
            status = 503 if isinstance(exc, StoreError) else 422
            return pages.render(
                request, "error.html", principal=principal, code=code, message=message,
                back_href=BASE, status_code=status,
            )
        return pages.render(
            request,
            "reports.html",
            principal=principal,
            report=report,
            error=None,
            dimensions=dimension_views(report, t),
            timeliness_svg=timeliness_chart(report.answered, t),
            backlog_svg=backlog_chart(report.backlog, t),
            age_label=lambda row: age_label(row, t),
            satisfaction_name=lambda row: satisfaction_name(row, t),
            xlsx_url=download_url(chosen.text, "xlsx"),
            csv_url=download_url(chosen.text, "csv"),
            **(common | {"period_text": chosen.text}),
        )

    return router
