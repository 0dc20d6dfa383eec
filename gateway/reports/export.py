"""A report as tables with Vietnamese headers, written as CSV, XLSX (openpyxl) or JSON.

The tables are defined once (`tables`) and every format writes the same ones: a sheet each in
XLSX, a titled section each in CSV (UTF-8 with a byte-order mark, so Excel reads the diacritics),
a list each in JSON. Shares are fractions (0.875) in CSV and JSON, percentages in XLSX cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from gateway.domain.report_data import Dimension
from gateway.domain.working_days import VIETNAM
from gateway.reports.model import Report, TimelinessRow

Cell = str | int | float | None
DIMENSION_TITLES = {
    Dimension.KIND: ("Theo loại", "Loại"),
    Dimension.FIELD: ("Theo lĩnh vực", "Lĩnh vực"),
    Dimension.UNIT: ("Theo đơn vị", "Đơn vị"),
    Dimension.CHANNEL: ("Theo kênh tiếp nhận", "Kênh tiếp nhận"),
    Dimension.SENDER_TYPE: ("Theo đối tượng gửi", "Đối tượng gửi"),
    Dimension.PROVINCE: ("Theo tỉnh, thành phố", "Tỉnh, thành phố (từ 01/7/2025)"),
}
TIMELINESS_HEADERS = (
    "Mã đơn vị",
    "Đơn vị",
    "Đã trả lời",
    "Đúng hạn",
    "Trễ hạn",
    "Không có hạn",
    "Tỷ lệ đúng hạn",
    "Thời gian xử lý trung bình (ngày làm việc)",
    "Trung vị (ngày làm việc)",
    "P90 (ngày làm việc)",
)
SATISFACTION_HEADERS = (
    "Mã",
    "{name}",
    "Số lượt đánh giá",
    "Điểm trung bình (1–5)",
    "Tỷ lệ hài lòng (4–5 điểm)",
)
SHARE_COLUMNS = {"Tỷ lệ đúng hạn", "Tỷ lệ hài lòng (4–5 điểm)"}


@dataclass(frozen=True)
class Table:
    key: str  # stable, for JSON
    title: str  # Vietnamese: sheet name and CSV section title (≤ 31 characters for XLSX)
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _when(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def _timeliness(row: TimelinessRow) -> tuple[Cell, ...]:
    return (
        row.code,
        row.name,
        row.answered,
        row.on_time,
        row.late,
        row.no_deadline,
        row.on_time_share,
        row.mean_days,
        row.median_days,
        row.p90_days,
    )


def tables(report: Report) -> list[Table]:
    total = report.answered_total
    moves = report.movements
    summary: list[tuple[Cell, ...]] = [
        ("Kỳ báo cáo", report.period.label),
        ("Từ ngày", report.period.first.strftime("%d/%m/%Y")),
        ("Đến ngày", report.period.last.strftime("%d/%m/%Y")),
        ("Tồn đọng tính đến", _when(report.as_of)),
        ("Lập lúc", _when(report.generated_at)),
        ("Tổng số tiếp nhận", report.received_total),
        ("Đã trả lời", total.answered),
        ("Trả lời đúng hạn", total.on_time),
        ("Trả lời trễ hạn", total.late),
        ("Trả lời, không có hạn", total.no_deadline),
        ("Tỷ lệ đúng hạn", total.on_time_share),
        ("Thời gian xử lý trung bình (ngày làm việc)", total.mean_days),
        ("Thời gian xử lý trung vị (ngày làm việc)", total.median_days),
        ("Thời gian xử lý P90 (ngày làm việc)", total.p90_days),
        ("Hồ sơ tồn đọng", report.backlog_total),
        ("Trong đó quá hạn", report.backlog_overdue),
        ("Chuyển giữa các đơn vị", moves.transfers_between_units),
        ("Chuyển cơ quan khác (ngoài thẩm quyền)", moves.transfers_out),
        ("Người gửi rút", moves.withdrawals),
        ("Số lượt đánh giá", report.satisfaction_total.feedback),
        ("Điểm hài lòng trung bình (1–5)", report.satisfaction_total.mean_rating),
        ("Tỷ lệ hài lòng (4–5 điểm)", report.satisfaction_total.satisfied_share),
    ]
    out = [Table("summary", "Tổng quan", ("Chỉ tiêu", "Giá trị"), tuple(summary))]
    for dimension, (title, name) in DIMENSION_TITLES.items():
        rows = tuple((r.code, r.name, r.count) for r in report.received[dimension])
        out.append(Table(f"received_{dimension.value}", title, ("Mã", name, "Số tiếp nhận"), rows))
    answered = (*map(_timeliness, report.answered), _timeliness(total))
    out.append(Table("answered_by_unit", "Đúng hạn, trễ hạn", TIMELINESS_HEADERS, answered))
    backlog = tuple((r.label, r.count, r.overdue) for r in report.backlog)
    backlog_headers = ("Thời gian tồn đọng", "Số hồ sơ", "Quá hạn")
    out.append(Table("backlog", "Tồn đọng theo thời gian", backlog_headers, backlog))
    for key, title, name, ratings in (
        ("satisfaction_by_unit", "Hài lòng theo đơn vị", "Đơn vị", report.satisfaction_by_unit),
        ("satisfaction_by_field", "Hài lòng theo lĩnh vực", "Lĩnh vực", report.satisfaction_by_field),
    ):
        headers = tuple(h.format(name=name) for h in SATISFACTION_HEADERS)
        cells = tuple((r.code, r.name, r.feedback, r.mean_rating, r.satisfied_share) for r in ratings)
        out.append(Table(key, title, headers, cells))
    return out


def to_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, table in enumerate(tables(report)):
        if number:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows([_csv_cell(c) for c in row] for row in table.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Cell) -> Cell:
    return round(value, 4) if isinstance(value, float) else value


def to_xlsx(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in tables(report):
        sheet = book.create_sheet(table.title)
        sheet.append(list(table.headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        shares = {i for i, h in enumerate(table.headers) if h in SHARE_COLUMNS}
        for row in table.rows:
            sheet.append(list(row))
            last = sheet.max_row
            for i in shares:
                sheet.cell(last, i + 1).number_format = "0.0%"
            for i, value in enumerate(row):
                if isinstance(value, float) and i not in shares:
                    sheet.cell(last, i + 1).number_format = "0.00"
            if table.key == "summary" and isinstance(row[1], float):
                is_share = str(row[0]).startswith("Tỷ lệ")
                sheet.cell(last, 2).number_format = "0.0%" if is_share else "0.00"
        for column, header in zip(sheet.columns, table.headers, strict=False):
            width = max([len(header)] + [len(str(c.value or "")) for c in column])
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_json(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "period": {
            "text": report.period.text,
            "label": report.period.label,
            "first_day": report.period.first.isoformat(),
            "last_day": report.period.last.isoformat(),
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
        },
        "as_of": report.as_of.isoformat(),
        "generated_at": report.generated_at.isoformat(),
        "tables": [],
    }
    for table in tables(report):
        rows: Sequence[tuple[Cell, ...]] = table.rows
        doc["tables"].append(
            {
                "key": table.key,
                "title": table.title,
                "headers": list(table.headers),
                "rows": [list(r) for r in rows],
            }
        )
    return doc
