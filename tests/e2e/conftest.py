"""End-to-end fixtures: the gateway over real HTTP on SQLite and PostgreSQL, real RabbitMQ."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.amqp import own_vhost
from tests.support.databases import PG_URL, fresh_pg_database, sqlite_url
from tests.support.gateway import LiveGateway, live_gateway


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    async with fresh_pg_database(PG_URL) as url:
        yield url


@pytest.fixture
async def gateway(any_db_url: str, tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """The gateway on each database backend."""
    async with live_gateway(tmp_path, any_db_url) as live:
        yield live


@pytest.fixture
async def sqlite_gateway(tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """The gateway on SQLite only, for tests whose subject is not the store."""
    async with live_gateway(tmp_path, sqlite_url(tmp_path)) as live:
        yield live


@pytest.fixture
async def gw(any_db_url: str, tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """The gateway on each backend, on a RabbitMQ virtual host of its own: it consumes
    ``pakn.gateway.replies``, which gateways of concurrent runs on one vhost would share."""
    async with own_vhost() as url, live_gateway(tmp_path, any_db_url, amqp_url=url) as live:
        yield live
