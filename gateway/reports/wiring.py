"""The reports service built from settings (the CLI) or from the running gateway's runtime."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.report_queries import SqlReportQueries
from gateway.bootstrap import Runtime
from gateway.deadlines.config import load_policy
from gateway.domain.working_days import WorkingCalendar
from gateway.inbound.intake import utc_now
from gateway.reports.provinces import load_provinces
from gateway.reports.service import Reports
from gateway.routing_config import GatewayConfig
from gateway.settings import Settings


def build_reports(
    engine: AsyncEngine, settings: Settings, config: GatewayConfig, calendar: WorkingCalendar | None = None
) -> Reports:
    """Raises StartupError for a bad calendar or provinces file, as the gateway's start does."""
    calendar = calendar or load_policy(settings.config_dir).calendar
    provinces = load_provinces(settings.config_dir)
    return Reports(SqlReportQueries(engine), calendar, config.routing, provinces, utc_now)


def reports_of(rt: Runtime) -> Reports:
    calendar = rt.deadlines.calendar if rt.deadlines is not None else None
    return build_reports(rt.engine, rt.settings, rt.config, calendar)
