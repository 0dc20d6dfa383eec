"""`GET /api/ops/reports` over real HTTP (SQLite and PostgreSQL): a viewer's session gets the
report as JSON, CSV or XLSX; no session, no report; a bad period is a problem document."""

from __future__ import annotations

import io

import httpx
import openpyxl
import pytest

from tests.e2e.unit_side import problem
from tests.support.gateway import LiveGateway
from tests.support.operators import add_operator, alogin
from tests.support.report_seed import make_seed, write_seed

pytestmark = pytest.mark.e2e


async def test_a_viewer_reads_the_report_in_each_format(gateway: LiveGateway) -> None:
    units = tuple(gateway.units[code] for code in ("VBHXH", "CVL", "CNCC", "VPB"))
    cases = make_seed(units=units)
    await write_seed(gateway.engine, cases)
    await add_operator(gateway.settings.database_url, "lan", role="viewer")
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as http:
        problem(await http.get("/api/ops/reports", params={"period": "2026-10"}), 401, "Unauthenticated")
        await alogin(http, "lan")
        got = await http.get("/api/ops/reports", params={"period": "2026-10"})
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["period"]["label"] == "Tháng 10/2026" and body["period"]["start"].endswith("+07:00")
        tables = {t["key"]: t for t in body["tables"]}
        summary = dict(tables["summary"]["rows"])
        october = [c for c in cases if c.received_at.strftime("%Y-%m") == "2026-10"]
        assert summary["Tổng số tiếp nhận"] == len(october) > 0
        units_table = {row[0]: row for row in tables["answered_by_unit"]["rows"]}
        assert units_table[gateway.units["VBHXH"]][1] == "Vụ Bảo hiểm xã hội"
        assert tables["received_province"]["headers"][1] == "Tỉnh, thành phố (từ 01/7/2025)"

        sheet = await http.get("/api/ops/reports", params={"period": "2026-10", "format": "xlsx"})
        assert sheet.status_code == 200
        assert "bao-cao-pakn-2026-10.xlsx" in sheet.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(sheet.content))
        rows = {r[0]: r[1] for r in book["Tổng quan"].iter_rows(min_row=2, values_only=True)}
        assert rows["Tổng số tiếp nhận"] == len(october)
        text = await http.get("/api/ops/reports", params={"period": "2026-10", "format": "csv"})
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
        assert "Tổng số tiếp nhận" in text.content.decode("utf-8-sig")

        bad = problem(await http.get("/api/ops/reports", params={"period": "tháng 10"}), 400, "InvalidQuery")
        assert "Kỳ báo cáo" in bad["detail_vi"]
        # a period still running: its backlog is today's
        running = (await http.get("/api/ops/reports", params={"period": "2099"})).json()
        assert running["as_of"] == running["generated_at"]
