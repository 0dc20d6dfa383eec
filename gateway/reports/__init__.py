"""Reports for the ministry's leaders (issue 6): for a period — a month, a quarter, a year or any
range of days — what was received (by kind, field, unit, channel, sender type, 2025 province),
answered on time or late, how long handling took in working days, the open backlog by age,
transfers and withdrawals, and citizens' satisfaction by unit and field.

    period.py     "2026-10", "2026-Q4", "2026", "2026-10-01..2026-12-31" → instants (pure)
    stats.py      mean, median, p90 (nearest rank) of a histogram (pure)
    model.py      the report, its tables, and its arithmetic over the store's counts (pure)
    provinces.py  the 34 provinces and cities of 2025 (vietnam-provinces) and the old codes' mapping
    service.py    the store's reads (calendar table kept current) + names from config → a Report
    export.py     CSV and XLSX (openpyxl), Vietnamese headers
    errors.py     this component's exception tree

The SQL lives in connectors/db/report_queries.py (working days counted there, on the calendar
table of connectors/db/calendar_table.py); the entry points are `pakn-gateway report`,
`GET /api/ops/reports` (viewer) and the console's Reports page (gateway/console/reports_page.py).
"""
