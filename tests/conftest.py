"""Suite-wide rules: tests are marked by the folder they live in; in CI no test may skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LEVELS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        level = Path(str(item.fspath)).parent.name
        if level in LEVELS:
            item.add_marker(getattr(pytest.mark, level))


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A skip in CI means something the suite promises was not checked (a tool or service missing).
    if os.environ.get("PAKN_NO_SKIPS") and _skipped and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nPAKN_NO_SKIPS is set and {len(_skipped)} test(s) skipped: {_skipped[:10]}")
