"""The operators' case and unit services as one bundle: the REST routes (cases_api, units_api) and
the HTML console render from the same objects, built once in gateway.bootstrap.build_case_ops."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.ops.case_page import CasePages
from gateway.ops.case_search import CaseSearch
from gateway.ops.units_admin import UnitsAdmin


@dataclass(frozen=True)
class CaseOps:
    search: CaseSearch
    pages: CasePages
    units: UnitsAdmin
