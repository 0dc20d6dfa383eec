"""A started gateway keeps the objects of its start out of the collector's full passes (they are
walked again at every one of them: ~200 ms with the process stopped), and gives them back at stop."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import httpx
import pytest

from tests.support.databases import sqlite_url
from tests.support.gateway import live_gateway

pytestmark = pytest.mark.e2e


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


async def test_the_start_is_frozen_while_serving_and_thawed_at_stop(tmp_path: Path) -> None:
    before = gc.get_freeze_count()
    async with live_gateway(tmp_path, sqlite_url(tmp_path)) as live:
        frozen = gc.get_freeze_count()
        # the WSDL and XSD models, SQLAlchemy's mappers, the routes: far more than a test's own
        assert frozen - before > 50_000
        async with httpx.AsyncClient(base_url=live.base_url) as http:
            assert (await http.get("/healthz")).status_code == 200
        made_now = _Node()
        gone = weakref.ref(made_now)
        del made_now
        gc.collect()
        assert gone() is None, "a cycle made while serving is still collected"
    assert gc.get_freeze_count() == 0
