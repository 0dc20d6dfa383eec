"""The gateway with its nightly message-log prune on: it starts and serves, and a trust store that
could not verify the gateway's own checkpoints stops the start (every prune would be refused)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import signing
from gateway.app import create_app
from gateway.settings import Settings
from gateway.startup_errors import StartupError
from tests.support.amqp import own_vhost
from tests.support.databases import sqlite_url
from tests.support.gateway import live_gateway, suffixed_config


async def test_a_gateway_with_the_nightly_prune_on_starts_and_serves(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    async with own_vhost() as url, live_gateway(
        tmp_path, sqlite_url(tmp_path), amqp_url=url,
        audit_retention_days=365, audit_export_dir=archive, audit_prune_at="03:30",
    ) as gw:
        assert gw.settings.audit_prune_time is not None
        async with httpx.AsyncClient(timeout=10) as http:
            ready = await http.get(f"{gw.base_url}/health/ready")
        assert ready.status_code == 200 and ready.json()["database"] == "ok", ready.text
    assert not archive.exists()  # nothing was due: no file, no directory


def test_a_trust_store_that_cannot_verify_the_gateways_checkpoints_stops_the_start(tmp_path: Path) -> None:
    pki = signing.init_dev_pki(tmp_path / "pki")
    other = signing.init_dev_pki(tmp_path / "other-pki")
    suffixed_config(tmp_path / "config", "RET")
    settings = Settings(
        environment="test", database_url=sqlite_url(tmp_path), config_dir=tmp_path / "config",
        pki_dir=pki.directory, trust_store=[other.directory / "ca.pem"], reconcile_at="off",
        audit_retention_days=365, audit_export_dir=tmp_path / "archive",
    )
    with pytest.raises(StartupError, match="message-log pruning: audit trust store"):
        create_app(settings)
    create_app(settings.model_copy(update={"audit_export_dir": None}))  # prune off: no such check
