"""A report for a period: the store's reads (connectors.db.report_queries), the working-day
calendar (config/calendar.yaml), names from config/ and the 2025 provinces, put together.

The store counts working days itself, on a calendar table it keeps a copy of the gateway's
calendar in: `prepare()` refreshes that copy when the calendar changed (the gateway calls it at
start; the first report of a process calls it too, so the CLI needs nothing more)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Protocol

from gateway.domain.petition import Channel, Kind, SenderType
from gateway.domain.report_data import (
    BacklogGroup,
    Dimension,
    GroupCount,
    HandlingGroup,
    Movements,
    RatingCell,
)
from gateway.domain.routing import RoutingTable
from gateway.domain.working_days import WorkingCalendar
from gateway.reports import model
from gateway.reports.period import Period
from gateway.reports.provinces import Provinces

KIND_NAMES = {
    Kind.PHAN_ANH.value: "Phản ánh",
    Kind.KIEN_NGHI.value: "Kiến nghị",
    Kind.HOI_DAP.value: "Hỏi đáp chính sách",
    Kind.CU_TRI.value: "Kiến nghị cử tri",
    Kind.DBQH.value: "Kiến nghị của đại biểu Quốc hội",
}
CHANNEL_NAMES = {
    Channel.WEB.value: "Cổng thông tin (web)",
    Channel.APP.value: "Ứng dụng di động",
    Channel.PHONE.value: "Điện thoại",
    Channel.EMAIL.value: "Thư điện tử",
    Channel.POST.value: "Bưu chính",
    Channel.DIRECT.value: "Trực tiếp",
}
SENDER_NAMES = {
    SenderType.CA_NHAN.value: "Cá nhân",
    SenderType.DOANH_NGHIEP.value: "Doanh nghiệp",
    SenderType.TO_CHUC.value: "Tổ chức",
    SenderType.CU_TRI.value: "Cử tri",
    SenderType.DAI_BIEU.value: "Đại biểu Quốc hội",
}


class ReportReads(Protocol):
    async def prepare_calendar(self, calendar: WorkingCalendar) -> bool:
        """Make the store's calendar table match `calendar`; True when it had to be rewritten."""
        ...

    async def received(self, dimension: Dimension, start: datetime, end: datetime) -> list[GroupCount]: ...

    async def answered(
        self, start: datetime, end: datetime, office_close: time
    ) -> list[HandlingGroup]: ...

    async def open_at(self, moment: datetime, office_close: time) -> list[BacklogGroup]: ...

    async def movements(self, start: datetime, end: datetime) -> Movements: ...

    async def ratings(self, start: datetime, end: datetime) -> list[RatingCell]: ...


class Reports:
    def __init__(
        self,
        reads: ReportReads,
        calendar: WorkingCalendar,
        routing: RoutingTable,
        provinces: Provinces,
        clock: Callable[[], datetime],
    ) -> None:
        self._reads = reads
        self._calendar = calendar
        self._provinces = provinces
        self._clock = clock
        self._units = {code: unit.name for code, unit in routing.units.items()}
        self._fields = {code: f.name for code, f in routing.fields.items()}
        self._prepared = False

    async def prepare(self) -> bool:
        """Bring the store's calendar table in line with this calendar (True: it was rewritten)."""
        refreshed = await self._reads.prepare_calendar(self._calendar)
        self._prepared = True
        return refreshed

    async def build(self, period: Period) -> model.Report:
        if not self._prepared:
            await self.prepare()
        now = self._clock()
        close = self._calendar.office_close
        as_of = min(period.end, now)
        start, end = period.start, period.end
        names = {
            Dimension.KIND: (KIND_NAMES, _same),
            Dimension.FIELD: (self._fields, _same),
            Dimension.UNIT: (self._units, _same),
            Dimension.CHANNEL: (CHANNEL_NAMES, _same),
            Dimension.SENDER_TYPE: (SENDER_NAMES, _same),
            Dimension.PROVINCE: (self._provinces.names, self._provinces.current),
        }
        received = {}
        for dimension, (labels, to_code) in names.items():
            groups = await self._reads.received(dimension, start, end)
            received[dimension] = model.count_rows(groups, labels, to_code)
        by_unit, total = model.timeliness(await self._reads.answered(start, end, close), self._units)
        ratings = await self._reads.ratings(start, end)
        return model.Report(
            period=period,
            as_of=as_of,
            generated_at=now,
            received_total=sum(row.count for row in received[Dimension.KIND]),
            received=received,
            answered=by_unit,
            answered_total=total,
            backlog=model.backlog(await self._reads.open_at(as_of, close)),
            movements=await self._reads.movements(start, end),
            satisfaction_by_unit=model.satisfaction([r.by(unit=True) for r in ratings], self._units),
            satisfaction_by_field=model.satisfaction([r.by(unit=False) for r in ratings], self._fields),
            satisfaction_total=model.satisfaction_total(r.by(unit=True) for r in ratings),
        )


def _same(code: str | None) -> str | None:
    return code
